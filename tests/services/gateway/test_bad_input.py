"""Bad input never reaches the data and never becomes an internal error.

Every mutation in the schema gets malformed ids, ids of the wrong type, over-long strings,
unknown input fields, invalid enum values and ill-typed scalars. Each answer must be a clear
userError (BAD_USER_INPUT, naming the field) or a GraphQL error with an extensions.code, never
INTERNAL or a 5xx, and every table is compared before and after to prove nothing changed."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    Undefined,
)

from services.gateway.graphql.schema import build_schema
from shared.ids import to_global_id
from tests.conftest import Api, Session

SCHEMA = build_schema()._schema
MUTATIONS = SCHEMA.mutation_type.fields  # type: ignore[union-attr]
PASSWORD = "correct horse battery"

# --- the world every case runs against -------------------------------------------------


@dataclass
class World:
    owner: Session  # owns `org`, admin of `hub` and `request_hub`
    member: Session  # in `org` and `hub`
    outsider: Session
    invitee: Session  # has a pending invitation to `org`
    requester: Session  # asked to join `request_hub`
    moderator: Session
    admin: Session
    org: str
    hub: str
    request_hub: str
    invitation: str
    pat: str
    post: str  # by `member` in `hub`
    event: str  # organised by `owner` in `hub`, `member` going
    comment: str  # by `member` on `post`
    other_org: str  # owned by `outsider`
    initiative: str  # of `org`
    other_initiative: str  # of `other_org`, public


async def build_world(api: Api) -> World:
    owner, member, outsider, invitee, requester = [await api.sign_up() for _ in range(5)]
    org = (
        await owner.ok(
            """mutation { createOrganisation(input: {slug: "lulea", name: "Luleå kommun", kind: MUNICIPALITY,
               municipalityCode: "2580"}) { organisation { id } userErrors { message } } }"""
        )
    )["createOrganisation"]["organisation"]["id"]
    hub_ids = []
    for slug, policy in (("ai-lab", "OPEN"), ("inner-circle", "REQUEST")):
        hub_ids.append(
            (
                await owner.ok(
                    """mutation($s: String!, $o: ID!, $p: JoinPolicy!) { createHub(input: {slug: $s, name: $s,
                       organisationId: $o, joinPolicy: $p}) { hub { id } userErrors { message } } }""",
                    {"s": slug, "o": org, "p": policy},
                )
            )["createHub"]["hub"]["id"]
        )
    invite = """mutation($o: ID!, $m: ID!) { inviteToOrganisation(input: {organisationId: $o, memberId: $m}) {
                invitation { id } userErrors { message } } }"""
    first = (await owner.ok(invite, {"o": org, "m": member.id}))["inviteToOrganisation"]["invitation"]["id"]
    await member.ok(
        "mutation($i: ID!) { acceptOrganisationInvitation(input: {invitationId: $i}) { userErrors { message } } }",
        {"i": first},
    )
    invitation = (await owner.ok(invite, {"o": org, "m": invitee.id}))["inviteToOrganisation"]["invitation"]["id"]
    join = "mutation($h: ID!) { joinHub(input: {hubId: $h}) { membership { state } userErrors { message } } }"
    assert (await member.ok(join, {"h": hub_ids[0]}))["joinHub"]["membership"]["state"] == "ACTIVE"
    assert (await requester.ok(join, {"h": hub_ids[1]}))["joinHub"]["membership"]["state"] == "REQUESTED"
    pat = (
        await owner.ok(
            """mutation { createPersonalAccessToken(input: {name: "ci", scopes: ["read"]}) {
               personalAccessToken { id } userErrors { message } } }"""
        )
    )["createPersonalAccessToken"]["personalAccessToken"]["id"]
    post = (
        await member.ok(
            """mutation($h: ID!) { createPost(input: {hubId: $h, body: "Hej #ai"}) { post { id }
               userErrors { message } } }""",
            {"h": hub_ids[0]},
        )
    )["createPost"]["post"]["id"]
    event = (
        await owner.ok(
            """mutation($i: CreateEventInput!) { createEvent(input: $i) { event { id } userErrors { message } } }""",
            {"i": {**event_times(), "title": "AI-fika", "location": "Luleå", "hubId": hub_ids[0], "capacity": 5}},
        )
    )["createEvent"]["event"]["id"]
    await member.ok(
        """mutation($e: ID!) { rsvpToEvent(input: {eventId: $e, status: GOING}) { userErrors { message } } }""",
        {"e": event},
    )
    comment = (
        await member.ok(
            """mutation($t: ID!) { createComment(input: {targetId: $t, body: "Tack"}) { comment { id }
               userErrors { message } } }""",
            {"t": post},
        )
    )["createComment"]["comment"]["id"]
    initiatives = []
    for who, name in ((owner, "org"), (outsider, "other_org")):
        owning = org
        if name == "other_org":
            owning = (
                await outsider.ok(
                    """mutation { createOrganisation(input: {slug: "kiruna", name: "Kiruna kommun",
                       kind: MUNICIPALITY}) { organisation { id } userErrors { message } } }"""
                )
            )["createOrganisation"]["organisation"]["id"]
        made = await who.ok(
            """mutation($o: ID!) { createInitiative(input: {organisationId: $o, title: "Chattbot",
               area: ADMINISTRATION}) { initiative { id organisation { id } } userErrors { message } } }""",
            {"o": owning},
        )
        initiatives.append(made["createInitiative"]["initiative"])
    await settled(api)
    return World(
        owner=owner,
        member=member,
        outsider=outsider,
        invitee=invitee,
        requester=requester,
        moderator=await api.make_admin("moderator"),
        admin=await api.make_admin("admin"),
        org=org,
        hub=hub_ids[0],
        request_hub=hub_ids[1],
        invitation=invitation,
        pat=pat,
        post=post,
        event=event,
        comment=comment,
        other_org=initiatives[1]["organisation"]["id"],
        initiative=initiatives[0]["id"],
        other_initiative=initiatives[1]["id"],
    )


def in_days(days: int) -> str:
    return (datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)).isoformat()


def event_times(days: int = 7) -> dict[str, str]:
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)
    return {"startsAt": starts.isoformat(), "endsAt": (starts + timedelta(hours=2)).isoformat()}


async def settled(api: Api) -> None:
    """Wait until every job caused so far has run, so that every table holds still."""
    await api.settle()


async def snapshot(api: Api) -> dict[str, list[str]]:
    """Every row of every table of the graph and feed services."""
    from sqlalchemy import select

    from services.feed.models import TABLES as FEED_TABLES
    from services.graph.models import TABLES as GRAPH_TABLES
    from services.moderation.models import TABLES as MODERATION_TABLES

    out = {}
    sessions = (
        ("graph", GRAPH_TABLES, await api.graph_session()),
        ("feed", FEED_TABLES, feed_session(api)),
        ("moderation", MODERATION_TABLES, api.app.state.moderation_app.state.sessionmaker()),
    )
    for service, tables, session in sessions:
        async with session as db:
            for model in tables:
                table = model.__table__  # type: ignore[attr-defined]
                # The outbox relay marks rows delivered in the background: compare what was written.
                columns = [c for c in table.columns if c.name not in ("dispatched_at", "attempts")]
                rows = (await db.execute(select(*columns))).all()
                out[f"{service}.{model.__tablename__}"] = sorted(repr(tuple(r)) for r in rows)
    return out


def feed_session(api: Api) -> Any:
    return api.app.state.feed_app.state.sessionmaker()


# --- what each mutation is called with when all is well --------------------------------


@dataclass
class Spec:
    actor: str | None  # attribute of World, or None for anonymous
    base: Callable[[World], dict[str, Any]]
    id_types: dict[str, str]  # ID field -> the type it must be


LONG_TEXT_INPUT = {
    "displayName": "Maria",
    "headline": "AI lead",
    "bio": "Hello",
    "avatarUrl": "https://example.se/a.png",
}

SPECS: dict[str, Spec] = {
    "signUp": Spec(
        None,
        lambda w: {
            "email": "new@example.se",
            "password": PASSWORD,
            "handle": "newbie",
            "displayName": "New",
            "language": "SV",
        },
        {},
    ),
    "logIn": Spec(None, lambda w: {"email": w.owner.email, "password": w.owner.password}, {}),
    "refreshSession": Spec(None, lambda w: {"refreshToken": w.owner.refresh_token}, {}),
    "logOut": Spec(None, lambda w: {"refreshToken": w.owner.refresh_token}, {}),
    "requestEmailVerification": Spec("member", lambda w: {}, {}),
    "verifyEmail": Spec(None, lambda w: {"token": "t" * 40}, {}),  # the link works signed out
    "requestPasswordReset": Spec(None, lambda w: {"email": w.member.email}, {}),
    "resetPassword": Spec(None, lambda w: {"token": "t" * 40, "newPassword": "another horse battery"}, {}),
    "deleteAccount": Spec("outsider", lambda w: {"password": PASSWORD}, {}),
    "changePassword": Spec(
        "member", lambda w: {"currentPassword": PASSWORD, "newPassword": "another horse battery"}, {}
    ),
    "createPersonalAccessToken": Spec(
        "member", lambda w: {"name": "deploy", "scopes": ["read", "write"], "expiresInDays": 30}, {}
    ),
    "revokePersonalAccessToken": Spec("owner", lambda w: {"id": w.pat}, {"id": "PersonalAccessToken"}),
    "updateProfile": Spec(
        "member",
        lambda w: {
            **LONG_TEXT_INPUT,
            "municipalityCode": "2580",
            "organisationId": w.org,
            "skills": ["nlp"],
            "links": [{"label": "Site", "url": "https://example.se"}],
            "language": "EN",
        },
        {"organisationId": "Organisation"},
    ),
    "follow": Spec("member", lambda w: {"targetId": w.outsider.id}, {"targetId": "Member"}),
    "unfollow": Spec("member", lambda w: {"targetId": w.owner.id}, {"targetId": "Member"}),
    "blockMember": Spec("member", lambda w: {"memberId": w.outsider.id}, {"memberId": "Member"}),
    "unblockMember": Spec("member", lambda w: {"memberId": w.outsider.id}, {"memberId": "Member"}),
    "muteMember": Spec("member", lambda w: {"memberId": w.outsider.id}, {"memberId": "Member"}),
    "unmuteMember": Spec("member", lambda w: {"memberId": w.outsider.id}, {"memberId": "Member"}),
    "suspendMember": Spec(
        "moderator",
        lambda w: {"memberId": w.outsider.id, "until": in_days(30), "reason": "Spam"},
        {"memberId": "Member"},
    ),
    "setPlatformRole": Spec(
        "admin", lambda w: {"memberId": w.outsider.id, "role": "MODERATOR"}, {"memberId": "Member"}
    ),
    "createOrganisation": Spec(
        "member",
        lambda w: {
            "slug": "norrbotten",
            "name": "Region Norrbotten",
            "kind": "REGION",
            "municipalityCode": "2580",
            "countyCode": "25",
            "website": "https://norrbotten.se",
            "logoUrl": "https://norrbotten.se/logo.png",
            "description": "The region",
        },
        {},
    ),
    "updateOrganisation": Spec(
        "owner",
        lambda w: {
            "id": w.org,
            "name": "Luleå",
            "kind": "MUNICIPALITY",
            "municipalityCode": "2580",
            "countyCode": "25",
            "website": "https://lulea.se",
            "logoUrl": "https://lulea.se/logo.png",
            "description": "Kommunen",
        },
        {"id": "Organisation"},
    ),
    "setOrganisationVerified": Spec(
        "moderator",
        lambda w: {"organisationId": w.org, "verified": True, "reason": "Checked"},
        {"organisationId": "Organisation"},
    ),
    "setOrganisationRole": Spec(
        "owner",
        lambda w: {"organisationId": w.org, "memberId": w.member.id, "role": "EDITOR"},
        {"organisationId": "Organisation", "memberId": "Member"},
    ),
    "removeOrganisationMember": Spec(
        "owner",
        lambda w: {"organisationId": w.org, "memberId": w.member.id},
        {"organisationId": "Organisation", "memberId": "Member"},
    ),
    "inviteToOrganisation": Spec(
        "owner",
        lambda w: {"organisationId": w.org, "memberId": w.outsider.id, "role": "ADMIN"},
        {"organisationId": "Organisation", "memberId": "Member"},
    ),
    "acceptOrganisationInvitation": Spec(
        "invitee", lambda w: {"invitationId": w.invitation}, {"invitationId": "OrganisationInvitation"}
    ),
    "declineOrganisationInvitation": Spec(
        "invitee", lambda w: {"invitationId": w.invitation}, {"invitationId": "OrganisationInvitation"}
    ),
    "revokeOrganisationInvitation": Spec(
        "owner", lambda w: {"invitationId": w.invitation}, {"invitationId": "OrganisationInvitation"}
    ),
    "createHub": Spec(
        "owner",
        lambda w: {
            "slug": "new-hub",
            "name": "New hub",
            "organisationId": w.org,
            "description": "About",
            "visibility": "MEMBERS_ONLY",
            "joinPolicy": "INVITE",
        },
        {"organisationId": "Organisation"},
    ),
    "updateHub": Spec(
        "owner",
        lambda w: {"id": w.hub, "name": "Renamed", "description": "New", "visibility": "PUBLIC", "joinPolicy": "OPEN"},
        {"id": "Hub"},
    ),
    "joinHub": Spec("outsider", lambda w: {"hubId": w.hub}, {"hubId": "Hub"}),
    "leaveHub": Spec("member", lambda w: {"hubId": w.hub}, {"hubId": "Hub"}),
    "inviteToHub": Spec(
        "owner", lambda w: {"hubId": w.hub, "memberId": w.outsider.id}, {"hubId": "Hub", "memberId": "Member"}
    ),
    "approveHubRequest": Spec(
        "owner",
        lambda w: {"hubId": w.request_hub, "memberId": w.requester.id},
        {"hubId": "Hub", "memberId": "Member"},
    ),
    "rejectHubRequest": Spec(
        "owner",
        lambda w: {"hubId": w.request_hub, "memberId": w.requester.id},
        {"hubId": "Hub", "memberId": "Member"},
    ),
    "removeHubMember": Spec(
        "owner", lambda w: {"hubId": w.hub, "memberId": w.member.id}, {"hubId": "Hub", "memberId": "Member"}
    ),
    "setHubRole": Spec(
        "owner",
        lambda w: {"hubId": w.hub, "memberId": w.member.id, "role": "MODERATOR"},
        {"hubId": "Hub", "memberId": "Member"},
    ),
    "createPost": Spec(
        "owner",
        lambda w: {
            "body": "Vår vägledning om #ai",
            "kind": "RESOURCE",
            "title": "Vägledning",
            "url": "https://lulea.se/ai",
            "hubId": w.hub,
            "organisationId": w.org,
            "visibility": "MEMBERS",
            "language": "EN",
        },
        {"hubId": "Hub", "organisationId": "Organisation"},
    ),
    "updatePost": Spec(
        "member",
        lambda w: {
            "id": w.post,
            "body": "Rättat",
            "kind": "RESOURCE",
            "title": "Länk",
            "url": "https://example.se/ai",
            "language": "EN",
        },
        {"id": "Post"},
    ),
    "deletePost": Spec("member", lambda w: {"id": w.post}, {"id": "Post"}),
    "pinPost": Spec("owner", lambda w: {"id": w.post}, {"id": "Post"}),
    "unpinPost": Spec("owner", lambda w: {"id": w.post}, {"id": "Post"}),
    "createEvent": Spec(
        "owner",
        lambda w: {
            **event_times(10),
            "title": "AI-frukost",
            "description": "Om **AI** i kommunen",
            "timeZone": "Europe/Stockholm",
            "location": "Stadshuset",
            "onlineUrl": "https://meet.example.se/ai",
            "municipalityCode": "2580",
            "capacity": 40,
            "hubId": w.hub,
            "organisationId": w.org,
            "visibility": "PUBLIC",
            "language": "EN",
        },
        {"hubId": "Hub", "organisationId": "Organisation"},
    ),
    "updateEvent": Spec(
        "owner",
        lambda w: {
            "id": w.event,
            **event_times(8),
            "title": "AI-fika, flyttad",
            "description": "Ny tid",
            "timeZone": "Europe/Stockholm",
            "location": "Kulturens hus",
            "onlineUrl": "https://meet.example.se/fika",
            "municipalityCode": "2580",
            "capacity": 6,
            "language": "SV",
        },
        {"id": "Event"},
    ),
    "cancelEvent": Spec("owner", lambda w: {"id": w.event}, {"id": "Event"}),
    "rsvpToEvent": Spec("outsider", lambda w: {"eventId": w.event, "status": "INTERESTED"}, {"eventId": "Event"}),
    "createComment": Spec(
        "outsider",
        lambda w: {"targetId": w.post, "body": "Håller med", "parentId": w.comment},
        {"targetId": "Post", "parentId": "Comment"},
    ),
    "updateComment": Spec("member", lambda w: {"id": w.comment, "body": "Tack så mycket"}, {"id": "Comment"}),
    "deleteComment": Spec("member", lambda w: {"id": w.comment}, {"id": "Comment"}),
    "react": Spec("outsider", lambda w: {"targetId": w.post, "kind": "INSIGHTFUL"}, {"targetId": "Post"}),
    "removeReaction": Spec("member", lambda w: {"targetId": w.post}, {"targetId": "Post"}),
    # A well-formed id of nobody's notification: only refusals are tested here (and in
    # tests/services/feed/test_notifications.py, reading one's own).
    "markNotificationsRead": Spec(
        "member", lambda w: {"ids": [to_global_id("Notification", 1)], "all": False}, {"ids": "Notification"}
    ),
    "setNotificationPreference": Spec("member", lambda w: {"kind": "REACTION", "inApp": False, "email": "OFF"}, {}),
    "setBell": Spec("member", lambda w: {"targetId": w.hub, "on": True}, {"targetId": "Hub"}),
    "replayFailedJob": Spec("admin", lambda w: {"id": to_global_id("FeedFailedJob", 1)}, {"id": "FeedFailedJob"}),
    "reportContent": Spec(
        "outsider", lambda w: {"targetId": w.post, "reason": "SPAM", "note": "Reklam"}, {"targetId": "Post"}
    ),
    # Well-formed ids of no case: only refusals are tested here (tests/services/moderation
    # works real cases).
    "claimCase": Spec(
        "moderator",
        lambda w: {"caseId": to_global_id("ModerationCase", 1), "release": False},
        {"caseId": "ModerationCase"},
    ),
    "decideCase": Spec(
        "moderator",
        lambda w: {
            "caseId": to_global_id("ModerationCase", 1),
            "action": "SUSPEND",
            "reason": "Spam",
            "suspendUntil": in_days(30),
        },
        {"caseId": "ModerationCase"},
    ),
    "appealDecision": Spec(
        "member",
        lambda w: {"caseId": to_global_id("ModerationCase", 1), "statement": "It was satire"},
        {"caseId": "ModerationCase"},
    ),
    "moderateMember": Spec(
        "moderator",
        lambda w: {
            "memberId": w.outsider.id,
            "action": "SUSPEND",
            "reason": "Spam",
            "suspendUntil": in_days(30),
        },
        {"memberId": "Member"},
    ),
    "moderateOrganisation": Spec(
        "moderator",
        lambda w: {"organisationId": w.org, "action": "VERIFY_ORGANISATION", "reason": "Checked"},
        {"organisationId": "Organisation"},
    ),
    "appointHubModerator": Spec(
        "moderator",
        lambda w: {"hubId": w.hub, "memberId": w.member.id, "reason": "Trusted", "remove": False},
        {"hubId": "Hub", "memberId": "Member"},
    ),
}

INITIATIVE_INPUT = {
    "title": "Språkmodell för diarieföring",
    "area": "ADMINISTRATION",
    "summary": "Förslag på diarienummer",
    "description": "Vi **testar**",
    "techniques": ["språkmodeller"],
    "status": "PILOT",
    "visibility": "PUBLIC",
    "societalBenefit": "Snabbare handläggning",
    "funder": "Vinnova",
    "programme": "Utmaningsdriven innovation",
    "links": [{"label": "Rapport", "url": "https://example.se/rapport"}],
    "startsOn": "2026-01-01",
    "endsOn": "2026-12-31",
    "seekingPartners": True,
    "openToReuse": True,
    "places": [{"municipalityCode": "2580", "countyCode": "25"}],
}
INITIATIVE_IDS = {"contactMemberId": "Member", "partnerOrganisationIds": "Organisation"}


def initiative_input(w: World) -> dict[str, Any]:
    return {
        **INITIATIVE_INPUT,
        "contactMemberId": w.member.id,
        "partnerOrganisationIds": [w.other_org],
        "reusesInitiativeIds": [w.other_initiative],
    }


SPECS.update(
    {
        "createInitiative": Spec(
            "owner",
            lambda w: {"organisationId": w.org, **initiative_input(w)},
            {**INITIATIVE_IDS, "organisationId": "Organisation", "reusesInitiativeIds": "Initiative"},
        ),
        "updateInitiative": Spec(
            "owner",
            lambda w: {"id": w.initiative, **initiative_input(w)},
            {**INITIATIVE_IDS, "id": "Initiative", "reusesInitiativeIds": "Initiative"},
        ),
        "deleteInitiative": Spec("owner", lambda w: {"id": w.initiative}, {"id": "Initiative"}),
    }
)

# The longest value each string field takes; one more character must be refused.
STRING_LIMITS = {
    "email": 320,
    "password": 200,
    "newPassword": 200,
    "currentPassword": 200,
    "handle": 30,
    "displayName": 100,
    "name": 150,
    "headline": 200,
    "bio": 5000,
    "description": 5000,
    "slug": 60,
    "refreshToken": 200,
    "token": 200,
    "avatarUrl": 500,
    "website": 500,
    "logoUrl": 500,
    "url": 500,
    "label": 60,
    "municipalityCode": 4,
    "countyCode": 2,
    "skills": 40,
    "scopes": 10,
    "body": 10_000,
    "title": 200,
    "timeZone": 64,
    "location": 300,
    "onlineUrl": 500,
    "reason": 1000,
    "note": 1000,
    "statement": 2000,
    "summary": 500,
    "societalBenefit": 2000,
    "funder": 150,
    "programme": 150,
    "techniques": 40,
}
# Where one mutation takes a longer value than the field's name does elsewhere.
STRING_LIMIT_OVERRIDES = {
    ("createEvent", "description"): 10_000,
    ("updateEvent", "description"): 10_000,
    ("createInitiative", "description"): 20_000,
    ("updateInitiative", "description"): 20_000,
}
URL_FIELDS = {"avatarUrl", "website", "logoUrl", "url", "onlineUrl"}


def string_limit(mutation: str, field: str) -> int:
    return STRING_LIMIT_OVERRIDES.get((mutation, field), STRING_LIMITS[field])


def too_long(field: str, length: int) -> str:
    """A value of `length` characters that is otherwise of the right shape."""
    if field in URL_FIELDS:
        return "https://example.se/" + "a" * (length - len("https://example.se/"))
    if field == "email":
        return "a" * (length - len("@example.se")) + "@example.se"
    if field in ("municipalityCode", "countyCode"):
        return "2" * length
    return "a" * length


# --- introspecting the inputs -------------------------------------------------------------


def unwrap(t: Any) -> Any:
    while isinstance(t, GraphQLNonNull | GraphQLList):
        t = t.of_type
    return t


def is_list(t: Any) -> bool:
    if isinstance(t, GraphQLNonNull):
        t = t.of_type
    return isinstance(t, GraphQLList)


def input_type(mutation: str) -> GraphQLInputObjectType | None:
    arg = MUTATIONS[mutation].args.get("input")
    return unwrap(arg.type) if arg else None


def operation(mutation: str) -> str:
    t = input_type(mutation)
    if t is None:
        return f"mutation {{ {mutation} {{ userErrors {{ field message code }} }} }}"
    return f"mutation($input: {t.name}!) {{ {mutation}(input: $input) {{ userErrors {{ field message code }} }} }}"


@dataclass
class Case:
    mutation: str
    what: str
    input: dict[str, Any]
    field: str | None  # the field a userError must name; None: a top-level BAD_USER_INPUT is expected
    top_level: bool = False


def _replace(base: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    out = json.loads(json.dumps(base))
    target: Any = out
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return out


def wrong_type_id(w: World, expected: str) -> str:
    # A real id of a real object, just not of the type the field wants.
    return {
        "Member": w.hub,
        "Organisation": w.owner.id,
        "Hub": w.org,
        "OrganisationInvitation": w.org,
        "PersonalAccessToken": w.owner.id,
        "Post": w.event,
        "Event": w.post,
        "Comment": w.post,
        "Notification": w.post,
        "FeedFailedJob": w.post,
        "ModerationCase": w.post,
        "Initiative": w.org,
    }[expected]


def id_cases(w: World) -> list[Case]:
    cases = []
    for mutation, spec in SPECS.items():
        base = spec.base(w)
        for field, expected in spec.id_types.items():
            wrong = w.pat if field == "targetId" else wrong_type_id(w, expected)
            for what, value in (
                ("not-an-id", "not-an-id"),
                ("empty id", ""),
                ("huge id", to_global_id(expected, 10**30)),
                (f"a {wrong[:6]} id of the wrong type", wrong),
                ("an id of an unknown type", to_global_id("Invoice", 1)),
            ):
                cases.append(Case(mutation, f"{field}: {what}", _replace(base, (field,), value), field))
    return cases


def string_cases(w: World) -> list[Case]:
    cases = []
    for mutation, spec in SPECS.items():
        t = input_type(mutation)
        if t is None:
            continue
        base = spec.base(w)
        for field, f in t.fields.items():
            named = unwrap(f.type)
            if isinstance(named, GraphQLInputObjectType):
                # Nested inputs (links): each string field of the first item.
                for sub, sf in named.fields.items():
                    if isinstance(unwrap(sf.type), GraphQLScalarType) and unwrap(sf.type).name == "String":
                        for length in (STRING_LIMITS[sub] + 1, 100_000):
                            value = _replace(base, (field, 0, sub), too_long(sub, length))
                            cases.append(Case(mutation, f"{field}.{sub}: {length} chars", value, field))
                continue
            if not (isinstance(named, GraphQLScalarType) and named.name == "String"):
                continue
            for length in (string_limit(mutation, field) + 1, 100_000):
                value: Any = too_long(field, length)
                if is_list(f.type):
                    value = [value]
                cases.append(Case(mutation, f"{field}: {length} chars", _replace(base, (field,), value), field))
    return cases


def unknown_field_cases(w: World) -> list[Case]:
    cases = []
    for mutation, spec in SPECS.items():
        if input_type(mutation) is None:
            continue
        extra = {**spec.base(w), "bogusField": "x"}
        cases.append(Case(mutation, "unknown field bogusField", extra, None, top_level=True))
        snake = {**spec.base(w), "member_id": "x"}
        cases.append(Case(mutation, "snake_case field", snake, None, top_level=True))
    return cases


def enum_cases(w: World) -> list[Case]:
    cases = []
    for mutation, spec in SPECS.items():
        t = input_type(mutation)
        if t is None:
            continue
        base = spec.base(w)
        for field, f in t.fields.items():
            named = unwrap(f.type)
            if not isinstance(named, GraphQLEnumType):
                continue
            valid = next(iter(named.values))
            for value in ("NOT_A_VALUE", valid.lower(), "", 1):
                cases.append(Case(mutation, f"{field}: {value!r}", _replace(base, (field,), value), None, True))
    return cases


def scalar_cases(w: World) -> list[Case]:
    """Values of the wrong GraphQL type, and missing required fields."""
    cases = []
    for mutation, spec in SPECS.items():
        t = input_type(mutation)
        if t is None:
            continue
        base = spec.base(w)
        for field, f in t.fields.items():
            named = unwrap(f.type)
            bad: list[Any] = []
            if isinstance(named, GraphQLScalarType):
                bad = {
                    "String": [{"a": 1}],
                    "ID": [{"a": 1}, 1.5],
                    "Int": ["ten", 1.5, 2**31],
                    "Boolean": ["yes", 1],
                    "DateTime": ["not a date", "2099-13-45T00:00:00Z", 12],
                    "Date": ["not a date", "2099-13-45", "2026-01-01T10:00:00Z", 12],
                }[named.name]
                if is_list(f.type):
                    # A lone value is a list of one (input coercion), so only a null item is wrong for strings and ids.
                    bad.append("not a list of one" if named.name not in ("String", "ID") else [None])
            for value in bad:
                cases.append(Case(mutation, f"{field}: {value!r}", _replace(base, (field,), value), None, True))
            if isinstance(f.type, GraphQLNonNull) and f.default_value is Undefined:
                missing = {k: v for k, v in base.items() if k != field}
                cases.append(Case(mutation, f"{field} missing", missing, None, True))
                cases.append(Case(mutation, f"{field} null", {**base, field: None}, None, True))
    return cases


CATEGORIES: dict[str, Callable[[World], list[Case]]] = {
    "malformed and wrong-type ids": id_cases,
    "over-long strings": string_cases,
    "unknown input fields": unknown_field_cases,
    "invalid enum values": enum_cases,
    "ill-typed scalars and missing fields": scalar_cases,
}


def problem(body: dict[str, Any], case: Case) -> str | None:
    """Why this answer is not a clean refusal, or None when it is."""
    if body["_status"] >= 500:
        return f"HTTP {body['_status']}"
    errors = body.get("errors") or []
    codes = [e.get("extensions", {}).get("code") for e in errors]
    if "INTERNAL" in codes or None in codes:
        return f"errors without a proper code: {errors}"
    if case.top_level:
        if codes != ["BAD_USER_INPUT"] * len(codes) or not codes:
            return f"expected a top-level BAD_USER_INPUT, got {errors or body.get('data')}"
        if body.get("data") is not None:
            return f"a validation error must not execute anything: {body['data']}"
        return None
    if errors:
        return f"expected a userError on {case.field}, got errors {errors}"
    payload = (body.get("data") or {}).get(case.mutation) or {}
    user_errors = payload.get("userErrors") or []
    if len(user_errors) != 1:
        return f"expected one userError, got {payload}"
    e = user_errors[0]
    if e["code"] != "BAD_USER_INPUT" or not e["message"]:
        return f"expected BAD_USER_INPUT with a message, got {e}"
    if (e["field"] or "").split(".")[0] != case.field:
        return f"expected the userError on {case.field}, got {e}"
    return None


def actor(w: World, api: Api, name: str | None) -> Session | Api:
    return getattr(w, name) if name else api


@pytest.mark.parametrize("category", list(CATEGORIES))
async def test_every_mutation_refuses_bad_input_without_changing_data(api: Api, category: str) -> None:
    w = await build_world(api)
    cases = CATEGORIES[category](w)
    assert cases
    problems = []
    before = await snapshot(api)
    for case in cases:
        who = actor(w, api, SPECS[case.mutation].actor)
        body = await who.gql(operation(case.mutation), {"input": case.input})
        why = problem(body, case)
        after = await snapshot(api)
        if after != before:
            changed = sorted(k for k in after if after[k] != before[k])
            why = (why + "; " if why else "") + f"data changed in {changed}"
            before = after
        if why:
            problems.append(f"{case.mutation} / {case.what}: {why}")
    assert not problems, "\n".join(problems)


def test_every_mutation_has_a_spec() -> None:
    assert set(SPECS) == set(MUTATIONS)
    for name, spec in SPECS.items():
        t = input_type(name)
        fields = set(t.fields) if t else set()
        ids = {f for f in fields if unwrap(t.fields[f].type).name == "ID"} if t else set()  # type: ignore[union-attr]
        assert set(spec.id_types) == ids, name
        strings = {f for f in fields if unwrap(t.fields[f].type).name == "String"} if t else set()  # type: ignore[union-attr]
        assert strings <= set(STRING_LIMITS), strings - set(STRING_LIMITS)


async def test_every_base_input_names_every_field(api: Api) -> None:
    """Each spec's valid input passes every field of the input type, so every field is attacked."""
    w = await build_world(api)
    for name, spec in SPECS.items():
        t = input_type(name)
        if t is not None:
            assert set(spec.base(w)) == set(t.fields), name


