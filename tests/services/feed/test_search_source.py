"""What the feed service hands the search service: posts and events as index documents (by
ids, with deleted and hidden ones as `gone`, or exported page by page in id order), only to
services; and the language posts and events are written in, through the GraphQL API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import col

from services.feed.client import FeedClient
from services.feed.models import Event, Post
from services.gateway.context import SERVICE_PRINCIPAL
from shared.auth import Principal
from shared.database import utcnow
from shared.errors import BadUserInput, Forbidden
from shared.ids import from_global_id
from shared.search_documents import (
    MAX_DOCUMENTS_PER_CALL,
    SEARCH_DOCUMENTS_PATH,
    Audience,
    DocType,
    IndexDocument,
    Language,
)
from tests.conftest import Api, Session

ORG = """mutation($i: CreateOrganisationInput!) { createOrganisation(input: $i) { organisation { id }
  userErrors { field message } } }"""
HUB = """mutation($i: CreateHubInput!) { createHub(input: $i) { hub { id } userErrors { field message } } }"""
POST = """mutation($i: CreatePostInput!) { createPost(input: $i) { post { id language }
  userErrors { field message code } } }"""
UPDATE_POST = """mutation($i: UpdatePostInput!) { updatePost(input: $i) { post { id language }
  userErrors { field message code } } }"""
DELETE_POST = """mutation($id: ID!) { deletePost(input: {id: $id}) { post { id } userErrors { message } } }"""
EVENT = """mutation($i: CreateEventInput!) { createEvent(input: $i) { event { id language }
  userErrors { field message code } } }"""
UPDATE_EVENT = """mutation($i: UpdateEventInput!) { updateEvent(input: $i) { event { id language sequence }
  userErrors { field message code } } }"""
NODE = """query($id: ID!) { node(id: $id) { ... on Post { language } ... on Event { language } } }"""


def raw(global_id: str) -> int:
    return from_global_id(global_id)[1]


def feed(api: Api) -> FeedClient:
    return api.app.state.feed  # type: ignore[no-any-return]


def slug(api: Api, prefix: str) -> str:
    return api.unique(prefix).replace("_", "-").lower()


async def make_org(owner: Session, **fields: Any) -> str:
    data = {"slug": slug(owner.api, "org"), "name": "Göteborgs Stad", "kind": "MUNICIPALITY", **fields}
    return (await owner.ok(ORG, {"i": data}))["createOrganisation"]["organisation"]["id"]  # type: ignore[no-any-return]


async def make_hub(owner: Session, org_id: str, **fields: Any) -> str:
    data = {"slug": slug(owner.api, "hub"), "name": "Kraftsamlingen", "organisationId": org_id, **fields}
    return (await owner.ok(HUB, {"i": data}))["createHub"]["hub"]["id"]  # type: ignore[no-any-return]


async def make_post(author: Session, **fields: Any) -> str:
    data = await author.ok(POST, {"i": {"body": "Hej från Hubben", **fields}})
    return data["createPost"]["post"]["id"]  # type: ignore[no-any-return]


def at(days: float, hours: float = 2) -> dict[str, str]:
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)
    return {"startsAt": starts.isoformat(), "endsAt": (starts + timedelta(hours=hours)).isoformat()}


async def make_event(organiser: Session, **fields: Any) -> str:
    data = {"title": "AI-fika", **at(7), "location": "Lindholmen", **fields}
    return (await organiser.ok(EVENT, {"i": data}))["createEvent"]["event"]["id"]  # type: ignore[no-any-return]


async def hide(api: Api, model: type[Post] | type[Event], item_id: str) -> None:
    """What a moderator's decision to hide does to the row. (The moderation service that
    makes such decisions is not built yet; its effect on search is what is tested here.)"""
    async with api.app.state.feed_app.state.sessionmaker() as db:
        await db.execute(update(model).where(col(model.id) == raw(item_id)).values(hidden_at=utcnow()))
        await db.commit()


async def documents(api: Api, doc_type: DocType | str, **kw: Any) -> Any:
    return await feed(api).search_documents(SERVICE_PRINCIPAL, doc_type, **kw)


async def export_all(api: Api, doc_type: DocType, limit: int) -> list[IndexDocument]:
    out: list[IndexDocument] = []
    after: int | None = 0
    while after is not None:
        page = await documents(api, doc_type, after=after, limit=limit)
        assert page.gone == [] and all(d.id > after for d in page.documents)
        if page.next_after is not None:
            assert len(page.documents) == limit and page.next_after == page.documents[-1].id
        else:
            assert len(page.documents) < limit
        out += page.documents
        after = page.next_after
        assert len(out) < 1000
    return out


# --- the documents ------------------------------------------------------------------------------


async def test_post_documents(api: Api) -> None:
    owner = await api.sign_up()
    org = await make_org(owner, municipalityCode="1480")
    hub = await make_hub(owner, org)
    as_org = await make_post(
        owner,
        body="Vi söker **partner** för #AI i #Välfärd",
        title="Samarbete om språkmodeller",
        hubId=hub,
        organisationId=org,
        visibility="MEMBERS",
        language="EN",
    )
    plain = await make_post(owner)

    page = await documents(api, DocType.post, ids=[raw(as_org), raw(plain)])
    assert page.gone == [] and page.next_after is None
    doc, bare = page.documents
    assert doc.model_dump(exclude={"created_at"}) == {
        "type": DocType.post,
        "id": raw(as_org),
        "language": Language.en,
        "title": "Samarbete om språkmodeller",
        "text": "Vi söker **partner** för #AI i #Välfärd",  # the Markdown source
        "tags": ["ai", "välfärd"],
        "county_codes": [],
        "municipality_codes": [],
        "organisation_kind": None,
        "organisation_id": raw(org),
        "hub_id": raw(hub),
        "author_id": raw(owner.id),
        "audience": Audience.members,
        "starts_at": None,
        "ends_at": None,
        "area": None,
        "status": None,
        "techniques": [],
    }
    assert doc.created_at is not None and doc.key == f"post:{raw(as_org)}"
    # A post without a title, on the author's own profile, for everyone, in Swedish.
    assert (bare.title, bare.text, bare.tags, bare.language, bare.audience) == (
        "",
        "Hej från Hubben",
        [],
        Language.sv,
        Audience.public,
    )
    assert (bare.hub_id, bare.organisation_id, bare.author_id) == (None, None, raw(owner.id))


async def test_event_documents(api: Api) -> None:
    owner = await api.sign_up()
    org = await make_org(owner, municipalityCode="1480")
    hub = await make_hub(owner, org)
    times = at(10, 3)
    event = await make_event(
        owner,
        title="Hackathon: AI i kommunen",
        description="Två dagar med *öppna data*.",
        location="Lindholmen Science Park",
        municipalityCode="1480",
        hubId=hub,
        organisationId=org,
        visibility="MEMBERS",
        language="EN",
        **times,
    )
    online = await make_event(owner, description="", location=None, onlineUrl="https://meet.example.se/ai")
    placed_by_org = await make_event(owner, organisationId=org, description="Fika")

    page = await documents(api, DocType.event, ids=[raw(event), raw(online), raw(placed_by_org)])
    doc, remote, org_event = page.documents
    assert doc.model_dump(exclude={"created_at"}) == {
        "type": DocType.event,
        "id": raw(event),
        "language": Language.en,
        "title": "Hackathon: AI i kommunen",
        "text": "Två dagar med *öppna data*.\nLindholmen Science Park",
        "tags": [],
        "county_codes": ["14"],
        "municipality_codes": ["1480"],
        "organisation_kind": None,
        "organisation_id": raw(org),
        "hub_id": raw(hub),
        "author_id": raw(owner.id),
        "audience": Audience.members,
        "starts_at": datetime.fromisoformat(times["startsAt"]),
        "ends_at": datetime.fromisoformat(times["endsAt"]),
        "area": None,
        "status": None,
        "techniques": [],
    }
    # Online only: no place; a member organises it.
    assert (remote.text, remote.municipality_codes, remote.county_codes) == ("", [], [])
    assert (remote.organisation_id, remote.author_id, remote.language) == (None, raw(owner.id), Language.sv)
    # Organised by an organisation without a municipality of its own: the organisation's county.
    assert (org_event.text, org_event.county_codes, org_event.municipality_codes) == ("Fika\nLindholmen", ["14"], [])


async def test_posts_and_events_in_a_members_only_hub_are_for_its_members(api: Api) -> None:
    owner = await api.sign_up()
    hub = await make_hub(owner, await make_org(owner), visibility="MEMBERS_ONLY")
    # Whatever visibility was asked for, a members-only hub keeps its items to its members.
    post = await make_post(owner, hubId=hub, visibility="PUBLIC")
    event = await make_event(owner, hubId=hub)

    [post_doc] = (await documents(api, DocType.post, ids=[raw(post)])).documents
    [event_doc] = (await documents(api, DocType.event, ids=[raw(event)])).documents
    for doc in (post_doc, event_doc):
        assert (doc.audience, doc.hub_id) == (Audience.hub_members, raw(hub))
    hub_doc = (await api.app.state.graph.search_documents(SERVICE_PRINCIPAL, DocType.hub, ids=[raw(hub)])).documents
    assert hub_doc[0].audience == Audience.hub_members


async def test_unknown_deleted_and_hidden_items_are_gone(api: Api) -> None:
    anna = await api.sign_up()
    kept, deleted, hidden = await make_post(anna), await make_post(anna), await make_post(anna)
    await anna.ok(DELETE_POST, {"id": deleted})
    await hide(api, Post, hidden)
    unknown = 4242
    page = await documents(api, DocType.post, ids=[raw(hidden), unknown, raw(kept), raw(deleted)])
    assert [d.id for d in page.documents] == [raw(kept)]
    assert page.gone == [raw(hidden), unknown, raw(deleted)]

    event, hidden_event = await make_event(anna), await make_event(anna)
    await hide(api, Event, hidden_event)
    page = await documents(api, DocType.event, ids=[raw(event), raw(hidden_event), raw(kept)])
    # A post's id is not an event's.
    assert ([d.id for d in page.documents], page.gone) == ([raw(event)], [raw(hidden_event), raw(kept)])


async def test_export_pages_through_every_live_item_once(api: Api) -> None:
    anna = await api.sign_up()
    hub = await make_hub(anna, await make_org(anna), visibility="MEMBERS_ONLY")
    posts = [await make_post(anna, body=f"Inlägg {i}", hubId=hub if i % 2 else None) for i in range(7)]
    await anna.ok(DELETE_POST, {"id": posts[2]})
    await hide(api, Post, posts[5])
    live_posts = sorted(raw(p) for i, p in enumerate(posts) if i not in (2, 5))
    events = [await make_event(anna, title=f"Träff {i}") for i in range(4)]
    await hide(api, Event, events[1])
    live_events = sorted(raw(e) for i, e in enumerate(events) if i != 1)

    for limit in (1, 2, 5, MAX_DOCUMENTS_PER_CALL):
        assert [d.id for d in await export_all(api, DocType.post, limit)] == live_posts, limit
        assert [d.id for d in await export_all(api, DocType.event, limit)] == live_events, limit
    exported = {d.id: d for d in await export_all(api, DocType.post, 2)}
    assert {i for i, d in exported.items() if d.audience == Audience.hub_members} == {
        raw(p) for i, p in enumerate(posts) if i % 2 and i != 5
    }
    # The default page is the largest; past the last id there is nothing.
    assert [d.id for d in (await documents(api, DocType.event)).documents] == live_events
    tail = await documents(api, DocType.event, after=live_events[-1])
    assert (tail.documents, tail.next_after) == ([], None)


# --- who may ask, and what they may ask ---------------------------------------------------------------


async def test_only_services_may_read_documents(api: Api) -> None:
    anna = await api.sign_up()
    post = await make_post(anna)
    member = Principal(member_id=raw(anna.id), roles=("member",), token_kind="jwt")
    anonymous = Principal(member_id=None, scopes=("read",), token_kind="anonymous")
    on_behalf = Principal(member_id=raw(anna.id), scopes=("read",), token_kind="service")
    for who in (member, anonymous, on_behalf):
        with pytest.raises(Forbidden):
            await feed(api).search_documents(who, DocType.post, ids=[raw(post)])
        with pytest.raises(Forbidden):
            await feed(api).search_documents(who, DocType.event, after=0, limit=10)
    client = feed(api)
    headers = {"authorization": f"Bearer {client.codec.issue_internal_token(member)}"}
    response = await client.http.get(SEARCH_DOCUMENTS_PATH, params={"type": "post", "after": 0}, headers=headers)
    assert response.status_code == 403 and response.json()["code"] == "FORBIDDEN"


@pytest.mark.parametrize(
    ("doc_type", "kw", "field"),
    [
        ("member", {"ids": [1]}, "type"),  # the graph's
        ("hub", {"after": 0}, "type"),
        ("comment", {}, "type"),
        ("post", {"limit": MAX_DOCUMENTS_PER_CALL + 1}, "limit"),
        ("event", {"after": 0, "limit": -5}, "limit"),
        ("post", {"ids": list(range(1, MAX_DOCUMENTS_PER_CALL + 2))}, "ids"),
        ("event", {"ids": [1], "after": 3}, "ids"),
    ],
)
async def test_bad_queries_are_bad_user_input(api: Api, doc_type: str, kw: dict[str, Any], field: str) -> None:
    with pytest.raises(BadUserInput) as refused:
        await documents(api, doc_type, **kw)
    assert refused.value.field == field and refused.value.message


# --- language -----------------------------------------------------------------------------------------


async def test_post_and_event_language_round_trip(api: Api) -> None:
    anna = await api.sign_up()
    default = (await anna.ok(POST, {"i": {"body": "Hej"}}))["createPost"]["post"]
    assert default["language"] == "SV"
    english = (await anna.ok(POST, {"i": {"body": "Hello", "language": "EN"}}))["createPost"]["post"]
    assert english["language"] == "EN"
    assert (await anna.ok(NODE, {"id": english["id"]}))["node"] == {"language": "EN"}
    # Changing the body keeps the language; changing the language changes it.
    await anna.ok(UPDATE_POST, {"i": {"id": english["id"], "body": "Hello again"}})
    assert (await anna.ok(NODE, {"id": english["id"]}))["node"] == {"language": "EN"}
    updated = (await anna.ok(UPDATE_POST, {"i": {"id": english["id"], "language": "SV"}}))["updatePost"]["post"]
    assert updated["language"] == "SV"
    [doc] = (await documents(api, DocType.post, ids=[raw(english["id"])])).documents
    assert doc.language == Language.sv

    event = (await anna.ok(EVENT, {"i": {"title": "Meetup", **at(3), "location": "Malmö", "language": "EN"}}))[
        "createEvent"
    ]["event"]
    assert event["language"] == "EN"
    assert (await anna.ok(NODE, {"id": event["id"]}))["node"] == {"language": "EN"}
    changed = (await anna.ok(UPDATE_EVENT, {"i": {"id": event["id"], "language": "SV"}}))["updateEvent"]["event"]
    assert changed["language"] == "SV"
    assert (await anna.ok(NODE, {"id": event["id"]}))["node"] == {"language": "SV"}
    plain_event = await make_event(anna)
    assert (await anna.ok(NODE, {"id": plain_event}))["node"] == {"language": "SV"}


async def test_a_bad_language_is_refused_clearly(api: Api) -> None:
    anna = await api.sign_up()
    post = await make_post(anna)
    event = await make_event(anna)
    # Not a value of the GraphQL enum: refused before anything runs.
    for query, variables in (
        (POST, {"i": {"body": "Hallo", "language": "DE"}}),
        (UPDATE_POST, {"i": {"id": post, "language": "de"}}),
        (EVENT, {"i": {"title": "Treffen", **at(3), "location": "Berlin", "language": "DE"}}),
        (UPDATE_EVENT, {"i": {"id": event, "language": "XX"}}),
    ):
        body = await anna.gql(query, variables)
        assert body["data"] is None, body
        error = body["errors"][0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT" and "Language" in error["message"], error
    # The language cannot be cleared.
    for query, name, item in ((UPDATE_POST, "updatePost", post), (UPDATE_EVENT, "updateEvent", event)):
        body = await anna.gql(query, {"i": {"id": item, "language": None}})
        assert body["data"][name]["userErrors"] == [
            {"field": "language", "message": body["data"][name]["userErrors"][0]["message"], "code": "BAD_USER_INPUT"}
        ]
        assert "cleared" in body["data"][name]["userErrors"][0]["message"]
    # The feed service itself names the field and the values it takes.
    member = Principal(member_id=raw(anna.id), roles=("member",), token_kind="jwt")
    with pytest.raises(BadUserInput) as refused:
        await feed(api).create_post(member, {"body": "Hallo", "language": "de"})
    assert refused.value.field == "language" and "'sv' or 'en'" in refused.value.message
    with pytest.raises(BadUserInput) as refused:
        await feed(api).update_event(member, raw(event), {"language": "german"})
    assert refused.value.field == "language"
    # Nothing changed.
    assert (await anna.ok(NODE, {"id": post}))["node"] == {"language": "SV"}
    assert (await anna.ok(NODE, {"id": event}))["node"] == {"language": "SV"}
