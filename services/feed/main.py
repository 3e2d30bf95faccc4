"""ASGI entry point of the feed service on its own: `hubben serve --service feed`."""

from services.feed.api import create_app
from shared.settings import get_settings

app = create_app(get_settings())
