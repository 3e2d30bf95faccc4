"""ASGI entry point of the graph service on its own: `hubben serve --service graph`."""

from services.graph.api import create_app
from shared.settings import get_settings

app = create_app(get_settings())
