"""Which search engine these settings name: Meilisearch at HUBBEN_MEILI_URL, else the
embedded Tantivy index under var_dir/search/tantivy."""

from __future__ import annotations

from services.search.engine import SearchEngine
from shared.settings import Settings


def open_engine(settings: Settings) -> SearchEngine:
    if settings.meili_url:
        from services.search.meili_engine import MeiliEngine

        return MeiliEngine(settings.meili_url, settings.meili_api_key, settings.meili_index)
    from services.search.tantivy_engine import TantivyEngine

    return TantivyEngine(settings.var_dir / "search" / "tantivy")
