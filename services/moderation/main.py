"""ASGI entry point of the moderation service on its own: `hubben serve --service moderation`."""

from services.moderation.api import create_app
from shared.settings import get_settings

app = create_app(get_settings())