async def test_unknown_fields_and_enums_in_literals_are_validation_errors(api: Api) -> None:
    w = await build_world(api)
    before = await snapshot(api)
    for mutation in MUTATIONS:
        t = input_type(mutation)
        literal = "{bogusField: 1}" if t else ""
        query = f"mutation {{ {mutation}(input: {literal or '{}'}, extra: 1) {{ userErrors {{ message }} }} }}"
        body = await actor(w, api, SPECS[mutation].actor).gql(query)
        assert body["_status"] < 500, body
        assert body["data"] is None, (mutation, body)
        assert {e["extensions"]["code"] for e in body["errors"]} == {"BAD_USER_INPUT"}, (mutation, body)
        assert any("extra" in e["message"] or "bogusField" in e["message"] for e in body["errors"]), body
    body = await w.admin.gql(
        f'mutation {{ setPlatformRole(input: {{memberId: "{w.outsider.id}", role: SUPERUSER}}) '
        "{ userErrors { message } } }"
    )
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "SUPERUSER" in body["errors"][0]["message"]
    body = await w.member.gql('mutation { updateProfile(input: {language: "EN"}) { userErrors { message } } }')
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = await w.member.gql("mutation { updateProfile(input: {displayName: 42}) { userErrors { message } } }")
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert await snapshot(api) == before


