"""Initiatives in the graph service: who may create, edit and delete them, every field's
validation, the events they record, the map counts (checked against the registry under
every filter) and the open-data export."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date
from typing import Any

import pytest

from services.graph import contracts as gc
from services.graph.client import GraphClient
from services.graph.initiatives_reference import AREAS, OPEN_DATA_LICENCE, STATUSES
from shared.auth import ANONYMOUS, Principal
from shared.errors import BadUserInput, Forbidden, NotFound, Unauthenticated
from shared.geo import municipalities
from shared.ids import expect_global_id
from shared.pagination import PageRequest
from tests.conftest import Api, Session
from tests.services.gateway.test_organisations import add_member, create_org


def graph(api: Api) -> GraphClient:
    return api.app.state.graph  # type: ignore[no-any-return]


def as_member(s: Session) -> Principal:
    return Principal(member_id=expect_global_id(s.id, "Member"), roles=("member",), token_kind="jwt")


def org_id(org: dict[str, Any]) -> int:
    return expect_global_id(org["id"], "Organisation")


def in_county(county: str, n: int) -> list[str]:
    return sorted(code for code, m in municipalities().items() if m.county_code == county)[:n]


async def make(api: Api, who: Session, org: dict[str, Any], **fields: Any) -> gc.InitiativeOut:
    data = {"title": "Chattbot för bygglov", "area": "urban_planning", **fields}
    return await graph(api).create_initiative(as_member(who), org_id(org), data)


async def refused(call: Any, error: type[Exception], field: str | None = None) -> None:
    with pytest.raises(error) as exc:
        await call
    if field is not None:
        assert getattr(exc.value, "field", None) == field, exc.value


async def test_an_organisation_only_initiative_is_seen_by_its_members_alone(api: Api) -> None:
    owner = await api.sign_up()
    org = await create_org(owner)
    plain = await add_member(owner, org, "MEMBER")
    stranger = await api.sign_up()
    g = graph(api)
    code = in_county("01", 1)[0]
    draft = await make(api, owner, org, visibility="organisation", places=[{"municipality_code": code}])
    shown = await make(api, owner, org, title="Visas", places=[{"municipality_code": code}])
    assert (draft.visibility, shown.visibility) == ("organisation", "public")

    for insider in (owner, plain):
        assert [i.id for i in await g.initiatives_by_ids(as_member(insider), [draft.id])] == [draft.id]
        page = await g.organisation_initiatives(as_member(insider), org_id(org), PageRequest(first=10))
        assert {i.id for i in page.items} == {draft.id, shown.id}
    for outsider in (as_member(stranger), ANONYMOUS):
        assert await g.initiatives_by_ids(outsider, [draft.id]) == []
        page = await g.organisation_initiatives(outsider, org_id(org), PageRequest(first=10))
        assert [i.id for i in page.items] == [shown.id]
        listed = await g.initiatives(outsider, gc.InitiativeFilter(municipality_code=code), PageRequest(first=10))
        assert [i.id for i in listed.items] == [shown.id]
    # The map, the municipality's list and the open data hold the public one only, whoever asks.
    counts = await g.initiative_counts(as_member(owner), gc.InitiativeCountsFilter())
    assert gc.PlaceCount(code=code, count=1) in counts
    behind = await g.municipality_initiatives(as_member(owner), code, gc.InitiativeCountsFilter(), PageRequest())
    assert [i.id for i in behind.items] == [shown.id]
    exported = [i.id async for p in g.export_initiatives(ANONYMOUS) for i in p.items]
    assert draft.id not in exported and shown.id in exported
    # Another organisation cannot link to it as reused; once public it can.
    theirs = await create_org(stranger)
    await refused(make(api, stranger, theirs, reuses_initiative_ids=[draft.id]), BadUserInput, "reusesInitiativeIds")
    await refused(g.update_initiative(as_member(owner), draft.id, {"visibility": None}), BadUserInput, "visibility")
    published = await g.update_initiative(as_member(owner), draft.id, {"visibility": "public"})
    assert published.visibility == "public"
    assert (await make(api, stranger, theirs, reuses_initiative_ids=[draft.id])).reuses_initiative_ids == [draft.id]


# --- authorisation ----------------------------------------------------------------------------


async def test_only_the_owning_organisations_editors_create_edit_and_delete(api: Api) -> None:
    owner = await api.sign_up()
    org = await create_org(owner)
    editor = await add_member(owner, org, "EDITOR")
    admin = await add_member(owner, org, "ADMIN")
    plain = await add_member(owner, org, "MEMBER")
    stranger = await api.sign_up()
    other_org = await create_org(stranger)
    g = graph(api)

    by_owner = await make(api, owner, org)
    by_editor = await make(api, editor, org, title="Editor's")
    by_admin = await make(api, admin, org, title="Admin's")
    assert by_editor.organisation_id == org_id(org)
    assert by_editor.created_by == expect_global_id(editor.id, "Member")
    assert by_owner.status == "idea"
    assert by_admin.title == "Admin's"

    for outsider in (plain, stranger):
        await refused(make(api, outsider, org), Forbidden)
        await refused(g.update_initiative(as_member(outsider), by_owner.id, {"title": "x"}), Forbidden)
        await refused(g.delete_initiative(as_member(outsider), by_owner.id), Forbidden)
    await refused(g.create_initiative(ANONYMOUS, org_id(org), {"title": "x", "area": "other"}), Unauthenticated)
    await refused(g.update_initiative(ANONYMOUS, by_owner.id, {"title": "x"}), Unauthenticated)
    await refused(g.delete_initiative(ANONYMOUS, by_owner.id), Unauthenticated)
    # The stranger's own organisation's editors cannot touch it either, nor create in another org.
    await refused(g.create_initiative(as_member(stranger), org_id(org), {"title": "x", "area": "other"}), Forbidden)
    assert (await make(api, stranger, other_org)).organisation_id == org_id(other_org)

    edited = await g.update_initiative(as_member(editor), by_owner.id, {"summary": "Kortare handläggning"})
    assert edited.summary == "Kortare handläggning"
    await g.delete_initiative(as_member(editor), by_owner.id)
    assert await g.initiatives_by_ids(ANONYMOUS, [by_owner.id, by_editor.id]) == [
        (await g.initiatives_by_ids(ANONYMOUS, [by_editor.id]))[0]
    ]
    await refused(g.update_initiative(as_member(owner), by_owner.id, {"title": "x"}), NotFound)
    await refused(g.delete_initiative(as_member(owner), by_owner.id), NotFound)


async def test_everyone_reads_initiatives(api: Api) -> None:
    owner = await api.sign_up()
    org = await create_org(owner)
    made = await make(api, owner, org, description="Vi använder **språkmodeller**.<script>x</script>")
    g = graph(api)
    [read] = await g.initiatives_by_ids(ANONYMOUS, [made.id])
    assert read.title == made.title
    assert "<strong>språkmodeller</strong>" in read.description_html
    assert "<script>" not in read.description_html
    page = await g.organisation_initiatives(ANONYMOUS, org_id(org), PageRequest(first=10))
    assert [i.id for i in page.items] == [made.id]
    assert page.total_count == 1
    await refused(g.organisation_initiatives(ANONYMOUS, 12345, PageRequest()), NotFound)


# --- validation --------------------------------------------------------------------------------


async def test_every_field_is_validated(api: Api) -> None:
    owner = await api.sign_up()
    org = await create_org(owner)
    plain = await add_member(owner, org, "MEMBER")
    outsider = await api.sign_up()
    other_owner = await api.sign_up()
    other_org = await create_org(other_owner)
    g = graph(api)
    me = as_member(owner)

    async def bad(field: str, **fields: Any) -> None:
        data = {"title": "Bra titel", "area": "education", **fields}
        await refused(g.create_initiative(me, org_id(org), data), BadUserInput, field)

    await bad("places.municipalityCode", places=[{"municipality_code": "9999"}])
    await bad("places.countyCode", places=[{"county_code": "99"}])
    await bad("places", places=[{"municipality_code": "1480", "county_code": "01"}])
    await bad("places", places=[{}])
    await bad("endsOn", starts_on="2026-05-01", ends_on="2026-04-30")
    await bad("title", title="x" * 201)
    await bad("title", title="   ")
    await bad("summary", summary="x" * 501)
    await bad("description", description="x" * 20001)
    await bad("societalBenefit", societal_benefit="x" * 2001)
    await bad("funder", funder="x" * 151)
    await bad("programme", programme="x" * 151)
    await bad("techniques", techniques=[f"t{i}" for i in range(11)])
    await bad("techniques", techniques=["x" * 41])
    await bad("area", area="space_travel")
    await bad("status", status="abandoned")
    await bad("links.url", links=[{"label": "x", "url": "javascript:alert(1)"}])
    await bad("links", links=[{"label": f"l{i}", "url": "https://example.se"} for i in range(11)])
    await bad("contactMemberId", contact_member_id=expect_global_id(outsider.id, "Member"))
    await bad("contactMemberId", contact_member_id=987654321)
    await bad("partnerOrganisationIds", partner_organisation_ids=[org_id(org)])
    await bad("partnerOrganisationIds", partner_organisation_ids=[987654321])

    own = await make(api, owner, org)
    theirs = await make(api, other_owner, other_org)
    await bad("reusesInitiativeIds", reuses_initiative_ids=[own.id])
    await bad("reusesInitiativeIds", reuses_initiative_ids=[987654321])
    await refused(
        g.update_initiative(me, own.id, {"reuses_initiative_ids": [own.id]}), BadUserInput, "reusesInitiativeIds"
    )
    for required in ("title", "area", "status"):
        await refused(g.update_initiative(me, own.id, {required: None}), BadUserInput, required)

    # The end date is checked against the stored start when only one of them changes.
    dated = await make(api, owner, org, starts_on="2026-03-01", ends_on="2026-09-30")
    await refused(g.update_initiative(me, dated.id, {"ends_on": "2026-02-01"}), BadUserInput, "endsOn")
    await refused(g.update_initiative(me, dated.id, {"starts_on": "2026-10-01"}), BadUserInput, "endsOn")

    # What passes is stored normalised.
    full = await make(
        api,
        owner,
        org,
        title="  Språkstöd i äldreomsorgen ",
        area="elderly_care",
        status="pilot",
        techniques=["#NLP", "nlp", "Computer   Vision"],
        places=[{"municipality_code": "0114"}, {"county_code": "03"}, {"municipality_code": "0114"}],
        contact_member_id=expect_global_id(plain.id, "Member"),
        partner_organisation_ids=[org_id(other_org)],
        reuses_initiative_ids=[theirs.id],
        links=[{"label": "Rapport", "url": "https://example.se/rapport"}],
        starts_on="2026-01-01",
        ends_on="2026-01-01",
        funder="Vinnova",
        programme="Utmaningsdriven innovation",
        seeking_partners=True,
        open_to_reuse=True,
    )
    assert full.title == "Språkstöd i äldreomsorgen"
    assert full.techniques == ["nlp", "computer vision"]
    assert [(p.municipality_code, p.county_code) for p in full.places] == [("0114", "01"), (None, "03")]
    assert full.partner_organisation_ids == [org_id(other_org)]
    assert full.reuses_initiative_ids == [theirs.id]
    assert full.starts_on == full.ends_on == date(2026, 1, 1)
    assert full.seeking_partners and full.open_to_reuse
    [reused] = await g.initiatives_by_ids(ANONYMOUS, [theirs.id])
    assert reused.reused_by_initiative_ids == [full.id]

    # A contact who has left the organisation blocks no unrelated edit, but cannot be named again.
    await g.remove_organisation_member(as_member(plain), org_id(org), expect_global_id(plain.id, "Member"))
    assert (await g.update_initiative(me, full.id, {"summary": "Ny"})).summary == "Ny"
    contact = {"contact_member_id": expect_global_id(plain.id, "Member")}
    await refused(g.update_initiative(me, full.id, contact), BadUserInput, "contactMemberId")

    # Optional fields and links can be cleared.
    cleared = await g.update_initiative(me, full.id, {"contact_member_id": None, "places": [], "techniques": []})
    assert cleared.contact_member_id is None and cleared.places == [] and cleared.techniques == []


# --- events -----------------------------------------------------------------------------------


async def test_writes_record_their_events(api: Api) -> None:
    owner = await api.sign_up()
    org = await create_org(owner)
    g = graph(api)
    made = await make(api, owner, org)
    ids = {"initiative_id": made.id, "organisation_id": org_id(org)}

    [created] = [e for e in await api.outbox("initiative.created") if e["initiative_id"] == made.id]
    assert created.items() >= ids.items()

    await g.update_initiative(as_member(owner), made.id, {"summary": "Ny sammanfattning"})
    assert not [e for e in await api.outbox("initiative.status_changed") if e["initiative_id"] == made.id]
    before = made.status_changed_at
    moved = await g.update_initiative(as_member(owner), made.id, {"status": "in_production", "title": "Ny"})
    assert moved.status == "in_production" and moved.status_changed_at > before
    [changed] = [e for e in await api.outbox("initiative.status_changed") if e["initiative_id"] == made.id]
    assert changed.items() >= {**ids, "from": "idea", "to": "in_production"}.items()
    updates = [e for e in await api.outbox("initiative.updated") if e["initiative_id"] == made.id]
    assert [u["fields"] for u in updates] == [["summary"], ["status", "title"]]
    assert all(u.items() >= ids.items() for u in updates)

    await g.delete_initiative(as_member(owner), made.id)
    [deleted] = [e for e in await api.outbox("initiative.deleted") if e["initiative_id"] == made.id]
    assert deleted.items() >= ids.items()


# --- lists and the map ----------------------------------------------------------------------------


async def build_registry(api: Api) -> tuple[list[gc.InitiativeOut], list[str], list[str]]:
    """Ten initiatives over municipalities in two counties (and whole counties), varied in
    area, status and techniques; plus one deleted initiative that nothing may count."""
    owner = await api.sign_up()
    org = await create_org(owner)
    uppsala_län = in_county("03", 3)
    stockholms_län = in_county("01", 3)
    areas = ["education", "health", "education", "elderly_care", "health"]
    statuses = ["idea", "pilot", "in_production", "pilot", "ended"]
    techniques = [["nlp"], ["nlp", "computer vision"], [], ["computer vision"], ["nlp", "llm"]]
    place_sets: list[list[dict[str, str]]] = [
        [{"municipality_code": stockholms_län[0]}],
        [{"municipality_code": stockholms_län[0]}, {"municipality_code": stockholms_län[1]}],
        [{"municipality_code": uppsala_län[0]}, {"municipality_code": stockholms_län[2]}],
        [{"county_code": "03"}],
        [{"county_code": "03"}, {"municipality_code": uppsala_län[1]}, {"municipality_code": uppsala_län[2]}],
        [],
        [{"municipality_code": uppsala_län[0]}],
        [{"county_code": "01"}, {"municipality_code": stockholms_län[1]}],
        [{"municipality_code": stockholms_län[2]}, {"municipality_code": uppsala_län[2]}],
        [{"municipality_code": uppsala_län[1]}, {"municipality_code": uppsala_län[0]}],
    ]
    made = []
    for n, places in enumerate(place_sets):
        made.append(
            await make(
                api,
                owner,
                org,
                title=f"Initiativ {n}",
                area=areas[n % 5],
                status=statuses[(n * 3) % 4],
                techniques=techniques[n % 5],
                places=places,
            )
        )
    gone = await make(api, owner, org, title="Borttaget", places=[{"municipality_code": stockholms_län[0]}])
    await graph(api).delete_initiative(as_member(owner), gone.id)
    return made, stockholms_län, uppsala_län


def expected_counts(
    made: list[gc.InitiativeOut], by: str, area: str | None, status: str | None, technique: str | None
) -> list[gc.PlaceCount]:
    tally: Counter[str] = Counter()
    for i in made:
        if (
            (area and i.area != area)
            or (status and i.status != status)
            or (technique and technique not in i.techniques)
        ):
            continue
        if by == "municipality":
            codes = {p.municipality_code for p in i.places if p.municipality_code}
        else:
            codes = {p.county_code for p in i.places}
        tally.update(codes)
    return [gc.PlaceCount(code=code, count=n) for code, n in sorted(tally.items())]


async def test_map_counts_match_the_registry_under_every_filter(api: Api) -> None:
    made, _, _ = await build_registry(api)
    g = graph(api)
    areas = [None, *sorted({i.area for i in made}), "culture"]
    statuses = [None, *[s.code for s in STATUSES]]
    techniques = [None, "nlp", "computer vision", "llm", "unused"]
    checked = 0
    for by, area, status, technique in itertools.product(("municipality", "county"), areas, statuses, techniques):
        flt = gc.InitiativeCountsFilter(by=by, area=area, status=status, technique=technique)
        assert await g.initiative_counts(ANONYMOUS, flt) == expected_counts(made, by, area, status, technique), flt
        checked += 1
    assert checked == 2 * len(areas) * len(statuses) * len(techniques)
    # The whole registry: every county with initiatives, each counted once.
    county = await g.initiative_counts(ANONYMOUS, gc.InitiativeCountsFilter(by="county"))
    assert {c.code for c in county} == {"01", "03"}


async def test_lists_filter_like_the_counts(api: Api) -> None:
    made, stockholms_län, uppsala_län = await build_registry(api)
    g = graph(api)

    async def ids(**flt: Any) -> set[int]:
        page = await g.initiatives(ANONYMOUS, gc.InitiativeFilter(**flt), PageRequest(first=100))
        assert page.total_count == len(page.items)
        return {i.id for i in page.items}

    def want(pred: Any) -> set[int]:
        return {i.id for i in made if pred(i)}

    assert await ids() >= want(lambda i: True)
    assert await ids(area="health") >= want(lambda i: i.area == "health")
    assert await ids(status="pilot") >= want(lambda i: i.status == "pilot")
    assert await ids(technique="nlp") >= want(lambda i: "nlp" in i.techniques)
    org = made[0].organisation_id
    assert await ids(organisation_id=org) == want(lambda i: True)
    assert await ids(organisation_id=org, county_code="03") == want(
        lambda i: any(p.county_code == "03" for p in i.places)
    )
    code = uppsala_län[0]
    assert await ids(organisation_id=org, municipality_code=code) == want(
        lambda i: any(p.municipality_code == code for p in i.places)
    )

    # Behind one municipality on the map, under the map's filters, a page at a time.
    behind = want(lambda i: any(p.municipality_code == stockholms_län[0] for p in i.places))
    seen: list[int] = []
    after = None
    while True:
        page = await g.municipality_initiatives(
            ANONYMOUS, stockholms_län[0], gc.InitiativeCountsFilter(), PageRequest(first=1, after=after)
        )
        seen += [i.id for i in page.items]
        if not page.has_next_page:
            break
        after = page.cursors[-1]
    assert set(seen) >= behind and len(seen) == len(set(seen))
    assert seen == sorted(seen, reverse=True)
    await refused(
        g.municipality_initiatives(ANONYMOUS, "9999", gc.InitiativeCountsFilter(), PageRequest()),
        BadUserInput,
        "municipalityCode",
    )


# --- open data ------------------------------------------------------------------------------------


async def test_export_pages_in_id_order_and_leaves_out_deleted(api: Api) -> None:
    made, _, _ = await build_registry(api)
    g = graph(api)
    owner_org = made[0].organisation_id
    pages = [page async for page in g.export_initiatives(ANONYMOUS, limit=3)]
    assert len(pages) >= 4
    exported = [i.id for page in pages for i in page.items]
    assert exported == sorted(exported)
    assert len(exported) == len(set(exported))
    mine = [i for page in pages for i in page.items if i.organisation_id == owner_org]
    assert [i.id for i in mine] == sorted(i.id for i in made)  # the deleted one is not there
    assert all(p.licence == OPEN_DATA_LICENCE for p in pages)
    assert pages[-1].next_after is None and all(p.next_after == p.items[-1].id for p in pages[:-1])
    latest = max(i.updated_at for i in made)
    assert pages[0].last_modified is not None and pages[0].last_modified >= latest

    await refused(g.initiatives_export_page(ANONYMOUS, 0, 501), BadUserInput, "limit")


def test_reference_lists_are_complete() -> None:
    assert len(AREAS) == 12 and all(t.sv and t.en for t in AREAS)
    assert [t.code for t in STATUSES] == ["idea", "pilot", "in_production", "ended"]


async def test_technique_filter_matches_whole_techniques_only(api: Api) -> None:
    owner = await api.sign_up()
    org = await create_org(owner)
    g = graph(api)
    code = in_county("01", 1)[0]
    swedish = await make(api, owner, org, techniques=["språkmodeller"], places=[{"municipality_code": code}])
    underscored = await make(api, owner, org, techniques=["graph_rag"], places=[{"municipality_code": code}])
    await make(api, owner, org, techniques=["graphxrag", "språk"], places=[{"municipality_code": code}])

    async def found(technique: str) -> list[int]:
        flt = gc.InitiativeFilter(organisation_id=org_id(org), technique=technique)
        return [i.id for i in (await g.initiatives(ANONYMOUS, flt, PageRequest())).items]

    assert await found("Språkmodeller") == [swedish.id]
    assert await found("graph_rag") == [underscored.id]
    assert await found("graph") == []
    counts = await g.initiative_counts(ANONYMOUS, gc.InitiativeCountsFilter(technique="språkmodeller"))
    assert gc.PlaceCount(code=code, count=1) in counts
