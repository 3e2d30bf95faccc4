"""Posts and events as the search service indexes them (shared.search_documents): by ids,
with the deleted and hidden ones as `gone`, or as an export in id order."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.feed import repository as repo
from services.feed.models import Event, Post
from shared.search_documents import (
    Audience,
    DocType,
    DocumentPage,
    DocumentQuery,
    IndexDocument,
    Language,
    document_page,
)

SERVED = (DocType.post, DocType.event)


def _language(value: str) -> Language:
    try:
        return Language(value)
    except ValueError:
        return Language.sv


def _audience(visibility: str) -> Audience:
    try:
        return Audience(visibility)
    except ValueError:
        # An unknown visibility is treated as the narrowest audience, never as public.
        return Audience.hub_members


def post_document(post: Post) -> IndexDocument:
    return IndexDocument(
        type=DocType.post,
        id=post.id,
        language=_language(post.language),
        title=post.title or "",
        text=post.body,
        tags=list(post.tags),
        organisation_id=post.organisation_id,
        hub_id=post.hub_id,
        author_id=post.author_id,
        audience=_audience(post.visibility),
        created_at=post.created_at,
    )


def event_document(event: Event) -> IndexDocument:
    return IndexDocument(
        type=DocType.event,
        id=event.id,
        language=_language(event.language),
        title=event.title,
        text="\n".join(part for part in (event.description, event.location) if part),
        municipality_codes=[event.municipality_code] if event.municipality_code else [],
        county_codes=[event.county_code] if event.county_code else [],
        organisation_id=event.organiser_organisation_id,
        hub_id=event.hub_id,
        author_id=event.created_by,
        audience=_audience(event.visibility),
        created_at=event.created_at,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
    )


async def documents(session: AsyncSession, query: DocumentQuery) -> DocumentPage:
    ids, after, limit, hub = query.ids, query.after, query.limit, query.hub_id
    if query.type == DocType.post:
        found = [post_document(p) for p in await repo.searchable_posts(session, ids, after, limit, hub)]
    elif query.type == DocType.event:
        found = [event_document(e) for e in await repo.searchable_events(session, ids, after, limit, hub)]
    else:
        raise ValueError(f"the feed service serves no {query.type} documents")
    return document_page(query, found)
