"""What the services that own searchable things hand to the search service: one
`IndexDocument` per member, organisation, hub, initiative, post or event, and for a viewer the
`SearchScope` that decides what they may find. The graph and feed services serve these
from `GET /v1/internal/search/documents` (and the graph `GET /v1/internal/search/scope`);
the search service maps them into its engine. Only services may call those routes."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from shared.errors import BadUserInput

SEARCH_DOCUMENTS_PATH = "/v1/internal/search/documents"
SEARCH_SCOPE_PATH = "/v1/internal/search/scope"
# The most documents one page of an export or one lookup by ids returns.
MAX_DOCUMENTS_PER_CALL = 500


class DocType(StrEnum):
    member = "member"
    organisation = "organisation"
    hub = "hub"
    post = "post"
    event = "event"
    initiative = "initiative"


# Which service owns which type of document.
OWNER = {
    DocType.member: "graph",
    DocType.organisation: "graph",
    DocType.hub: "graph",
    DocType.post: "feed",
    DocType.event: "feed",
    DocType.initiative: "graph",
}


class Audience(StrEnum):
    """Who may find a document: anyone; any signed-in member; members of its hub."""

    public = "public"
    members = "members"
    hub_members = "hub_members"


class Language(StrEnum):
    sv = "sv"
    en = "en"


class IndexDocument(BaseModel):
    """A searchable thing as its owner sees it now. Only what may be shown is exported:
    deleted, hidden or removed things are not documents at all (they are `gone`)."""

    type: DocType
    id: int
    language: Language = Language.sv  # picks the stemmer; Swedish unless the owner knows better
    title: str  # a name, a display name, a post's or event's title (a post without one: "")
    text: str = ""  # headline, bio, summary, description, body; what full-text search reads besides the title
    tags: list[str] = Field(default_factory=list)  # post tags, member skills
    county_codes: list[str] = Field(default_factory=list)  # official two-digit codes
    municipality_codes: list[str] = Field(default_factory=list)  # official four-digit codes
    organisation_kind: str | None = None  # of the organisation, or of the organisation a post speaks for
    organisation_id: int | None = None
    hub_id: int | None = None  # the hub itself, or the hub an item is in
    author_id: int | None = None  # the member behind it (a member's own document: the member)
    audience: Audience = Audience.public
    created_at: datetime
    starts_at: datetime | None = None  # events only
    ends_at: datetime | None = None  # events only
    # Initiatives only: codes of services/graph/initiatives_reference.py, and AI techniques
    # (lower-case tags of their own: a technique filter finds initiatives, not posts' tags).
    area: str | None = None
    status: str | None = None
    techniques: list[str] = Field(default_factory=list)

    @property
    def key(self) -> str:
        return document_key(self.type, self.id)


def document_key(doc_type: DocType | str, doc_id: int) -> str:
    return f"{DocType(doc_type).value}:{doc_id}"


class DocumentPage(BaseModel):
    """Documents of one type: by ids (`gone` lists the asked-for ids that must leave the
    index), or a page of an export in id order (`next_after` continues it; None at the end)."""

    documents: list[IndexDocument]
    gone: list[int] = Field(default_factory=list)
    next_after: int | None = None


class SearchScope(BaseModel):
    """What a signed-in viewer may find beyond public documents: members-only documents,
    and hub-members documents of the hubs they belong to (active memberships); never
    anything of or by a member on either side of a block with them, nor posts and events
    by members they muted (muted members themselves stay findable, to be unmuted)."""

    member_id: int
    hub_ids: list[int] = Field(default_factory=list)
    blocked_ids: list[int] = Field(default_factory=list)  # blocked by the viewer or blocking them
    muted_ids: list[int] = Field(default_factory=list)


# --- one call to a documents route, checked the same way by every owner -----------------------


class DocumentQuery(BaseModel):
    """What a caller of `SEARCH_DOCUMENTS_PATH` asked for: documents by `ids`, or else the page
    of the export (in id order) that follows the id `after` (0: from the start)."""

    type: DocType
    ids: list[int] | None = None
    after: int = 0
    limit: int = MAX_DOCUMENTS_PER_CALL
    hub_id: int | None = None  # an export of one hub's items only (the feed's posts and events)


def document_query(
    served: Collection[DocType],
    doc_type: str,
    ids: str | None,
    after: int | None,
    limit: int | None,
    hub_id: int | None = None,
) -> DocumentQuery:
    """The query parameters of a documents route, checked; BadUserInput names what is wrong.
    `served`: the types this service owns."""
    names = ", ".join(t.value for t in served)
    if doc_type not in {t.value for t in served}:
        raise BadUserInput(f"type: this service serves {names}", field="type")
    if ids is not None:
        if after is not None or limit is not None or hub_id is not None:
            raise BadUserInput("pass ids, or after and limit to export; not both", field="ids")
        parts = ids.split(",") if ids else []
        if len(parts) > MAX_DOCUMENTS_PER_CALL or not all(p.isdigit() and len(p) <= 19 for p in parts):
            raise BadUserInput(f"ids: up to {MAX_DOCUMENTS_PER_CALL} comma-separated integers", field="ids")
        return DocumentQuery(type=DocType(doc_type), ids=list(dict.fromkeys(int(p) for p in parts)))
    if after is not None and after < 0:
        raise BadUserInput("after: an id, or 0 to start the export", field="after")
    if limit is not None and not 1 <= limit <= MAX_DOCUMENTS_PER_CALL:
        raise BadUserInput(f"limit: from 1 to {MAX_DOCUMENTS_PER_CALL}", field="limit")
    return DocumentQuery(type=DocType(doc_type), after=after or 0, limit=limit or MAX_DOCUMENTS_PER_CALL, hub_id=hub_id)


def document_page(query: DocumentQuery, found: Sequence[IndexDocument]) -> DocumentPage:
    """The answer to `query` from the searchable documents found for it. By ids: those found,
    in the order asked, and the rest as `gone`. An export page: `next_after` is its last id
    when the page came back full (there may be more), else None (the export is done)."""
    if query.ids is not None:
        by_id = {d.id: d for d in found}
        return DocumentPage(
            documents=[by_id[i] for i in query.ids if i in by_id], gone=[i for i in query.ids if i not in by_id]
        )
    full = len(found) >= query.limit
    return DocumentPage(documents=list(found), next_after=found[-1].id if full and found else None)


def document_query_params(
    doc_type: DocType | str,
    ids: Sequence[int] | None,
    after: int | None,
    limit: int | None,
    hub_id: int | None = None,
) -> dict[str, Any]:
    """The query string of a documents call, for the owners' clients."""
    params: dict[str, Any] = {"type": doc_type.value if isinstance(doc_type, DocType) else doc_type}
    if hub_id is not None:
        params["hub_id"] = hub_id
    if ids is not None:
        params["ids"] = ",".join(str(i) for i in ids)
    if after is not None:
        params["after"] = after
    if limit is not None:
        params["limit"] = limit
    return params