async def test_semantic_refusals_are_user_errors(api: Api) -> None:
    """Well-typed input that the rules refuse: a userError naming the field, and nothing changes."""
    w = await build_world(api)
    times = event_times()
    naive = {k: v.replace("+00:00", "") for k, v in times.items()}
    cases: list[tuple[str, str, dict[str, Any], str]] = [
        ("signUp", "", {**SPECS["signUp"].base(w), "handle": "no spaces"}, "handle"),
        ("signUp", "", {**SPECS["signUp"].base(w), "handle": "ab"}, "handle"),
        ("signUp", "", {**SPECS["signUp"].base(w), "email": "not an email"}, "email"),
        ("signUp", "", {**SPECS["signUp"].base(w), "password": "short"}, "password"),
        ("signUp", "", {**SPECS["signUp"].base(w), "displayName": "   "}, "displayName"),
        ("signUp", "", {**SPECS["signUp"].base(w), "handle": w.owner.handle}, "handle"),
        ("signUp", "", {**SPECS["signUp"].base(w), "email": w.owner.email.upper()}, "email"),
        ("createPersonalAccessToken", "member", {"name": "x", "scopes": ["root"]}, "scopes"),
        ("createPersonalAccessToken", "member", {"name": "x", "scopes": []}, "scopes"),
        ("createPersonalAccessToken", "member", {"name": "x", "scopes": ["read"], "expiresInDays": 0}, "expiresInDays"),
        (
            "createPersonalAccessToken",
            "member",
            {"name": "x", "scopes": ["read"], "expiresInDays": 367},
            "expiresInDays",
        ),
        (
            "changePassword",
            "member",
            {"currentPassword": "wrong password!", "newPassword": PASSWORD},
            "currentPassword",
        ),
        ("changePassword", "member", {"currentPassword": PASSWORD, "newPassword": "short"}, "newPassword"),
        ("updateProfile", "member", {"avatarUrl": "javascript:alert(1)"}, "avatarUrl"),
        ("updateProfile", "member", {"links": [{"label": "x", "url": "data:text/html,hi"}]}, "links"),
        ("updateProfile", "member", {"links": [{"label": " ", "url": "https://example.se"}]}, "links"),
        ("updateProfile", "member", {"skills": ["s"] * 31}, "skills"),
        ("updateProfile", "member", {"municipalityCode": "0000"}, "municipalityCode"),
        ("updateProfile", "outsider", {"organisationId": "__org__"}, "organisationId"),
        ("createOrganisation", "member", {"slug": "-bad-", "name": "x", "kind": "OTHER"}, "slug"),
        ("createOrganisation", "member", {"slug": "lulea", "name": "x", "kind": "OTHER"}, "slug"),
        (
            "createOrganisation",
            "member",
            {"slug": "mismatch", "name": "x", "kind": "OTHER", "municipalityCode": "2580", "countyCode": "01"},
            "countyCode",
        ),
        ("createOrganisation", "member", {"slug": "x", "name": "x", "kind": "OTHER", "countyCode": "99"}, "countyCode"),
        ("updateOrganisation", "owner", {"id": "__org__", "name": None}, "name"),
        ("updateOrganisation", "owner", {"id": "__org__", "kind": None}, "kind"),
        ("updateOrganisation", "owner", {"id": "__org__", "website": "ftp://lulea.se"}, "website"),
        ("createHub", "owner", {"slug": "ai-lab", "name": "x", "organisationId": "__org__"}, "slug"),
        ("updateHub", "owner", {"id": "__hub__", "name": None}, "name"),
        ("updateHub", "owner", {"id": "__hub__", "visibility": None}, "visibility"),
        ("suspendMember", "moderator", {"memberId": "__outsider__", "until": "2099-01-01T00:00:00"}, "until"),
        ("setPlatformRole", "admin", {"memberId": "__admin__", "role": "MEMBER"}, "role"),
        (
            "setOrganisationRole",
            "owner",
            {"organisationId": "__org__", "memberId": "__owner__", "role": "MEMBER"},
            "role",
        ),
        ("removeOrganisationMember", "owner", {"organisationId": "__org__", "memberId": "__owner__"}, "memberId"),
        ("leaveHub", "outsider", {"hubId": "__hub__"}, "hubId"),
        ("follow", "member", {"targetId": "__member__"}, "targetId"),
        ("blockMember", "member", {"memberId": "__member__"}, "memberId"),
        ("muteMember", "member", {"memberId": "__member__"}, "memberId"),
        ("createEvent", "owner", {**times, "title": "x", "location": "x", "endsAt": times["startsAt"]}, "endsAt"),
        ("createEvent", "owner", {**times, "title": "x"}, "location"),
        ("createEvent", "owner", {**times, "title": "x", "location": "x", "timeZone": "Mars/Olympus"}, "timeZone"),
        ("createEvent", "owner", {**naive, "title": "x", "location": "x"}, "startsAt"),
        ("createEvent", "owner", {**times, "title": "x", "location": "x", "visibility": "HUB_MEMBERS"}, "visibility"),
        ("createPost", "owner", {"body": "x", "kind": "RESOURCE", "title": "Länk"}, "url"),
        ("createPost", "owner", {"body": "x", "kind": "RESOURCE", "url": "https://ai.se"}, "title"),
        ("createPost", "member", {"body": "x", "visibility": "HUB_MEMBERS"}, "visibility"),
        ("updatePost", "member", {"id": "__post__", "body": None}, "body"),
        ("updatePost", "member", {"id": "__post__", "kind": "RESOURCE", "title": "Länk"}, "kind"),
        ("updateEvent", "owner", {"id": "__event__", "capacity": 0}, "capacity"),
        ("updateEvent", "owner", {"id": "__event__", "title": None}, "title"),
        ("updateEvent", "owner", {"id": "__event__", "location": None}, "location"),
        # A day before the world's event starts (its start was fixed when the world was made).
        ("updateEvent", "owner", {"id": "__event__", "endsAt": event_times(6)["startsAt"]}, "endsAt"),
        ("createComment", "member", {"targetId": "__post__", "body": " "}, "body"),
        ("updateComment", "member", {"id": "__comment__", "body": " "}, "body"),
    ]
    ids = {
        "__post__": w.post,
        "__event__": w.event,
        "__comment__": w.comment,
        "__org__": w.org,
        "__hub__": w.hub,
        "__outsider__": w.outsider.id,
        "__admin__": w.admin.id,
        "__owner__": w.owner.id,
        "__member__": w.member.id,
    }
    before = await snapshot(api)
    problems = []
    for mutation, who, data, field in cases:
        data = json.loads(json.dumps(data))
        for k, v in data.items():
            if isinstance(v, str) and v in ids:
                data[k] = ids[v]
        body = await actor(w, api, who or None).gql(operation(mutation), {"input": data})
        why = problem(body, Case(mutation, "", data, field))
        if why:
            problems.append(f"{mutation} {data}: {why}")
    assert not problems, "\n".join(problems)
    assert await snapshot(api) == before


