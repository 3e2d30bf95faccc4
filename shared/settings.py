"""Process-wide configuration, read once from `HUBBEN_*` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUBBEN_", extra="ignore")

    # Where embedded state (SQLite files, keys, search index) lives.
    var_dir: Path = Path("var")
    # Empty means the embedded default: one SQLite file per service under var_dir.
    database_url: str = ""
    # Prepended to each service's PostgreSQL schema name (tests use it to stay apart).
    database_schema_prefix: str = ""
    database_pool_size: int = 10
    # A pooled PostgreSQL connection idle longer than this is checked (a round trip) before
    # use, so one the server dropped meanwhile is replaced; busier ones are used as they are.
    database_ping_after_idle_seconds: float = Field(default=10.0, ge=0)
    redis_url: str = ""
    # Base URL of a graph service running in its own process; empty means in-process.
    graph_url: str = ""
    # Base URL of a feed service running in its own process; empty means in-process.
    feed_url: str = ""
    # Base URL of a search service running in its own process; empty means in-process.
    search_url: str = ""

    # Base URL of a moderation service running in its own process; empty means in-process.
    moderation_url: str = ""
    # Base URL of the gateway, for the admin panel (services/web) when it runs on its own;
    # empty means the gateway of this process.
    gateway_url: str = ""

    # Search: Meilisearch when meili_url is set, else the embedded Tantivy index under
    # var_dir/search. meili_index names the live index (a reindex swaps a new one in).
    meili_url: str = ""
    meili_api_key: str = ""
    meili_index: str = "hubben"

    # JWT key pair (PEM). Empty private key in the embedded default: generated under var_dir.
    jwt_private_key: str = ""
    jwt_public_key: str = ""
    jwt_issuer: str = "hubben"
    jwt_audience: str = "hubben-api"
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_days: int = 30
    internal_token_ttl_seconds: int = 60

    # Argon2id cost (RFC 9106's second recommendation by default). Stored hashes carry
    # their own parameters, and a log-in rehashes when these change.
    password_hash_time_cost: int = Field(default=3, ge=1, le=20)
    password_hash_memory_kib: int = Field(default=65536, ge=1024, le=4 * 1024 * 1024)
    password_hash_parallelism: int = Field(default=4, ge=1, le=16)

    # Log-in throttling: failed attempts allowed per account and per client address within
    # the window; beyond them log-ins are refused (RATE_LIMITED) until the window moves on.
    login_max_failures_per_account: int = Field(default=5, ge=1, le=1000)
    login_max_failures_per_ip: int = Field(default=20, ge=1, le=100_000)
    login_throttle_window_seconds: int = Field(default=900, ge=10, le=86_400)

    # Moderation: distinct reporters after which content is hidden pending review, and
    # reports one member may file per hour.
    moderation_auto_hide_reporters: int = Field(default=3, ge=1, le=1000)
    moderation_reports_per_hour: int = Field(default=20, ge=1, le=10_000)
    # The admin panel's session cookie is encrypted with this key (Fernet, urlsafe base64
    # of 32 bytes). Empty in the embedded default: generated once under var_dir.
    web_session_key: str = ""

    email_token_ttl_hours: int = 24
    password_reset_ttl_minutes: int = 60

    # Jobs: attempts before a job is parked in the dead-letter table, the first retry's
    # delay (doubling each time, at most a minute) and how long one run may take.
    job_max_tries: int = Field(default=6, ge=1, le=50)
    job_retry_seconds: float = Field(default=0.5, gt=0, le=60)
    job_timeout_seconds: int = Field(default=60, ge=1, le=3600)
    # Run the outbox relays and jobs inside `hubben serve` (the one-machine default);
    # false when `hubben worker` processes do it.
    run_jobs_in_process: bool = True
    # The arq queue (a Redis key): installations sharing one Redis keep apart by it.
    job_queue: str = "arq:queue"

    # Home timelines: entries kept per member in Redis, followers per fan-out batch, and
    # the follower count above which a source is merged in on read instead of fanned out.
    # Batches are big because a job costs more than a timeline does (bench/fanout.py);
    # Redis still serves others every 1,000 timelines (services.feed.timelines).
    timeline_cap: int = Field(default=800, ge=10, le=100_000)
    fanout_batch: int = Field(default=10_000, ge=1, le=100_000)
    fanout_max_followers: int = Field(default=10_000, ge=1)

    # Email. An empty smtp_host writes mails to the log instead of sending them.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_tls: bool = False
    smtp_timeout_seconds: float = 10.0
    mail_from: str = "Hubben <noreply@hubben.local>"
    # Local hour (Europe/Stockholm) at which the daily digest goes out.
    digest_hour: int = Field(default=7, ge=0, le=23)

    # The public map (/karta): its tile server as an XYZ URL with {z}, {x} and {y} (and
    # optionally {s}, {r}); empty draws the markers on a plain background. The attribution
    # (plain text, with an optional link) is shown on the map, as tile servers' terms require.
    map_tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    map_tile_attribution: str = "© OpenStreetMap contributors"
    map_tile_attribution_url: str = "https://www.openstreetmap.org/copyright"

    # GraphQL request limits, checked before execution (docs/api.md, "Limits"): the nesting
    # of selections, aliased fields, lexical tokens, the bytes of the document (checked
    # before parsing) and of its variables, and the computed cost of one operation.
    graphql_max_depth: int = Field(default=12, ge=1, le=100)
    graphql_max_aliases: int = Field(default=30, ge=0, le=10_000)
    graphql_max_tokens: int = Field(default=2000, ge=10, le=1_000_000)
    graphql_max_document_bytes: int = Field(default=32 * 1024, ge=100, le=16 * 1024 * 1024)
    graphql_max_variables_bytes: int = Field(default=256 * 1024, ge=100, le=16 * 1024 * 1024)
    graphql_max_cost: int = Field(default=10_000, ge=1)
    # Rate limits: cost points per caller per window, kept in Redis (in-process without it).
    # A personal access token and a signed-in member each have their own budget; anonymous
    # calls share one per client address.
    rate_limit_token_points: int = Field(default=50_000, ge=1)
    rate_limit_member_points: int = Field(default=50_000, ge=1)
    rate_limit_anonymous_points: int = Field(default=10_000, ge=1)
    rate_limit_window_seconds: int = Field(default=3600, ge=1, le=86_400)

    # GraphQL persisted queries (services/gateway/persisted.py): `auto` registers a document
    # under its SHA-256 on first use, `allowlist` runs only the documents of the JSON manifest
    # {sha256: document} at graphql_allowlist (`hubben graphql manifest` builds one), `off`
    # refuses hashes. Registered documents stay in Redis for the TTL after their last read
    # from it (when Redis is configured), and in an in-process LRU of cache_size entries.
    graphql_persisted_queries: Literal["auto", "allowlist", "off"] = "auto"
    graphql_allowlist: Path | None = None
    graphql_persisted_queries_ttl_seconds: int = Field(default=7 * 86_400, ge=60, le=365 * 86_400)
    graphql_persisted_queries_cache_size: int = Field(default=1000, ge=0, le=100_000)

    public_url: str = "http://127.0.0.1:8000"
    demo_data: bool = True
    environment: Literal["development", "production", "test"] = "development"
    max_body_bytes: int = Field(default=1024 * 1024)
    log_level: str = "info"

    @field_validator("map_tile_url")
    @classmethod
    def _tile_url(cls, value: str) -> str:
        value = value.strip()
        if not value:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or "{" in parts.netloc.replace("{s}", ""):
            raise ValueError("an http(s) URL whose host may hold only the {s} placeholder")
        if not all(p in value for p in ("{z}", "{x}", "{y}")):
            raise ValueError("a tile URL needs the {z}, {x} and {y} placeholders")
        return value

    @field_validator("map_tile_attribution_url")
    @classmethod
    def _attribution_url(cls, value: str) -> str:
        value = value.strip()
        if value and urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("an http(s) URL, or empty")
        return value

    @field_validator("graphql_allowlist", mode="before")
    @classmethod
    def _no_allowlist(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _allowlist_given(self) -> Settings:
        if self.graphql_persisted_queries == "allowlist" and self.graphql_allowlist is None:
            raise ValueError(
                "HUBBEN_GRAPHQL_PERSISTED_QUERIES=allowlist needs HUBBEN_GRAPHQL_ALLOWLIST, the path of the manifest"
            )
        return self

    @property
    def embedded(self) -> bool:
        return not self.database_url

    def service_database_url(self, service: str) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.var_dir / f'{service}.db').as_posix()}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
