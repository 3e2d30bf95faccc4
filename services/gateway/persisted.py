"""Persisted queries: a client sends a document's SHA-256 hash instead of the document.

Two request shapes name a document by hash:
- Apollo's automatic persisted queries: `extensions.persistedQuery = {version: 1, sha256Hash}`,
  with or without `query` (POST body, or GET URL parameters);
- the GraphQL-over-HTTP persisted-documents appendix: `documentId = "sha256:<hash>"`.

The hash is the lower-case hex SHA-256 of the document's exact UTF-8 text.

Modes (`HUBBEN_GRAPHQL_PERSISTED_QUERIES`):
- `auto` (default): a hash alone runs the document registered under it, or is answered with
  PERSISTED_QUERY_NOT_FOUND; a hash with its document is checked (BAD_USER_INPUT when they
  differ), run, and registered once it has parsed and validated. Full documents without a
  hash run as always.
- `allowlist`: only the documents of the manifest (`HUBBEN_GRAPHQL_ALLOWLIST`, a JSON object
  `{sha256: document}`) run, named by hash or sent in full; anything else is refused with
  PERSISTED_QUERY_NOT_ALLOWED before it is parsed, and nothing is registered. The panel and
  the map mounted in the gateway call it in-process and are trusted (`FIRST_PARTY`).
- `off`: a hash is answered with PERSISTED_QUERY_NOT_SUPPORTED (Apollo's clients then stop
  sending hashes).

Registered documents live in an in-process LRU (`graphql_persisted_queries_cache_size`
entries, documents up to MAX_DOCUMENT_CHARS), in front of Redis when one is configured:
there under `graphql:pq:<hash>` with a sliding TTL (`graphql_persisted_queries_ttl_seconds`,
renewed on every Redis read), so every gateway process shares them and unused ones go. A
hash names its content, so a cached copy is never stale. Redis being down degrades to
PERSISTED_QUERY_NOT_FOUND, after which clients send the full document."""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import structlog
from redis.exceptions import RedisError

log = structlog.get_logger("hubben.gateway.persisted")

Mode = Literal["auto", "allowlist", "off"]
KEY_PREFIX = "graphql:pq:"
# Longer documents run but are not registered: the cache holds at most size x this.
MAX_DOCUMENT_CHARS = 64 * 1024
_HEX64 = re.compile(r"[0-9a-f]{64}")

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
NOT_ALLOWED = "PERSISTED_QUERY_NOT_ALLOWED"
NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
# With application/graphql-response+json (request errors need a 4xx); application/json
# answers them with 200, as Apollo's servers do and its clients expect. 404 for a miss, not
# 400: Apollo Client turns persisted queries off for good on a 400 or 500.
STATUS = {NOT_FOUND: 404, NOT_ALLOWED: 403, NOT_SUPPORTED: 400, "BAD_USER_INPUT": 400}