async def test_anonymous_writes_are_unauthenticated(api: Api) -> None:
    w = await build_world(api)
    before = await snapshot(api)
    for mutation, spec in SPECS.items():
        if spec.actor is None:
            continue
        body = await api.gql(operation(mutation), {"input": spec.base(w)} if input_type(mutation) else {})
        assert body["_status"] < 500, body
        assert body.get("errors"), (mutation, body)
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", (mutation, body)
    assert await snapshot(api) == before


# --- queries ------------------------------------------------------------------------------


async def test_node_and_nodes_refuse_bad_ids(api: Api) -> None:
    anna = await api.sign_up()
    for bad in ("garbage", "", "not-an-id", "!!!", to_global_id("Member", 10**30), "x" * 101, "TWVtYmVyOi0x"):
        body = await anna.gql("query($id: ID!) { node(id: $id) { id } }", {"id": bad})
        assert body["_status"] < 500, body
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", (bad, body)
    # Well-formed ids of unknown types or missing objects are simply not found.
    for missing in (to_global_id("Invoice", 1), to_global_id("Member", 1), to_global_id("PersonalAccessToken", 1)):
        assert (await anna.ok("query($id: ID!) { node(id: $id) { id } }", {"id": missing}))["node"] is None

    ids = [anna.id] * 101
    body = await anna.gql("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["errors"][0]["extensions"].get("field") == "ids"
    body = await anna.gql("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [anna.id] * 5000})
    assert body["_status"] < 500 and body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    found = (await anna.ok("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [anna.id] * 100}))["nodes"]
    assert found == [{"id": anna.id}] * 100
    body = await anna.gql("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [anna.id, "garbage"]})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_lookups_by_handle_and_slug_refuse_over_long_values(api: Api) -> None:
    anna = await api.sign_up()
    body = await anna.gql("query($h: String!) { member(handle: $h) { id } }", {"h": "a" * 31})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["errors"][0]["extensions"]["field"] == "handle"
    body = await anna.gql("query($h: String!) { member(handle: $h) { id } }", {"h": "a" * 100_000})
    assert body["_status"] < 500 and body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert (await anna.ok("query($h: String!) { member(handle: $h) { id } }", {"h": "a" * 30}))["member"] is None
    assert (await anna.ok("query($h: String!) { member(handle: $h) { id } }", {"h": anna.handle.upper()}))[
        "member"
    ] == {"id": anna.id}
    # Odd but short handles are just not found.
    for odd in ("", " ", "../..", "a/b", "%00", "ö", "a?b=c", "\u202e"):
        body = await anna.gql("query($h: String!) { member(handle: $h) { id } }", {"h": odd})
        assert body["_status"] < 500 and "errors" not in body, (odd, body)
        assert body["data"]["member"] is None
    for field in ("organisation", "hub"):
        body = await anna.gql(f"query($s: String!) {{ {field}(slug: $s) {{ id }} }}", {"s": "a" * 61})
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
        for odd in ("", "../..", "a/b", "%2e%2e"):
            body = await anna.gql(f"query($s: String!) {{ {field}(slug: $s) {{ id }} }}", {"s": odd})
            assert body["_status"] < 500 and "errors" not in body, (field, odd, body)
            assert body["data"][field] is None


async def test_query_filters_refuse_bad_values(api: Api) -> None:
    for query in (
        '{ organisations(countyCode: "99", first: 10) { totalCount } }',
        '{ organisations(municipalityCode: "x", first: 10) { totalCount } }',
        '{ hubs(organisationId: "garbage", first: 10) { totalCount } }',
        "{ organisations(kind: NOT_A_KIND, first: 10) { totalCount } }",
        '{ municipalities(countyCode: "99") { code } }',
    ):
        body = await api.gql(query)
        assert body["_status"] < 500, body
        if "municipalities" in query:
            # An unknown county has no municipalities.
            assert (
                body == {"data": {"municipalities": []}, "_status": 200}
                or body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
            )
            continue
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", (query, body)


# --- HTTP ---------------------------------------------------------------------------------


async def test_body_over_one_mebibyte_is_413_with_a_json_error(api: Api) -> None:
    anna = await api.sign_up()
    await settled(api)  # the sign-up's jobs (its verification mail) have run
    before = await snapshot(api)
    padding = "x" * (1024 * 1024)
    payload = json.dumps(
        {
            "query": "mutation($i: UpdateProfileInput!) { updateProfile(input: $i) { userErrors { message } } }",
            "variables": {"i": {"bio": padding}},
        }
    )
    headers = {"authorization": f"Bearer {anna.token}", "content-type": "application/json"}
    r = await api.http.post("/graphql", content=payload, headers=headers)
    assert r.status_code == 413
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "larger" in body["errors"][0]["message"]

    # Streamed without a content-length: still refused once it passes the limit.
    async def chunks() -> Any:
        for _ in range(20):
            yield b"x" * 65536

    r = await api.http.post("/graphql", content=chunks(), headers=headers)
    assert r.status_code == 413 and r.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert await snapshot(api) == before

    # Just under the limit is served.
    small = json.dumps({"query": "{ viewer { member { handle } } } # " + "x" * 1000})
    r = await api.http.post("/graphql", content=small, headers=headers)
    assert r.status_code == 200 and r.json()["data"]["viewer"]["member"]["handle"] == anna.handle


async def test_body_that_is_not_utf8_is_400(api: Api) -> None:
    anna = await api.sign_up()
    await settled(api)  # the sign-up's jobs (its verification mail) have run
    before = await snapshot(api)
    headers = {"authorization": f"Bearer {anna.token}", "content-type": "application/json"}
    body = (
        b'{"query": "mutation { updateProfile(input: {headline: \\"'
        + b"\xff\xfe\xc3"
        + b'\\"}) { userErrors { message } } }"}'
    )
    r = await api.http.post("/graphql", content=body, headers=headers)
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "UTF-8" in r.json()["errors"][0]["message"]
    # Latin-1 that a careless server might decode.
    r = await api.http.post("/graphql", content='{"query": "{ viewer { email } }", "x": "Luleå"}'.encode("latin-1"))
    assert r.status_code == 400
    assert await snapshot(api) == before


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{",
        b"not json",
        b"[]",
        b"[1, 2]",
        b"null",
        b"42",
        b'"a string"',
        b'{"query": 42}',
        b'{"query": null}',
        b'{"query": ""}',
        b'{"query": "{ viewer { email } }", "variables": "not an object"}',
        b'{"query": "{ viewer { email } }", "variables": [1]}',
        b'{"query": "{ viewer { email } }", "operationName": 5}',
        b'{"query": "{ viewer { email "}',
        b'{"query": "{ viewer { email } }", "operationName": "Missing"}',
        b'{"query": "{ viewer { email } }"' + b" " * 10 + b"trailing",
        b'{"query": "\\ud800"}',
        b'{"query": "{ viewer { email } }\\u0000"}',
    ],
)
async def test_malformed_requests_get_a_4xx_never_a_500(api: Api, content: bytes) -> None:
    for content_type in ("application/json", "text/plain"):
        r = await api.http.post("/graphql", content=content, headers={"content-type": content_type})
        assert r.status_code < 500, (content, content_type, r.status_code, r.text)
        if content_type == "application/json":
            assert 400 <= r.status_code < 500 or "errors" in r.json(), (content, r.status_code, r.text)


async def test_wrong_methods_and_content_types(api: Api) -> None:
    for method in ("PUT", "DELETE", "PATCH"):
        r = await api.http.request(method, "/graphql", json={"query": "{ viewer { email } }"})
        assert 400 <= r.status_code < 500, (method, r.status_code)
    r = await api.http.post(
        "/graphql", content=b"query=%7B%20viewer%20%7B%20email%20%7D%20%7D", headers={"content-type": "text/xml"}
    )
    assert 400 <= r.status_code < 500
    r = await api.http.get("/graphql", params={"query": "{ viewer { email "})
    assert 400 <= r.status_code < 500 or r.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
