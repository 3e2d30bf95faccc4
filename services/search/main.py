"""ASGI entry point of the search service on its own: `hubben serve --service search`."""

from services.search.api import create_app
from shared.settings import get_settings

app = create_app(get_settings())
