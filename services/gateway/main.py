"""ASGI entry point: `uvicorn services.gateway.main:app`."""

from services.gateway.app import create_app
from shared.settings import get_settings

app = create_app(get_settings())
