"""What the graph service hands the search service: members, organisations, hubs and
initiatives as index documents (by ids, with what must leave the index as `gone`, or exported page by page in id
order), and a member's search scope. Only services may ask."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import col

from services.gateway.context import SERVICE_PRINCIPAL
from services.graph.client import GraphClient
from services.graph.models import Member
from shared.auth import Principal
from shared.database import utcnow
from shared.errors import BadUserInput, Forbidden, NotFound
from shared.ids import from_global_id, to_global_id
from shared.search_documents import (
    MAX_DOCUMENTS_PER_CALL,
    SEARCH_DOCUMENTS_PATH,
    SEARCH_SCOPE_PATH,
    Audience,
    DocType,
    IndexDocument,
    Language,
)
from tests.conftest import Api, Session

ORG = """mutation($i: CreateOrganisationInput!) { createOrganisation(input: $i) { organisation { id }
  userErrors { field message } } }"""
HUB = """mutation($i: CreateHubInput!) { createHub(input: $i) { hub { id } userErrors { field message } } }"""
PROFILE = """mutation($i: UpdateProfileInput!) { updateProfile(input: $i) { member { id }
  userErrors { field message } } }"""
JOIN = """mutation($h: ID!) { joinHub(input: {hubId: $h}) { membership { state } userErrors { message } } }"""
INVITE = """mutation($hub: ID!, $member: ID!) { inviteToHub(input: {hubId: $hub, memberId: $member}) {
  membership { state } userErrors { message } } }"""
BLOCK = """mutation($id: ID!) { blockMember(input: {memberId: $id}) { member { id } userErrors { message } } }"""
MUTE = """mutation($id: ID!) { muteMember(input: {memberId: $id}) { member { id } userErrors { message } } }"""


gid = to_global_id


def raw(global_id: str) -> int:
    return from_global_id(global_id)[1]


def graph(api: Api) -> GraphClient:
    return api.app.state.graph  # type: ignore[no-any-return]


def slug(api: Api, prefix: str) -> str:
    return api.unique(prefix).replace("_", "-").lower()


async def make_org(owner: Session, **fields: Any) -> int:
    data = {"slug": slug(owner.api, "org"), "name": "Göteborgs Stad", "kind": "MUNICIPALITY", **fields}
    return raw((await owner.ok(ORG, {"i": data}))["createOrganisation"]["organisation"]["id"])


async def make_hub(owner: Session, org_id: int, **fields: Any) -> int:
    data = {"slug": slug(owner.api, "hub"), "name": "Kraftsamlingen", "organisationId": gid("Organisation", org_id)}
    return raw((await owner.ok(HUB, {"i": {**data, **fields}}))["createHub"]["hub"]["id"])


async def erase(api: Api, member: Session) -> None:
    """What an erased account looks like to search: its handle gives way to "deleted-…". (Stands
    in for the erasure flow, which another change adds; search must leave such members out.)"""
    async with await api.graph_session() as db:
        handle = f"deleted-{raw(member.id)}"
        await db.execute(update(Member).where(col(Member.id) == raw(member.id)).values(handle=handle))
        await db.commit()


async def documents(api: Api, doc_type: DocType | str, **kw: Any) -> Any:
    return await graph(api).search_documents(SERVICE_PRINCIPAL, doc_type, **kw)


async def export_all(api: Api, doc_type: DocType, limit: int) -> list[IndexDocument]:
    """Every document of the export, page by page; each page full until the last."""
    out: list[IndexDocument] = []
    after: int | None = 0
    pages = 0
    while after is not None:
        page = await documents(api, doc_type, after=after, limit=limit)
        assert page.gone == []
        assert [d.id for d in page.documents] == sorted(d.id for d in page.documents)
        assert all(d.id > after for d in page.documents)
        if page.next_after is not None:
            # A full page: there may be more after its last id.
            assert len(page.documents) == limit and page.next_after == page.documents[-1].id
        else:
            assert len(page.documents) < limit
        out += page.documents
        after = page.next_after
        pages += 1
        assert pages < 100
    return out


# --- the documents ------------------------------------------------------------------------------


async def test_member_document_is_their_profile(api: Api) -> None:
    anna = await api.sign_up()
    org_id = await make_org(anna)
    await anna.ok(
        PROFILE,
        {
            "i": {
                "displayName": "Anna Andersson",
                "headline": "AI-strateg",
                "bio": "Jag bygger **språkmodeller** för kommuner.",
                "skills": ["maskininlärning", "upphandling"],
                "municipalityCode": "1480",
                "organisationId": gid("Organisation", org_id),
                "language": "EN",
            }
        },
    )
    bo = await api.sign_up()

    page = await documents(api, DocType.member, ids=[raw(anna.id), raw(bo.id)])
    assert page.gone == [] and page.next_after is None
    doc, plain = page.documents
    assert doc.model_dump(exclude={"created_at"}) == {
        "type": DocType.member,
        "id": raw(anna.id),
        "language": Language.en,
        "title": "Anna Andersson",
        "text": "AI-strateg\nJag bygger **språkmodeller** för kommuner.",
        "tags": ["maskininlärning", "upphandling"],
        "county_codes": ["14"],  # Göteborg is in Västra Götalands län
        "municipality_codes": ["1480"],
        "organisation_kind": None,
        "organisation_id": org_id,
        "hub_id": None,
        "author_id": raw(anna.id),
        "audience": Audience.public,
        "starts_at": None,
        "ends_at": None,
        "area": None,
        "status": None,
        "techniques": [],
    }
    assert doc.created_at is not None and doc.key == f"member:{raw(anna.id)}"
    # A bare profile: its display name, nothing else, Swedish.
    assert (plain.id, plain.title, plain.text, plain.tags, plain.language) == (
        raw(bo.id),
        bo.handle.title(),
        "",
        [],
        Language.sv,
    )
    assert plain.municipality_codes == plain.county_codes == [] and plain.organisation_id is None


async def test_organisation_and_hub_documents(api: Api) -> None:
    owner = await api.sign_up()
    org_id = await make_org(owner, municipalityCode="1480", description="Sveriges näst största kommun.")
    region_id = await make_org(owner, name="Region Skåne", kind="REGION", countyCode="12")
    public_hub = await make_hub(owner, org_id, description="AI i offentlig sektor")
    closed_hub = await make_hub(owner, org_id, name="Styrgruppen", visibility="MEMBERS_ONLY")
    region_hub = await make_hub(owner, region_id)

    orgs = await documents(api, DocType.organisation, ids=[org_id, region_id])
    municipality, region = orgs.documents
    assert (municipality.type, municipality.id, municipality.title, municipality.text) == (
        DocType.organisation,
        org_id,
        "Göteborgs Stad",
        "Sveriges näst största kommun.",
    )
    assert municipality.organisation_kind == "municipality" and municipality.organisation_id == org_id
    assert (municipality.municipality_codes, municipality.county_codes) == (["1480"], ["14"])
    assert municipality.audience == Audience.public and municipality.hub_id is None
    assert (region.organisation_kind, region.municipality_codes, region.county_codes) == ("region", [], ["12"])

    hubs = await documents(api, DocType.hub, ids=[public_hub, closed_hub, region_hub])
    assert [d.id for d in hubs.documents] == [public_hub, closed_hub, region_hub]
    public, closed, in_region = hubs.documents
    assert (public.type, public.title, public.text, public.hub_id) == (
        DocType.hub,
        "Kraftsamlingen",
        "AI i offentlig sektor",
        public_hub,
    )
    # A hub carries its organisation: its id, kind and place.
    assert (public.organisation_id, public.organisation_kind) == (org_id, "municipality")
    assert (public.municipality_codes, public.county_codes) == (["1480"], ["14"])
    assert public.audience == Audience.public
    # Only its members find a members-only hub.
    assert (closed.title, closed.audience) == ("Styrgruppen", Audience.hub_members)
    assert (in_region.organisation_kind, in_region.county_codes, in_region.municipality_codes) == (
        "region",
        ["12"],
        [],
    )


async def test_ids_that_do_not_exist_or_were_erased_are_gone(api: Api) -> None:
    anna, bo, cai = await api.sign_up(), await api.sign_up(), await api.sign_up()
    await erase(api, bo)
    unknown = 4242
    page = await documents(api, DocType.member, ids=[raw(cai.id), unknown, raw(bo.id), raw(anna.id)])
    # Found ones in the order asked; the rest must leave the index.
    assert [d.id for d in page.documents] == [raw(cai.id), raw(anna.id)]
    assert page.gone == [unknown, raw(bo.id)]

    org_id = await make_org(anna)
    hub_id = await make_hub(anna, org_id)
    assert (await documents(api, DocType.organisation, ids=[unknown, org_id])).gone == [unknown]
    hubs = await documents(api, DocType.hub, ids=[hub_id, unknown])
    assert ([d.id for d in hubs.documents], hubs.gone) == ([hub_id], [unknown])
    # An organisation's id is not a hub's.
    assert (await documents(api, DocType.hub, ids=[org_id])).gone == [org_id]
    if hasattr(Member, "erased_at"):
        # Erasure also stamps the row; that alone takes a member out of search.
        async with await api.graph_session() as db:
            stamp = {"erased_at": utcnow()}
            await db.execute(update(Member).where(col(Member.id) == raw(cai.id)).values(stamp))
            await db.commit()
        stamped = await documents(api, DocType.member, ids=[raw(cai.id), raw(anna.id)])
        assert ([d.id for d in stamped.documents], stamped.gone) == ([raw(anna.id)], [raw(cai.id)])
        exported = await documents(api, DocType.member, after=0)
        assert [d.id for d in exported.documents] == [raw(anna.id)]

    # Nothing asked, nothing answered.
    empty = await documents(api, DocType.member, ids=[])
    assert (empty.documents, empty.gone, empty.next_after) == ([], [], None)


async def test_export_pages_through_every_searchable_member_once(api: Api) -> None:
    members = [await api.sign_up() for _ in range(7)]
    for gone in (members[1], members[4]):
        await erase(api, gone)
    searchable = sorted(raw(m.id) for m in members if m not in (members[1], members[4]))

    for limit in (2, 5, 1, MAX_DOCUMENTS_PER_CALL):
        exported = await export_all(api, DocType.member, limit)
        assert [d.id for d in exported] == searchable, limit
    # The default page is the largest.
    page = await documents(api, DocType.member)
    assert [d.id for d in page.documents] == searchable and page.next_after is None
    # After the last id there is nothing more.
    tail = await documents(api, DocType.member, after=searchable[-1], limit=2)
    assert (tail.documents, tail.next_after) == ([], None)
    # A full last page says there may be more; the next one (empty) ends the export.
    full = await documents(api, DocType.member, after=searchable[-3], limit=2)
    assert [d.id for d in full.documents] == searchable[-2:] and full.next_after == searchable[-1]


async def test_export_pages_through_organisations_and_hubs(api: Api) -> None:
    owner = await api.sign_up()
    orgs = [await make_org(owner) for _ in range(3)]
    hubs = [await make_hub(owner, orgs[i % 3], visibility="MEMBERS_ONLY" if i == 2 else "PUBLIC") for i in range(5)]

    exported_orgs = await export_all(api, DocType.organisation, 2)
    assert [d.id for d in exported_orgs] == sorted(orgs)
    exported_hubs = await export_all(api, DocType.hub, 2)
    assert [d.id for d in exported_hubs] == sorted(hubs)
    assert {d.id: d.audience for d in exported_hubs}[hubs[2]] == Audience.hub_members
    assert {d.id: d.organisation_id for d in exported_hubs} == {h: orgs[i % 3] for i, h in enumerate(hubs)}


async def test_initiative_documents_are_the_live_public_ones(api: Api) -> None:
    owner = await api.sign_up()
    org_id = await make_org(owner)
    g, who = graph(api), Principal(member_id=raw(owner.id), roles=("member",), token_kind="jwt")
    shown = await g.create_initiative(
        who,
        org_id,
        {
            "title": "Chattbot för bygglov",
            "summary": "Svarar dygnet runt",
            "description": "Byggd med **RAG**.",
            "area": "urban_planning",
            "status": "pilot",
            "techniques": ["Språkmodeller", "rag"],
            "funder": "Vinnova",
            # Göteborg (its county follows), and the whole of Skåne.
            "places": [{"municipality_code": "1480"}, {"county_code": "12"}],
        },
    )
    draft = await g.create_initiative(who, org_id, {"title": "Utkast", "area": "other", "visibility": "organisation"})
    deleted = await g.create_initiative(who, org_id, {"title": "Borttagen", "area": "other"})
    await g.delete_initiative(who, deleted.id)
    unknown = 4242

    page = await documents(api, DocType.initiative, ids=[shown.id, draft.id, deleted.id, unknown])
    # Kept to its organisation, deleted or unknown: all must leave the index.
    assert page.gone == [draft.id, deleted.id, unknown]
    (doc,) = page.documents
    assert doc.model_dump(exclude={"created_at"}) == {
        "type": DocType.initiative,
        "id": shown.id,
        "language": Language.sv,
        "title": "Chattbot för bygglov",
        "text": "Svarar dygnet runt\nByggd med **RAG**.\nVinnova",
        "tags": [],
        "county_codes": ["14", "12"],
        "municipality_codes": ["1480"],
        "organisation_kind": None,
        "organisation_id": org_id,
        "hub_id": None,
        "author_id": None,
        "audience": Audience.public,
        "starts_at": None,
        "ends_at": None,
        "area": "urban_planning",
        "status": "pilot",
        "techniques": ["språkmodeller", "rag"],
    }
    assert doc.created_at == shown.created_at

    # Published, it is a document; the export holds the public ones only, in id order.
    await g.update_initiative(who, draft.id, {"visibility": "public"})
    more = [(await g.create_initiative(who, org_id, {"title": f"Nr {i}", "area": "other"})).id for i in range(3)]
    exported = await export_all(api, DocType.initiative, 2)
    assert [d.id for d in exported] == sorted([shown.id, draft.id, *more])


# --- the scope ------------------------------------------------------------------------------------


async def test_scope_holds_active_hubs_blocks_both_ways_and_mutes(api: Api) -> None:
    owner = await api.sign_up()
    org_id = await make_org(owner)
    joined = await make_hub(owner, org_id, visibility="MEMBERS_ONLY")
    also_joined = await make_hub(owner, org_id)
    asked = await make_hub(owner, org_id, joinPolicy="REQUEST")
    invited = await make_hub(owner, org_id, joinPolicy="INVITE")
    await make_hub(owner, org_id)  # not a member at all

    anna = await api.sign_up()
    bo, cai, dag, eva = await api.sign_up(), await api.sign_up(), await api.sign_up(), await api.sign_up()
    # A members-only hub is found by invitation; the invitation answered by joining is active.
    await owner.ok(INVITE, {"hub": gid("Hub", joined), "member": anna.id})
    assert (await anna.ok(JOIN, {"h": gid("Hub", joined)}))["joinHub"]["membership"]["state"] == "ACTIVE"
    assert (await anna.ok(JOIN, {"h": gid("Hub", also_joined)}))["joinHub"]["membership"]["state"] == "ACTIVE"
    assert (await anna.ok(JOIN, {"h": gid("Hub", asked)}))["joinHub"]["membership"]["state"] == "REQUESTED"
    invitation = (await owner.ok(INVITE, {"hub": gid("Hub", invited), "member": anna.id}))["inviteToHub"]
    assert invitation["membership"]["state"] == "INVITED"

    await anna.ok(BLOCK, {"id": bo.id})  # anna blocked bo
    await cai.ok(BLOCK, {"id": anna.id})  # cai blocked anna
    await anna.ok(MUTE, {"id": dag.id})
    await eva.ok(MUTE, {"id": anna.id})  # being muted by someone changes nothing for anna

    scope = await graph(api).search_scope(SERVICE_PRINCIPAL, raw(anna.id))
    assert scope.member_id == raw(anna.id)
    assert scope.hub_ids == sorted([joined, also_joined])
    assert scope.blocked_ids == sorted([raw(bo.id), raw(cai.id)])
    assert scope.muted_ids == [raw(dag.id)]

    # The hub's creator is its (active) admin; the blocked see the block from their side too.
    owner_scope = await graph(api).search_scope(SERVICE_PRINCIPAL, raw(owner.id))
    assert set(owner_scope.hub_ids) >= {joined, also_joined, asked, invited}
    bo_scope = await graph(api).search_scope(SERVICE_PRINCIPAL, raw(bo.id))
    assert (bo_scope.hub_ids, bo_scope.blocked_ids, bo_scope.muted_ids) == ([], [raw(anna.id)], [])

    with pytest.raises(NotFound):
        await graph(api).search_scope(SERVICE_PRINCIPAL, 4242)


# --- who may ask, and what they may ask ---------------------------------------------------------------


async def test_only_services_may_read_documents_and_scopes(api: Api) -> None:
    anna = await api.sign_up()
    member = Principal(member_id=raw(anna.id), roles=("member",), token_kind="jwt")
    moderator = Principal(member_id=raw(anna.id), roles=("admin",), token_kind="jwt")
    # A token that names no member but was not minted for a service (an anonymous visitor's).
    anonymous = Principal(member_id=None, scopes=("read",), token_kind="anonymous")
    # A service acting for a member (as the feed's mail jobs do) is still a member's call.
    on_behalf = Principal(member_id=raw(anna.id), scopes=("read",), token_kind="service")
    for who in (member, moderator, anonymous, on_behalf):
        with pytest.raises(Forbidden):
            await graph(api).search_documents(who, DocType.member, ids=[raw(anna.id)])
        with pytest.raises(Forbidden):
            await graph(api).search_documents(who, DocType.hub, after=0)
        with pytest.raises(Forbidden):
            await graph(api).search_scope(who, raw(anna.id))

    # Over HTTP: 403 with the FORBIDDEN code.
    client = graph(api)
    headers = {"authorization": f"Bearer {client.codec.issue_internal_token(member)}"}
    for path, params in (
        (SEARCH_DOCUMENTS_PATH, {"type": "member", "ids": str(raw(anna.id))}),
        (f"{SEARCH_SCOPE_PATH}/{raw(anna.id)}", {}),
    ):
        response = await client.http.get(path, params=params, headers=headers)
        assert response.status_code == 403 and response.json()["code"] == "FORBIDDEN"
    # Without a token at all: not even authenticated.
    response = await client.http.get(SEARCH_DOCUMENTS_PATH, params={"type": "member"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("doc_type", "kw", "field"),
    [
        ("post", {"after": 0}, "type"),  # the feed's
        ("event", {"ids": [1]}, "type"),
        ("members", {}, "type"),
        ("", {}, "type"),
        ("member", {"limit": MAX_DOCUMENTS_PER_CALL + 1}, "limit"),
        ("member", {"after": 0, "limit": 0}, "limit"),
        ("member", {"after": -1}, "after"),
        ("member", {"ids": list(range(1, MAX_DOCUMENTS_PER_CALL + 2))}, "ids"),
        ("member", {"ids": [1, 2], "after": 0}, "ids"),
        ("member", {"ids": [1, 2], "limit": 5}, "ids"),
    ],
)
async def test_bad_queries_are_bad_user_input(api: Api, doc_type: str, kw: dict[str, Any], field: str) -> None:
    with pytest.raises(BadUserInput) as refused:
        await documents(api, doc_type, **kw)
    assert refused.value.field == field
    assert refused.value.message


async def test_malformed_ids_are_bad_user_input(api: Api) -> None:
    client = graph(api)
    headers = {"authorization": f"Bearer {client.codec.issue_internal_token(SERVICE_PRINCIPAL)}"}
    for ids in ("1,x", "1,,2", "-1", "1" * 20):
        response = await client.http.get(SEARCH_DOCUMENTS_PATH, params={"type": "member", "ids": ids}, headers=headers)
        assert response.status_code == 422, ids
        assert (response.json()["code"], response.json()["field"]) == ("BAD_USER_INPUT", "ids")
    response = await client.http.get(SEARCH_DOCUMENTS_PATH, params={"type": "member", "limit": "many"}, headers=headers)
    assert (response.status_code, response.json()["code"]) == (422, "BAD_USER_INPUT")