class PersistedQueryError(Exception):
    """The persisted-query part of a request refused: a GraphQL request error with this code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def status(self) -> int:
        return STATUS[self.code]


def sha256_hex(document: str) -> str:
    try:
        return hashlib.sha256(document.encode("utf-8")).hexdigest()
    except UnicodeEncodeError as exc:  # a lone surrogate, from a JSON "\ud800" escape
        raise PersistedQueryError("BAD_USER_INPUT", "the query is not valid Unicode text") from exc


@dataclass(frozen=True)
class Resolved:
    query: str
    # The hash to register the document under once it has parsed and validated.
    register: str | None = None


class DocumentStore:
    """Registered documents by hash: an in-process LRU, in front of Redis when given."""

    def __init__(self, redis: Any | None, ttl_seconds: int, cache_size: int) -> None:
        self.redis = redis
        self.ttl_seconds = ttl_seconds
        self.cache_size = cache_size
        self._cache: OrderedDict[str, str] = OrderedDict()

    def cached(self, sha: str) -> bool:
        return sha in self._cache

    def _remember(self, sha: str, document: str) -> None:
        if self.cache_size <= 0:
            return
        self._cache[sha] = document
        self._cache.move_to_end(sha)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    async def get(self, sha: str) -> str | None:
        document = self._cache.get(sha)
        if document is not None:
            self._cache.move_to_end(sha)
            return document
        if self.redis is None:
            return None
        try:
            raw = await self.redis.getex(KEY_PREFIX + sha, ex=self.ttl_seconds)
        except RedisError as exc:
            log.warning("persisted_query.redis_unavailable", error=repr(exc))
            return None
        if raw is None:
            return None
        document = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
        self._remember(sha, document)
        return document

    async def put(self, sha: str, document: str) -> None:
        if len(document) > MAX_DOCUMENT_CHARS:
            return
        self._remember(sha, document)
        if self.redis is None:
            return
        try:
            await self.redis.set(KEY_PREFIX + sha, document, ex=self.ttl_seconds)
        except RedisError as exc:  # the query ran; the next process asks for the document again
            log.warning("persisted_query.redis_unavailable", error=repr(exc))


class PersistedQueries:
    """Turns a request's query, extensions and documentId into the document to run, or refuses."""

    def __init__(self, mode: Mode, store: DocumentStore, allowlist: dict[str, str] | None = None) -> None:
        if mode == "allowlist" and allowlist is None:
            raise ValueError("allow-list mode needs the manifest's documents")
        self.mode = mode
        self.store = store
        self.allowlist = allowlist or {}

    @staticmethod
    def requested_hash(extensions: dict[str, Any] | None, document_id: Any) -> str | None:
        """The hash the request names, if any; a malformed one is BAD_USER_INPUT."""
        sha: str | None = None
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is not None:
            if not isinstance(persisted, dict):
                raise PersistedQueryError(
                    "BAD_USER_INPUT", "extensions.persistedQuery must be an object {version: 1, sha256Hash}"
                )
            if persisted.get("version") != 1:
                raise PersistedQueryError("BAD_USER_INPUT", "extensions.persistedQuery.version must be 1")
            value = persisted.get("sha256Hash")
            if not isinstance(value, str) or not _HEX64.fullmatch(value.lower()):
                raise PersistedQueryError(
                    "BAD_USER_INPUT", "extensions.persistedQuery.sha256Hash must be 64 hexadecimal digits"
                )
            sha = value.lower()
        if document_id is not None:
            if not isinstance(document_id, str) or not (
                document_id.startswith("sha256:") and _HEX64.fullmatch(document_id[7:])
            ):
                raise PersistedQueryError(
                    "BAD_USER_INPUT", "documentId must be 'sha256:' and 64 lower-case hexadecimal digits"
                )
            if sha is not None and sha != document_id[7:]:
                raise PersistedQueryError(
                    "BAD_USER_INPUT", "documentId and extensions.persistedQuery.sha256Hash name different documents"
                )
            sha = document_id[7:]
        return sha

    async def resolve(
        self, query: str | None, extensions: dict[str, Any] | None, document_id: Any, *, trusted: bool = False
    ) -> Resolved | None:
        """The document to run; None when the request names none (the caller says what is missing).
        `trusted` callers (the gateway's own mounted apps) may run any document in allow-list mode."""
        sha = self.requested_hash(extensions, document_id)
        if sha is None:
            if query is None:
                return None
            if self.mode == "allowlist" and not trusted and sha256_hex(query) not in self.allowlist:
                raise PersistedQueryError(NOT_ALLOWED, "this document is not on the server's allow-list")
            return Resolved(query)
        if self.mode == "off":
            raise PersistedQueryError(NOT_SUPPORTED, "persisted queries are turned off on this server")
        if query is not None:
            if sha256_hex(query) != sha:
                raise PersistedQueryError("BAD_USER_INPUT", "the query's SHA-256 hash is not the hash sent with it")
            if self.mode == "allowlist":
                if not trusted and sha not in self.allowlist:
                    raise PersistedQueryError(NOT_ALLOWED, "this document is not on the server's allow-list")
                return Resolved(query)
            return Resolved(query, None if self.store.cached(sha) else sha)
        if self.mode == "allowlist":
            listed = self.allowlist.get(sha)
            if listed is None:
                raise PersistedQueryError(NOT_ALLOWED, "no document with this hash is on the server's allow-list")
            return Resolved(listed)
        document = await self.store.get(sha)
        if document is None:
            # Apollo's clients look for this message as well as for the code.
            raise PersistedQueryError(NOT_FOUND, "PersistedQueryNotFound")
        return Resolved(document)

    async def register(self, sha: str, document: str) -> None:
        await self.store.put(sha, document)


class ManifestError(ValueError):
    pass


def load_manifest(path: Path) -> dict[str, str]:
    """The allow-list manifest: a JSON object {sha256 hex: document}, every hash checked."""
    try:
        raw = json.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise ManifestError(f"cannot read the GraphQL allow-list {path}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise ManifestError(f"the GraphQL allow-list {path} is not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise ManifestError(f"the GraphQL allow-list {path} must be a JSON object {{sha256: document}}")
    documents: dict[str, str] = {}
    for sha, document in raw.items():
        if not isinstance(document, str) or not document.strip():
            raise ManifestError(f"the GraphQL allow-list {path}: the entry {sha[:80]!r} is not a document")
        actual = hashlib.sha256(document.encode("utf-8", "surrogatepass")).hexdigest()
        if sha.lower() != actual:
            raise ManifestError(
                f"the GraphQL allow-list {path}: the entry {sha[:80]!r} is not its document's SHA-256 ({actual})"
            )
        documents[actual] = document
    return documents


def build_manifest(documents: list[str]) -> dict[str, str]:
    return {sha256_hex(d): d for d in documents}


# The map's browser script (services/web/static/karta.js) sends this one document itself.
MAP_SCRIPT = Path(__file__).resolve().parent.parent / "web" / "static" / "karta.js"
_JS_QUERY = re.compile(r"var\s+QUERY\s*=\s*((?:\"(?:[^\"\\]|\\.)*\"\s*\+?\s*)+);")


def map_script_document(script: Path = MAP_SCRIPT) -> str:
    """The GraphQL document karta.js sends (its `var QUERY = "..." + "...";`)."""
    found = _JS_QUERY.search(script.read_text("utf-8"))
    if found is None:
        raise ManifestError(f'no `var QUERY = "...";` in {script}')
    return "".join(json.loads(part) for part in re.findall(r"\"(?:[^\"\\]|\\.)*\"", found.group(1)))
