"""Members, organisations, hubs and initiatives as the search service indexes them
(shared.search_documents): by ids, with the ones that must leave the index as `gone`, or as an
export in id order. And a member's search scope: their hubs, blocks both ways and mutes.

Only live, public initiatives are documents: one kept to its organisation, or deleted, is
`gone` (search serves everyone alike; an organisation's members find its drafts on its page)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.graph import repository as repo
from services.graph.models import Hub, Initiative, InitiativePlace, Member, Organisation
from shared.errors import NotFound
from shared.geo import municipalities
from shared.search_documents import (
    Audience,
    DocType,
    DocumentPage,
    DocumentQuery,
    IndexDocument,
    Language,
    SearchScope,
    document_page,
)

SERVED = (DocType.member, DocType.organisation, DocType.hub, DocType.initiative)


def places(municipality_code: str | None, county_code: str | None = None) -> tuple[list[str], list[str]]:
    """(municipality codes, county codes): the county follows from the municipality when not given."""
    if county_code is None and municipality_code is not None:
        municipality = municipalities().get(municipality_code)
        county_code = municipality.county_code if municipality else None
    return ([municipality_code] if municipality_code else []), ([county_code] if county_code else [])


def language(value: str) -> Language:
    try:
        return Language(value)
    except ValueError:
        return Language.sv


def _lines(*parts: str | None) -> str:
    return "\n".join(p for p in parts if p)


def member_document(member: Member) -> IndexDocument:
    municipality_codes, county_codes = places(member.municipality_code)
    return IndexDocument(
        type=DocType.member,
        id=member.id,
        language=language(member.language),
        title=member.display_name,
        text=_lines(member.headline, member.bio),
        tags=list(member.skills),
        municipality_codes=municipality_codes,
        county_codes=county_codes,
        organisation_id=member.organisation_id,
        author_id=member.id,
        audience=Audience.public,
        created_at=member.created_at,
    )


def organisation_document(org: Organisation) -> IndexDocument:
    municipality_codes, county_codes = places(org.municipality_code, org.county_code)
    return IndexDocument(
        type=DocType.organisation,
        id=org.id,
        title=org.name,
        text=org.description,
        municipality_codes=municipality_codes,
        county_codes=county_codes,
        organisation_kind=org.kind,
        organisation_id=org.id,
        created_at=org.created_at,
    )


def hub_document(hub: Hub, owner: Organisation | None) -> IndexDocument:
    municipality_codes, county_codes = places(owner.municipality_code, owner.county_code) if owner else ([], [])
    return IndexDocument(
        type=DocType.hub,
        id=hub.id,
        title=hub.name,
        text=hub.description,
        municipality_codes=municipality_codes,
        county_codes=county_codes,
        organisation_kind=owner.kind if owner else None,
        organisation_id=hub.organisation_id,
        hub_id=hub.id,
        audience=Audience.hub_members if hub.visibility == "members_only" else Audience.public,
        created_at=hub.created_at,
    )


def initiative_document(initiative: Initiative, places: list[InitiativePlace]) -> IndexDocument:
    """Its places give the municipality codes and the counties (a county-only place, the county)."""
    return IndexDocument(
        type=DocType.initiative,
        id=initiative.id,
        title=initiative.title,
        text=_lines(
            initiative.summary,
            initiative.description,
            initiative.societal_benefit,
            initiative.funder,
            initiative.programme,
        ),
        municipality_codes=list(dict.fromkeys(p.municipality_code for p in places if p.municipality_code)),
        county_codes=list(dict.fromkeys(p.county_code for p in places)),
        organisation_id=initiative.organisation_id,
        audience=Audience.public,
        created_at=initiative.created_at,
        area=initiative.area,
        status=initiative.status,
        techniques=list(initiative.techniques),
    )


async def _initiatives(session: AsyncSession, ids: list[int] | None, after: int, limit: int) -> list[IndexDocument]:
    if ids is not None:
        found = await repo.initiatives_by_ids(session, ids, repo.public_initiative())
    else:
        found = [i for i, _ in await repo.initiatives_for_export(session, after, limit)]
    places = await repo.places_of(session, [i.id for i in found])
    return [initiative_document(i, places[i.id]) for i in found]


async def _documents(session: AsyncSession, query: DocumentQuery) -> list[IndexDocument]:
    ids, after, limit = query.ids, query.after, query.limit
    match query.type:
        case DocType.member:
            return [member_document(m) for m in await repo.searchable_members(session, ids, after, limit)]
        case DocType.organisation:
            return [organisation_document(o) for o in await repo.searchable_organisations(session, ids, after, limit)]
        case DocType.hub:
            return [hub_document(h, o) for h, o in await repo.searchable_hubs(session, ids, after, limit)]
        case DocType.initiative:
            return await _initiatives(session, ids, after, limit)
    raise ValueError(f"the graph service serves no {query.type} documents")


async def documents(session: AsyncSession, query: DocumentQuery) -> DocumentPage:
    return document_page(query, await _documents(session, query))


async def scope(session: AsyncSession, member_id: int) -> SearchScope:
    if await repo.member_by_id(session, member_id) is None:
        raise NotFound("no such member", field="memberId")
    return SearchScope(
        member_id=member_id,
        hub_ids=await repo.active_hub_ids(session, member_id),
        blocked_ids=await repo.blocks_either_way(session, member_id),
        muted_ids=await repo.muted_ids(session, member_id),
    )
