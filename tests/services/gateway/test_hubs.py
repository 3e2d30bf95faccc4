"""Hubs: who creates them, join policies, members-only visibility, staff roles, leaving and removal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.ids import to_global_id
from tests.conftest import Api, Session

CREATE_ORG = """mutation($slug: String!) { createOrganisation(input: {slug: $slug, name: "Org", kind: REGION}) {
  organisation { id slug } userErrors { field message code } } }"""
INVITE_ORG = """mutation($org: ID!, $member: ID!, $role: OrganisationRole!) {
  inviteToOrganisation(input: {organisationId: $org, memberId: $member, role: $role}) {
  invitation { id } userErrors { field message code } } }"""
ACCEPT_ORG = """mutation($id: ID!) { acceptOrganisationInvitation(input: {invitationId: $id}) {
  invitation { status } userErrors { field message code } } }"""
HUB_FIELDS = """id slug name description visibility joinPolicy membersCount viewerRole viewerMembershipState
  organisation { slug }"""
CREATE_HUB = f"""mutation($input: CreateHubInput!) {{ createHub(input: $input) {{
  hub {{ {HUB_FIELDS} }} userErrors {{ field message code }} }} }}"""
UPDATE_HUB = f"""mutation($input: UpdateHubInput!) {{ updateHub(input: $input) {{
  hub {{ {HUB_FIELDS} }} userErrors {{ field message code }} }} }}"""
HUB = f"""query($slug: String!) {{ hub(slug: $slug) {{ {HUB_FIELDS} }} }}"""
HUB_MEMBERS = """query($slug: String!, $state: HubMembershipState!) { hub(slug: $slug) {
  members(state: $state, first: 50) { nodes { role state member { handle } } totalCount } } }"""
HUBS = """query($org: ID) { hubs(organisationId: $org, first: 50) { nodes { slug } totalCount } }"""
ORG_HUBS = """query($slug: String!) { organisation(slug: $slug) { hubs(first: 50) { nodes { slug } } } }"""
NODE = """query($id: ID!) { node(id: $id) { id ... on Hub { slug } } }"""
MEMBERSHIP_FIELDS = """membership { role state member { handle } } hub { slug membersCount viewerRole
  viewerMembershipState } userErrors { field message code }"""
JOIN = f"""mutation($hub: ID!) {{ joinHub(input: {{hubId: $hub}}) {{ {MEMBERSHIP_FIELDS} }} }}"""
LEAVE = f"""mutation($hub: ID!) {{ leaveHub(input: {{hubId: $hub}}) {{ {MEMBERSHIP_FIELDS} }} }}"""


def staff_action(name: str) -> str:
    return f"""mutation($hub: ID!, $member: ID!) {{ {name}(input: {{hubId: $hub, memberId: $member}}) {{
      {MEMBERSHIP_FIELDS} }} }}"""


INVITE = staff_action("inviteToHub")
APPROVE = staff_action("approveHubRequest")
REJECT = staff_action("rejectHubRequest")
REMOVE = staff_action("removeHubMember")
SET_ROLE = f"""mutation($hub: ID!, $member: ID!, $role: HubRole!) {{
  setHubRole(input: {{hubId: $hub, memberId: $member, role: $role}}) {{ {MEMBERSHIP_FIELDS} }} }}"""
FOLLOW = """mutation($id: ID!) { follow(input: {targetId: $id}) { following userErrors { field message code } } }"""
SUSPEND = """mutation($id: ID!, $until: DateTime) { suspendMember(input: {memberId: $id, until: $until}) {
  member { isSuspended } userErrors { field message code } } }"""


def error_code(body: dict[str, Any]) -> str:
    assert body.get("errors"), body
    return body["errors"][0]["extensions"]["code"]  # type: ignore[no-any-return]


def user_errors(body: dict[str, Any], name: str) -> list[tuple[str | None, str]]:
    assert "errors" not in body, body
    return [(e["field"], e["code"]) for e in body["data"][name]["userErrors"]]


def slug_for(api: Api, prefix: str) -> str:
    return api.unique(prefix).replace("_", "-")


async def make_org(owner: Session) -> dict[str, Any]:
    slug = slug_for(owner.api, "org")
    return (await owner.ok(CREATE_ORG, {"slug": slug}))["createOrganisation"]["organisation"]  # type: ignore[no-any-return]


async def org_member(owner: Session, org: dict[str, Any], role: str) -> Session:
    member = await owner.api.sign_up()
    invitation = (await owner.ok(INVITE_ORG, {"org": org["id"], "member": member.id, "role": role}))[
        "inviteToOrganisation"
    ]["invitation"]
    await member.ok(ACCEPT_ORG, {"id": invitation["id"]})
    return member


async def make_hub(creator: Session, org: dict[str, Any], **fields: Any) -> dict[str, Any]:
    data = {"slug": slug_for(creator.api, "hub"), "name": "Hubben", "organisationId": org["id"], **fields}
    return (await creator.ok(CREATE_HUB, {"input": data}))["createHub"]["hub"]  # type: ignore[no-any-return]


async def setup(api: Api, **fields: Any) -> tuple[Session, dict[str, Any], dict[str, Any]]:
    """An organisation owner, their organisation, and a hub of it they created (and so administer)."""
    owner = await api.sign_up()
    org = await make_org(owner)
    return owner, org, await make_hub(owner, org, **fields)


async def hub_as(viewer: Session | Api, slug: str) -> dict[str, Any] | None:
    return (await viewer.ok(HUB, {"slug": slug}))["hub"]  # type: ignore[no-any-return]


async def members(viewer: Session, slug: str, state: str = "ACTIVE") -> dict[str, str]:
    hub = (await viewer.ok(HUB_MEMBERS, {"slug": slug, "state": state}))["hub"]
    return {n["member"]["handle"]: n["role"] for n in hub["members"]["nodes"]}


async def join(member: Session, hub: dict[str, Any]) -> dict[str, Any]:
    return (await member.ok(JOIN, {"hub": hub["id"]}))["joinHub"]  # type: ignore[no-any-return]


async def staff(admin: Session, hub: dict[str, Any], role: str) -> Session:
    """A member who joined the (open) hub and was given `role` by a hub admin."""
    member = await admin.api.sign_up()
    await join(member, hub)
    await admin.ok(SET_ROLE, {"hub": hub["id"], "member": member.id, "role": role})
    return member


async def suspend(api: Api, member: Session) -> None:
    moderator = await api.make_admin("moderator")
    until = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert (await moderator.ok(SUSPEND, {"id": member.id, "until": until}))["suspendMember"]["member"]["isSuspended"]


# --- creating -------------------------------------------------------------------------------


async def test_org_owner_creates_a_hub_and_is_its_admin(api: Api) -> None:
    owner = await api.sign_up()
    org = await make_org(owner)
    slug = slug_for(api, "hub")
    hub = await make_hub(owner, org, slug=slug, name="Kraftsamlingen", description="AI i *offentlig* sektor")
    assert hub["slug"] == slug and hub["name"] == "Kraftsamlingen"
    assert hub["description"] == "AI i *offentlig* sektor"
    assert hub["visibility"] == "PUBLIC" and hub["joinPolicy"] == "OPEN"
    assert hub["membersCount"] == 1
    assert hub["viewerRole"] == "ADMIN" and hub["viewerMembershipState"] == "ACTIVE"
    assert hub["organisation"] == {"slug": org["slug"]}
    assert await members(owner, slug) == {owner.handle: "ADMIN"}
    assert [n["slug"] for n in (await api.ok(HUBS, {"org": org["id"]}))["hubs"]["nodes"]] == [slug]
    assert [n["slug"] for n in (await api.ok(ORG_HUBS, {"slug": org["slug"]}))["organisation"]["hubs"]["nodes"]] == [
        slug
    ]
    assert (await api.outbox("hub.created"))[-1]["by"]


async def test_org_admin_creates_hubs_but_editors_and_others_cannot(api: Api) -> None:
    owner = await api.sign_up()
    org = await make_org(owner)
    admin = await org_member(owner, org, "ADMIN")
    editor = await org_member(owner, org, "EDITOR")
    member = await org_member(owner, org, "MEMBER")
    outsider = await api.sign_up()

    hub = await make_hub(admin, org)
    assert hub["viewerRole"] == "ADMIN"

    def body() -> dict[str, Any]:
        return {"input": {"slug": slug_for(api, "hub"), "name": "Nope", "organisationId": org["id"]}}

    assert error_code(await api.gql(CREATE_HUB, body())) == "UNAUTHENTICATED"
    for who in (editor, member, outsider):
        assert error_code(await who.gql(CREATE_HUB, body())) == "FORBIDDEN", who.handle
    await suspend(api, owner)
    assert error_code(await owner.gql(CREATE_HUB, body())) == "FORBIDDEN"
    assert [n["slug"] for n in (await api.ok(HUBS, {}))["hubs"]["nodes"]] == [hub["slug"]]


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"slug": "Bad Slug"}, "slug", "BAD_USER_INPUT"),
        ({"name": "n" * 151}, "name", "BAD_USER_INPUT"),
        ({"description": "d" * 5001}, "description", "BAD_USER_INPUT"),
        ({"organisationId": to_global_id("Organisation", 999_999)}, "organisationId", "NOT_FOUND"),
        ({"organisationId": to_global_id("Hub", 1)}, "organisationId", "BAD_USER_INPUT"),
    ],
)
async def test_invalid_hub_input_is_a_user_error(api: Api, fields: dict[str, str], field: str, code: str) -> None:
    owner = await api.sign_up()
    org = await make_org(owner)
    data = {"slug": slug_for(api, "hub"), "name": "Hub", "organisationId": org["id"], **fields}
    assert user_errors(await owner.gql(CREATE_HUB, {"input": data}), "createHub") == [(field, code)]
    assert (await api.ok(HUBS, {}))["hubs"]["totalCount"] == 0


async def test_a_taken_hub_slug_is_a_user_error(api: Api) -> None:
    owner, org, hub = await setup(api)
    data = {"slug": hub["slug"].upper(), "name": "Copy", "organisationId": org["id"]}
    assert user_errors(await owner.gql(CREATE_HUB, {"input": data}), "createHub") == [("slug", "BAD_USER_INPUT")]


async def test_hub_admins_update_the_hub(api: Api) -> None:
    owner, _, hub = await setup(api)
    moderator = await staff(owner, hub, "MODERATOR")
    member = await staff(owner, hub, "MEMBER")
    change = {"input": {"id": hub["id"], "name": "Nytt namn", "joinPolicy": "REQUEST"}}
    for who in (moderator, member):
        assert error_code(await who.gql(UPDATE_HUB, change)) == "FORBIDDEN", who.handle
    assert error_code(await api.gql(UPDATE_HUB, change)) == "UNAUTHENTICATED"
    updated = (await owner.ok(UPDATE_HUB, change))["updateHub"]["hub"]
    assert updated["name"] == "Nytt namn" and updated["joinPolicy"] == "REQUEST"
    assert updated["visibility"] == "PUBLIC"
    cleared = await owner.gql(UPDATE_HUB, {"input": {"id": hub["id"], "name": None}})
    assert user_errors(cleared, "updateHub") == [("name", "BAD_USER_INPUT")]


# --- join policies --------------------------------------------------------------------------


async def test_open_hub_join_and_leave(api: Api) -> None:
    owner, _, hub = await setup(api, joinPolicy="OPEN")
    bo = await api.sign_up()
    joined = await join(bo, hub)
    assert joined["membership"] == {"role": "MEMBER", "state": "ACTIVE", "member": {"handle": bo.handle}}
    assert joined["hub"] == {
        "slug": hub["slug"],
        "membersCount": 2,
        "viewerRole": "MEMBER",
        "viewerMembershipState": "ACTIVE",
    }
    assert await members(owner, hub["slug"]) == {owner.handle: "ADMIN", bo.handle: "MEMBER"}
    assert (await api.outbox("hub.member_joined"))[-1]["member_id"]

    twice = await bo.gql(JOIN, {"hub": hub["id"]})
    assert user_errors(twice, "joinHub") == [("hubId", "BAD_USER_INPUT")]
    assert (await hub_as(bo, hub["slug"]))["membersCount"] == 2  # type: ignore[index]

    left = (await bo.ok(LEAVE, {"hub": hub["id"]}))["leaveHub"]
    assert left["membership"] is None
    assert left["hub"]["membersCount"] == 1
    assert left["hub"]["viewerRole"] is None and left["hub"]["viewerMembershipState"] is None
    again = await bo.gql(LEAVE, {"hub": hub["id"]})
    assert user_errors(again, "leaveHub") == [("hubId", "BAD_USER_INPUT")]


async def test_request_hub_waits_for_approval(api: Api) -> None:
    owner, _, hub = await setup(api, joinPolicy="REQUEST")
    bo, cai, dag = await api.sign_up(), await api.sign_up(), await api.sign_up()

    asked = await join(bo, hub)
    assert asked["membership"]["state"] == "REQUESTED"
    assert asked["hub"]["membersCount"] == 1
    assert asked["hub"]["viewerRole"] is None and asked["hub"]["viewerMembershipState"] == "REQUESTED"
    assert (await api.outbox("hub.join_requested"))[-1]["hub_id"]
    again = await bo.gql(JOIN, {"hub": hub["id"]})
    assert user_errors(again, "joinHub") == [("hubId", "BAD_USER_INPUT")]
    await join(cai, hub)
    await join(dag, hub)

    assert await members(owner, hub["slug"], "REQUESTED") == {
        bo.handle: "MEMBER",
        cai.handle: "MEMBER",
        dag.handle: "MEMBER",
    }
    assert await members(owner, hub["slug"]) == {owner.handle: "ADMIN"}

    approved = (await owner.ok(APPROVE, {"hub": hub["id"], "member": bo.id}))["approveHubRequest"]
    assert approved["membership"] == {"role": "MEMBER", "state": "ACTIVE", "member": {"handle": bo.handle}}
    assert approved["hub"]["membersCount"] == 2
    assert (await hub_as(bo, hub["slug"]))["viewerRole"] == "MEMBER"  # type: ignore[index]

    rejected = (await owner.ok(REJECT, {"hub": hub["id"], "member": cai.id}))["rejectHubRequest"]
    assert rejected["membership"] is None and rejected["hub"]["membersCount"] == 2
    cai_view = await hub_as(cai, hub["slug"])
    assert cai_view is not None and cai_view["viewerMembershipState"] is None

    # Inviting someone who asked approves them.
    invited = (await owner.ok(INVITE, {"hub": hub["id"], "member": dag.id}))["inviteToHub"]
    assert invited["membership"]["state"] == "ACTIVE" and invited["hub"]["membersCount"] == 3

    assert await members(owner, hub["slug"], "REQUESTED") == {}
    assert await members(owner, hub["slug"]) == {owner.handle: "ADMIN", bo.handle: "MEMBER", dag.handle: "MEMBER"}
    # Nothing left to decide.
    for mutation, name in ((APPROVE, "approveHubRequest"), (REJECT, "rejectHubRequest")):
        for who in (bo, cai):
            assert user_errors(await owner.gql(mutation, {"hub": hub["id"], "member": who.id}), name) == [
                ("memberId", "NOT_FOUND")
            ]


async def test_hub_moderators_decide_requests_but_plain_members_cannot(api: Api) -> None:
    owner, _, hub = await setup(api, joinPolicy="OPEN")
    moderator = await staff(owner, hub, "MODERATOR")
    member = await staff(owner, hub, "MEMBER")
    await owner.ok(UPDATE_HUB, {"input": {"id": hub["id"], "joinPolicy": "REQUEST"}})
    bo, cai = await api.sign_up(), await api.sign_up()
    await join(bo, hub)
    await join(cai, hub)

    assert error_code(await api.gql(APPROVE, {"hub": hub["id"], "member": bo.id})) == "UNAUTHENTICATED"
    for who in (member, bo, await api.sign_up()):
        for mutation in (APPROVE, REJECT, INVITE):
            assert error_code(await who.gql(mutation, {"hub": hub["id"], "member": bo.id})) == "FORBIDDEN"

    assert (await moderator.ok(APPROVE, {"hub": hub["id"], "member": bo.id}))["approveHubRequest"]["membership"][
        "state"
    ] == "ACTIVE"
    assert (await moderator.ok(REJECT, {"hub": hub["id"], "member": cai.id}))["rejectHubRequest"]["membership"] is None
    assert await members(moderator, hub["slug"]) == {
        owner.handle: "ADMIN",
        moderator.handle: "MODERATOR",
        member.handle: "MEMBER",
        bo.handle: "MEMBER",
    }


async def test_a_member_can_withdraw_a_request(api: Api) -> None:
    owner, _, hub = await setup(api, joinPolicy="REQUEST")
    bo = await api.sign_up()
    await join(bo, hub)
    withdrawn = (await bo.ok(LEAVE, {"hub": hub["id"]}))["leaveHub"]
    assert withdrawn["hub"]["membersCount"] == 1 and withdrawn["hub"]["viewerMembershipState"] is None
    assert await members(owner, hub["slug"], "REQUESTED") == {}


async def test_invite_only_hub_takes_invitees_only(api: Api) -> None:
    owner, _, hub = await setup(api, joinPolicy="INVITE")
    bo, cai = await api.sign_up(), await api.sign_up()

    assert error_code(await bo.gql(JOIN, {"hub": hub["id"]})) == "FORBIDDEN"
    assert await members(owner, hub["slug"], "REQUESTED") == {}

    invited = (await owner.ok(INVITE, {"hub": hub["id"], "member": bo.id}))["inviteToHub"]
    assert invited["membership"] == {"role": "MEMBER", "state": "INVITED", "member": {"handle": bo.handle}}
    assert invited["hub"]["membersCount"] == 1
    assert await members(owner, hub["slug"], "INVITED") == {bo.handle: "MEMBER"}
    bo_view = await hub_as(bo, hub["slug"])
    assert bo_view is not None and bo_view["viewerMembershipState"] == "INVITED" and bo_view["viewerRole"] is None
    duplicate = await owner.gql(INVITE, {"hub": hub["id"], "member": bo.id})
    assert user_errors(duplicate, "inviteToHub") == [("memberId", "BAD_USER_INPUT")]
    existing = await owner.gql(INVITE, {"hub": hub["id"], "member": owner.id})
    assert user_errors(existing, "inviteToHub") == [("memberId", "BAD_USER_INPUT")]
    missing = await owner.gql(INVITE, {"hub": hub["id"], "member": to_global_id("Member", 9_999_999)})
    assert user_errors(missing, "inviteToHub") == [("memberId", "NOT_FOUND")]

    accepted = await join(bo, hub)
    assert accepted["membership"]["state"] == "ACTIVE"
    assert accepted["hub"]["membersCount"] == 2 and accepted["hub"]["viewerRole"] == "MEMBER"
    assert await members(owner, hub["slug"], "INVITED") == {}
    assert await members(owner, hub["slug"]) == {owner.handle: "ADMIN", bo.handle: "MEMBER"}
    # Still closed to everyone else.
    assert error_code(await cai.gql(JOIN, {"hub": hub["id"]})) == "FORBIDDEN"


async def test_an_invitee_can_decline_by_leaving(api: Api) -> None:
    owner, _, hub = await setup(api, joinPolicy="INVITE")
    bo = await api.sign_up()
    await owner.ok(INVITE, {"hub": hub["id"], "member": bo.id})
    declined = (await bo.ok(LEAVE, {"hub": hub["id"]}))["leaveHub"]
    assert declined["hub"]["membersCount"] == 1 and declined["hub"]["viewerMembershipState"] is None
    assert await members(owner, hub["slug"], "INVITED") == {}
    assert error_code(await bo.gql(JOIN, {"hub": hub["id"]})) == "FORBIDDEN"


async def test_anonymous_and_suspended_members_cannot_join(api: Api) -> None:
    _, _, hub = await setup(api)
    assert error_code(await api.gql(JOIN, {"hub": hub["id"]})) == "UNAUTHENTICATED"
    bo = await api.sign_up()
    await suspend(api, bo)
    assert error_code(await bo.gql(JOIN, {"hub": hub["id"]})) == "FORBIDDEN"
    # Suspended members still read.
    seen = await hub_as(bo, hub["slug"])
    assert seen is not None and seen["membersCount"] == 1 and seen["viewerMembershipState"] is None


async def test_joining_an_unknown_hub_is_not_found(api: Api) -> None:
    bo = await api.sign_up()
    body = await bo.gql(JOIN, {"hub": to_global_id("Hub", 999_999)})
    assert user_errors(body, "joinHub") == [("hubId", "NOT_FOUND")]
    wrong_kind = await bo.gql(JOIN, {"hub": bo.id})
    assert user_errors(wrong_kind, "joinHub") == [("hubId", "BAD_USER_INPUT")]


# --- visibility -----------------------------------------------------------------------------


async def test_members_only_hubs_are_invisible_to_outsiders(api: Api) -> None:
    owner, org, hub = await setup(api, visibility="MEMBERS_ONLY", joinPolicy="INVITE")
    public = await make_hub(owner, org)
    outsider = await api.sign_up()
    slug = hub["slug"]

    for viewer in (api, outsider):
        assert await hub_as(viewer, slug) is None
        assert [n["slug"] for n in (await viewer.ok(HUBS, {}))["hubs"]["nodes"]] == [public["slug"]]
        assert (await viewer.ok(HUBS, {"org": org["id"]}))["hubs"]["totalCount"] == 1
        org_hubs = (await viewer.ok(ORG_HUBS, {"slug": org["slug"]}))["organisation"]["hubs"]["nodes"]
        assert [n["slug"] for n in org_hubs] == [public["slug"]]
        assert (await viewer.ok(NODE, {"id": hub["id"]}))["node"] is None
    follow = await outsider.gql(FOLLOW, {"id": hub["id"]})
    assert [e["code"] for e in follow["data"]["follow"]["userErrors"]] == ["NOT_FOUND"]
    assert follow["data"]["follow"]["following"] is False
    # Joining or asking about members does not reveal it either.
    assert user_errors(await outsider.gql(JOIN, {"hub": hub["id"]}), "joinHub") == [("hubId", "NOT_FOUND")]

    # Members see it, in every way.
    assert (await hub_as(owner, slug))["visibility"] == "MEMBERS_ONLY"  # type: ignore[index]
    assert (await owner.ok(HUBS, {}))["hubs"]["totalCount"] == 2
    assert (await owner.ok(NODE, {"id": hub["id"]}))["node"] == {"id": hub["id"], "slug": slug}
    assert await members(owner, slug) == {owner.handle: "ADMIN"}

    # An invitee sees it from the invitation on, and can then follow and join it.
    await owner.ok(INVITE, {"hub": hub["id"], "member": outsider.id})
    assert (await hub_as(outsider, slug))["viewerMembershipState"] == "INVITED"  # type: ignore[index]
    assert (await outsider.ok(FOLLOW, {"id": hub["id"]}))["follow"]["following"] is True
    await join(outsider, hub)
    assert (await outsider.ok(NODE, {"id": hub["id"]}))["node"] == {"id": hub["id"], "slug": slug}
    assert await members(outsider, slug) == {owner.handle: "ADMIN", outsider.handle: "MEMBER"}

    # After leaving, it is hidden again.
    left = (await outsider.ok(LEAVE, {"hub": hub["id"]}))["leaveHub"]
    assert left["userErrors"] == [] and left["hub"] is None
    assert await hub_as(outsider, slug) is None


async def test_platform_moderators_see_members_only_hubs(api: Api) -> None:
    owner, _, hub = await setup(api, visibility="MEMBERS_ONLY")
    for role in ("moderator", "admin"):
        moderator = await api.make_admin(role)
        seen = await hub_as(moderator, hub["slug"])
        assert seen is not None and seen["viewerRole"] is None
        assert [n["slug"] for n in (await moderator.ok(HUBS, {}))["hubs"]["nodes"]] == [hub["slug"]]
        assert (await moderator.ok(NODE, {"id": hub["id"]}))["node"] == {"id": hub["id"], "slug": hub["slug"]}
        assert await members(moderator, hub["slug"]) == {owner.handle: "ADMIN"}


async def test_pending_memberships_are_for_staff_only(api: Api) -> None:
    owner, _, hub = await setup(api, joinPolicy="REQUEST")
    moderator_member = await api.sign_up()
    await owner.ok(INVITE, {"hub": hub["id"], "member": moderator_member.id})
    await join(moderator_member, hub)
    await owner.ok(SET_ROLE, {"hub": hub["id"], "member": moderator_member.id, "role": "MODERATOR"})
    plain = await api.sign_up()
    await owner.ok(INVITE, {"hub": hub["id"], "member": plain.id})
    await join(plain, hub)
    asker = await api.sign_up()
    await join(asker, hub)

    for state in ("REQUESTED", "INVITED"):
        for who in (plain, asker):
            assert error_code(await who.gql(HUB_MEMBERS, {"slug": hub["slug"], "state": state})) == "FORBIDDEN"
        assert error_code(await api.gql(HUB_MEMBERS, {"slug": hub["slug"], "state": state})) == "FORBIDDEN"
    # Everyone who sees the hub sees its active members.
    assert set(await members(plain, hub["slug"])) == {owner.handle, moderator_member.handle, plain.handle}
    assert (await api.ok(HUB_MEMBERS, {"slug": hub["slug"], "state": "ACTIVE"}))["hub"]["members"]["totalCount"] == 3

    for who in (owner, moderator_member, await api.make_admin("moderator")):
        assert await members(who, hub["slug"], "REQUESTED") == {asker.handle: "MEMBER"}


# --- staff roles ----------------------------------------------------------------------------


async def test_hub_admins_appoint_staff(api: Api) -> None:
    owner, _, hub = await setup(api)
    bo = await api.sign_up()
    await join(bo, hub)
    made = (await owner.ok(SET_ROLE, {"hub": hub["id"], "member": bo.id, "role": "MODERATOR"}))["setHubRole"]
    assert made["membership"] == {"role": "MODERATOR", "state": "ACTIVE", "member": {"handle": bo.handle}}
    assert (await hub_as(bo, hub["slug"]))["viewerRole"] == "MODERATOR"  # type: ignore[index]
    await owner.ok(SET_ROLE, {"hub": hub["id"], "member": bo.id, "role": "ADMIN"})
    assert (await hub_as(bo, hub["slug"]))["viewerRole"] == "ADMIN"  # type: ignore[index]
    # The new admin can now hand roles out too, even to the first admin.
    await bo.ok(SET_ROLE, {"hub": hub["id"], "member": owner.id, "role": "MODERATOR"})
    assert await members(bo, hub["slug"]) == {owner.handle: "MODERATOR", bo.handle: "ADMIN"}
    assert [e["role"] for e in await api.outbox("hub.role_changed")] == ["moderator", "admin", "moderator"]


async def test_only_hub_admins_set_roles(api: Api) -> None:
    owner, _, hub = await setup(api)
    moderator = await staff(owner, hub, "MODERATOR")
    member = await staff(owner, hub, "MEMBER")
    platform_moderator = await api.make_admin("moderator")
    args = {"hub": hub["id"], "member": member.id, "role": "MODERATOR"}

    assert error_code(await api.gql(SET_ROLE, args)) == "UNAUTHENTICATED"
    for who in (moderator, member, platform_moderator, await api.sign_up()):
        assert error_code(await who.gql(SET_ROLE, args)) == "FORBIDDEN", who.handle
    assert error_code(await moderator.gql(SET_ROLE, {**args, "member": moderator.id, "role": "ADMIN"})) == "FORBIDDEN"
    await suspend(api, owner)
    assert error_code(await owner.gql(SET_ROLE, args)) == "FORBIDDEN"
    assert await members(member, hub["slug"]) == {
        owner.handle: "ADMIN",
        moderator.handle: "MODERATOR",
        member.handle: "MEMBER",
    }


async def test_set_role_needs_an_active_member(api: Api) -> None:
    owner, _, hub = await setup(api, joinPolicy="REQUEST")
    asker, outsider = await api.sign_up(), await api.sign_up()
    await join(asker, hub)
    for who in (asker, outsider):
        body = await owner.gql(SET_ROLE, {"hub": hub["id"], "member": who.id, "role": "MODERATOR"})
        assert user_errors(body, "setHubRole") == [("memberId", "NOT_FOUND")]


async def test_the_last_hub_admin_can_neither_leave_nor_be_demoted(api: Api) -> None:
    owner, _, hub = await setup(api)
    demote = await owner.gql(SET_ROLE, {"hub": hub["id"], "member": owner.id, "role": "MEMBER"})
    assert user_errors(demote, "setHubRole") == [("role", "BAD_USER_INPUT")]
    leave = await owner.gql(LEAVE, {"hub": hub["id"]})
    assert user_errors(leave, "leaveHub") == [("hubId", "BAD_USER_INPUT")]
    remove = await owner.gql(REMOVE, {"hub": hub["id"], "member": owner.id})
    assert user_errors(remove, "removeHubMember") == [("memberId", "BAD_USER_INPUT")]
    assert (await hub_as(owner, hub["slug"]))["viewerRole"] == "ADMIN"  # type: ignore[index]

    # With a second admin, the first may step down or leave.
    bo = await staff(owner, hub, "ADMIN")
    await owner.ok(SET_ROLE, {"hub": hub["id"], "member": owner.id, "role": "MEMBER"})
    left = (await owner.ok(LEAVE, {"hub": hub["id"]}))["leaveHub"]
    assert left["hub"]["membersCount"] == 1
    assert await members(bo, hub["slug"]) == {bo.handle: "ADMIN"}
    last = await bo.gql(LEAVE, {"hub": hub["id"]})
    assert user_errors(last, "leaveHub") == [("hubId", "BAD_USER_INPUT")]


# --- removing -------------------------------------------------------------------------------


async def test_remove_hub_members(api: Api) -> None:
    owner, _, hub = await setup(api)
    moderator = await staff(owner, hub, "MODERATOR")
    other_moderator = await staff(owner, hub, "MODERATOR")
    member = await staff(owner, hub, "MEMBER")
    bo = await staff(owner, hub, "MEMBER")
    assert (await hub_as(owner, hub["slug"]))["membersCount"] == 5  # type: ignore[index]

    def args(target: Session) -> dict[str, str]:
        return {"hub": hub["id"], "member": target.id}

    assert error_code(await api.gql(REMOVE, args(bo))) == "UNAUTHENTICATED"
    assert error_code(await member.gql(REMOVE, args(bo))) == "FORBIDDEN"
    assert error_code(await (await api.sign_up()).gql(REMOVE, args(bo))) == "FORBIDDEN"
    # Moderators remove members, but only admins remove staff.
    assert error_code(await moderator.gql(REMOVE, args(other_moderator))) == "FORBIDDEN"
    assert error_code(await moderator.gql(REMOVE, args(owner))) == "FORBIDDEN"
    removed = (await moderator.ok(REMOVE, args(bo)))["removeHubMember"]
    assert removed["membership"] is None and removed["hub"]["membersCount"] == 4
    assert (await hub_as(bo, hub["slug"]))["viewerMembershipState"] is None  # type: ignore[index]
    assert (await owner.ok(REMOVE, args(other_moderator)))["removeHubMember"]["hub"]["membersCount"] == 3
    twice = await owner.gql(REMOVE, args(bo))
    assert user_errors(twice, "removeHubMember") == [("memberId", "NOT_FOUND")]

    await suspend(api, moderator)
    assert error_code(await moderator.gql(REMOVE, args(member))) == "FORBIDDEN"
    assert await members(owner, hub["slug"]) == {
        owner.handle: "ADMIN",
        moderator.handle: "MODERATOR",
        member.handle: "MEMBER",
    }
    assert (await hub_as(owner, hub["slug"]))["membersCount"] == 3  # type: ignore[index]


async def test_removing_a_pending_request_keeps_the_count(api: Api) -> None:
    owner, _, hub = await setup(api, joinPolicy="REQUEST")
    bo = await api.sign_up()
    await join(bo, hub)
    removed = (await owner.ok(REMOVE, {"hub": hub["id"], "member": bo.id}))["removeHubMember"]
    assert removed["hub"]["membersCount"] == 1
    assert await members(owner, hub["slug"], "REQUESTED") == {}


async def test_org_managers_run_their_hubs(api: Api) -> None:
    founder = await api.sign_up()
    org = await make_org(founder)
    org_admin = await org_member(founder, org, "ADMIN")
    hub = await make_hub(founder, org, joinPolicy="REQUEST")
    bo = await api.sign_up()
    await join(bo, hub)
    # Not a member of the hub, but an admin of the organisation that runs it.
    assert (await org_admin.ok(APPROVE, {"hub": hub["id"], "member": bo.id}))["approveHubRequest"]["membership"][
        "state"
    ] == "ACTIVE"
    await org_admin.ok(SET_ROLE, {"hub": hub["id"], "member": bo.id, "role": "MODERATOR"})
    assert await members(org_admin, hub["slug"]) == {founder.handle: "ADMIN", bo.handle: "MODERATOR"}


async def test_org_managers_see_and_run_members_only_hubs_of_their_organisation(api: Api) -> None:
    founder = await api.sign_up()
    org = await make_org(founder)
    org_admin = await org_member(founder, org, "ADMIN")
    editor = await org_member(founder, org, "EDITOR")
    hub = await make_hub(founder, org, visibility="MEMBERS_ONLY", joinPolicy="INVITE")

    # Editors are not managers: the hub stays hidden from them.
    assert await hub_as(editor, hub["slug"]) is None
    assert (await editor.ok(ORG_HUBS, {"slug": org["slug"]}))["organisation"]["hubs"]["nodes"] == []

    seen = await hub_as(org_admin, hub["slug"])
    assert seen is not None and seen["viewerRole"] is None
    assert [
        n["slug"] for n in (await org_admin.ok(ORG_HUBS, {"slug": org["slug"]}))["organisation"]["hubs"]["nodes"]
    ] == [hub["slug"]]
    bo = await api.sign_up()
    invited = (await org_admin.ok(INVITE, {"hub": hub["id"], "member": bo.id}))["inviteToHub"]
    assert invited["membership"]["state"] == "INVITED"
    renamed = (await org_admin.ok(UPDATE_HUB, {"input": {"id": hub["id"], "name": "Internt"}}))["updateHub"]["hub"]
    assert renamed["name"] == "Internt"
    assert await members(org_admin, hub["slug"], "INVITED") == {bo.handle: "MEMBER"}
