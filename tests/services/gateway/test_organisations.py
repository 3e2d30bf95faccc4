"""Organisations: creation and validation, editing, roles, invitations, leaving, verification and listing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.ids import to_global_id
from tests.conftest import Api, Session

ORG_FIELDS = """id slug name kind website description verified membersCount viewerRole
  municipality { code name } county { code name }"""
CREATE_ORG = f"""mutation($input: CreateOrganisationInput!) {{ createOrganisation(input: $input) {{
  organisation {{ {ORG_FIELDS} }} userErrors {{ field message code }} }} }}"""
UPDATE_ORG = f"""mutation($input: UpdateOrganisationInput!) {{ updateOrganisation(input: $input) {{
  organisation {{ {ORG_FIELDS} }} userErrors {{ field message code }} }} }}"""
ORG = f"""query($slug: String!) {{ organisation(slug: $slug) {{ {ORG_FIELDS}
  members(first: 50) {{ nodes {{ role member {{ handle }} }} totalCount }} }} }}"""
SET_ROLE = """mutation($org: ID!, $member: ID!, $role: OrganisationRole!) {
  setOrganisationRole(input: {organisationId: $org, memberId: $member, role: $role}) {
  membership { role member { handle } } userErrors { field message code } } }"""
REMOVE = """mutation($org: ID!, $member: ID!) {
  removeOrganisationMember(input: {organisationId: $org, memberId: $member}) {
  removedMemberId userErrors { field message code } } }"""
INVITE = """mutation($org: ID!, $member: ID!, $role: OrganisationRole!) {
  inviteToOrganisation(input: {organisationId: $org, memberId: $member, role: $role}) {
  invitation { id role status organisation { slug } invitee { handle } inviter { handle } }
  userErrors { field message code } } }"""
INVITATION_FIELDS = "invitation { id role status respondedAt } userErrors { field message code }"


def answer(mutation: str) -> str:
    return f"mutation($id: ID!) {{ {mutation}(input: {{invitationId: $id}}) {{ {INVITATION_FIELDS} }} }}"


ACCEPT = answer("acceptOrganisationInvitation")
DECLINE = answer("declineOrganisationInvitation")
REVOKE = answer("revokeOrganisationInvitation")
VIEWER_INVITATIONS = """query($status: InvitationStatus) { viewer { invitations(status: $status, first: 10) {
  nodes { id role status organisation { slug } inviter { handle } } totalCount } } }"""
ORG_INVITATIONS = """query($slug: String!) { organisation(slug: $slug) { invitations(first: 10) {
  nodes { id status invitee { handle } } } } }"""
INVITATION_NODE = """query($id: ID!) { node(id: $id) { id ... on OrganisationInvitation {
  role status organisation { slug } invitee { handle } } } }"""
VERIFY = """mutation($org: ID!, $verified: Boolean!) {
  setOrganisationVerified(input: {organisationId: $org, verified: $verified}) {
  organisation { slug verified } userErrors { field message code } } }"""
LIST = """query($kind: OrganisationKind, $county: String, $municipality: String, $verified: Boolean) {
  organisations(kind: $kind, countyCode: $county, municipalityCode: $municipality, verified: $verified, first: 50) {
  nodes { slug } totalCount } }"""
SUSPEND = """mutation($id: ID!, $until: DateTime) { suspendMember(input: {memberId: $id, until: $until}) {
  member { handle isSuspended } userErrors { field message code } } }"""
PROFILE = """mutation($org: ID) { updateProfile(input: {organisationId: $org}) {
  member { organisation { slug } } userErrors { field message code } } }"""
MY_ORG = """{ viewer { member { organisation { slug } } } }"""


def error_code(body: dict[str, Any]) -> str:
    assert body.get("errors"), body
    return body["errors"][0]["extensions"]["code"]  # type: ignore[no-any-return]


def user_errors(body: dict[str, Any], name: str) -> list[dict[str, Any]]:
    assert "errors" not in body, body
    return body["data"][name]["userErrors"]  # type: ignore[no-any-return]


def slug_for(api: Api, prefix: str = "org") -> str:
    return api.unique(prefix).replace("_", "-")


async def create_org(owner: Session, **fields: Any) -> dict[str, Any]:
    data = {"slug": slug_for(owner.api), "name": "Testorganisation", "kind": "CIVIL_SOCIETY", **fields}
    return (await owner.ok(CREATE_ORG, {"input": data}))["createOrganisation"]["organisation"]  # type: ignore[no-any-return]


async def invite(inviter: Session, org: dict[str, Any], invitee: Session, role: str = "MEMBER") -> dict[str, Any]:
    payload = (await inviter.ok(INVITE, {"org": org["id"], "member": invitee.id, "role": role}))["inviteToOrganisation"]
    return payload["invitation"]  # type: ignore[no-any-return]


async def add_member(owner: Session, org: dict[str, Any], role: str = "MEMBER") -> Session:
    """A new member who joined the organisation with `role` by accepting an invitation."""
    member = await owner.api.sign_up()
    invitation = await invite(owner, org, member, role)
    await member.ok(ACCEPT, {"id": invitation["id"]})
    return member


async def get_org(viewer: Session | Api, slug: str) -> dict[str, Any]:
    return (await viewer.ok(ORG, {"slug": slug}))["organisation"]  # type: ignore[no-any-return]


async def suspend(api: Api, member: Session) -> None:
    moderator = await api.make_admin("moderator")
    until = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    suspended = (await moderator.ok(SUSPEND, {"id": member.id, "until": until}))["suspendMember"]["member"]
    assert suspended["isSuspended"] is True


# --- creating -------------------------------------------------------------------------------


async def test_creator_becomes_owner_and_county_comes_from_the_municipality(api: Api) -> None:
    anna = await api.sign_up()
    slug = slug_for(api)
    org = await create_org(
        anna,
        slug=slug,
        name="Göteborgs Stad",
        kind="MUNICIPALITY",
        municipalityCode="1480",
        website="https://goteborg.se",
        description="Vi jobbar med **AI**.",
    )
    assert org["slug"] == slug
    assert org["name"] == "Göteborgs Stad"
    assert org["kind"] == "MUNICIPALITY"
    assert org["website"] == "https://goteborg.se"
    assert org["verified"] is False
    assert org["membersCount"] == 1
    assert org["viewerRole"] == "OWNER"
    assert org["municipality"] == {"code": "1480", "name": "Göteborg"}
    assert org["county"] == {"code": "14", "name": "Västra Götalands län"}

    fetched = await get_org(anna, slug)
    assert fetched["members"] == {"nodes": [{"role": "OWNER", "member": {"handle": anna.handle}}], "totalCount": 1}
    # Anonymous readers see the organisation but have no role in it.
    anonymous = (await api.ok(ORG, {"slug": slug}))["organisation"]
    assert anonymous["viewerRole"] is None and anonymous["membersCount"] == 1
    assert (await api.outbox("organisation.created"))[-1]["by"]


async def test_a_county_alone_and_a_matching_municipality_and_county(api: Api) -> None:
    anna = await api.sign_up()
    region = await create_org(anna, kind="REGION", countyCode="12")
    assert region["county"]["code"] == "12" and region["municipality"] is None
    both = await create_org(anna, kind="MUNICIPALITY", municipalityCode="0180", countyCode="01")
    assert both["municipality"]["code"] == "0180" and both["county"]["code"] == "01"


async def test_anonymous_cannot_create_an_organisation(api: Api) -> None:
    body = await api.gql(CREATE_ORG, {"input": {"slug": "anon-org", "name": "Anon", "kind": "OTHER"}})
    assert error_code(body) == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"municipalityCode": "1480", "countyCode": "01"}, "countyCode"),
        ({"slug": "Not a slug!"}, "slug"),
        ({"slug": "-leading-hyphen"}, "slug"),
        ({"slug": "x" * 61}, "slug"),
        ({"municipalityCode": "9999"}, "municipalityCode"),
        ({"countyCode": "99"}, "countyCode"),
        ({"website": "not a url"}, "website"),
        ({"website": "ftp://example.se"}, "website"),
        ({"logoUrl": "javascript:alert(1)"}, "logoUrl"),
        ({"name": "n" * 151}, "name"),
        ({"name": ""}, "name"),
        ({"description": "d" * 5001}, "description"),
    ],
)
async def test_invalid_organisation_input_is_a_user_error(api: Api, fields: dict[str, str], field: str) -> None:
    anna = await api.sign_up()
    data = {"slug": slug_for(api), "name": "Org", "kind": "MUNICIPALITY", **fields}
    errors = user_errors(await anna.gql(CREATE_ORG, {"input": data}), "createOrganisation")
    assert len(errors) == 1, errors
    assert errors[0]["field"] == field
    assert errors[0]["code"] == "BAD_USER_INPUT"
    assert errors[0]["message"]
    # Nothing was created.
    assert (await api.ok(LIST, {}))["organisations"]["totalCount"] == 0


async def test_a_municipality_outside_the_given_county_is_refused_with_a_message(api: Api) -> None:
    anna = await api.sign_up()
    body = await anna.gql(
        CREATE_ORG,
        {
            "input": {
                "slug": "malmo",
                "name": "Malmö",
                "kind": "MUNICIPALITY",
                "municipalityCode": "1280",
                "countyCode": "14",
            }
        },
    )
    assert user_errors(body, "createOrganisation") == [
        {"field": "countyCode", "message": "the municipality is not in that county", "code": "BAD_USER_INPUT"}
    ]
    assert (await api.ok(ORG, {"slug": "malmo"}))["organisation"] is None


async def test_a_taken_slug_is_a_user_error_on_slug(api: Api) -> None:
    anna, bo = await api.sign_up(), await api.sign_up()
    await create_org(anna, slug="ai-sweden")
    for slug in ("ai-sweden", "AI-Sweden"):
        body = await bo.gql(CREATE_ORG, {"input": {"slug": slug, "name": "Copy", "kind": "COMPANY"}})
        errors = user_errors(body, "createOrganisation")
        assert [(e["field"], e["code"]) for e in errors] == [("slug", "BAD_USER_INPUT")], slug
    assert (await get_org(anna, "ai-sweden"))["name"] == "Testorganisation"


async def test_slugs_are_stored_in_lower_case(api: Api) -> None:
    anna = await api.sign_up()
    org = await create_org(anna, slug="Region-Skane")
    assert org["slug"] == "region-skane"
    assert (await get_org(anna, "region-skane"))["id"] == org["id"]


# --- editing --------------------------------------------------------------------------------


async def test_owner_and_admin_update_the_organisation(api: Api) -> None:
    owner = await api.sign_up()
    org = await create_org(owner, kind="MUNICIPALITY", municipalityCode="0180")
    updated = (
        await owner.ok(UPDATE_ORG, {"input": {"id": org["id"], "name": "Stockholms stad", "website": "https://x.se"}})
    )["updateOrganisation"]["organisation"]
    assert updated["name"] == "Stockholms stad" and updated["website"] == "https://x.se"
    assert updated["municipality"]["code"] == "0180" and updated["county"]["code"] == "01"

    admin = await add_member(owner, org, "ADMIN")
    moved = (await admin.ok(UPDATE_ORG, {"input": {"id": org["id"], "municipalityCode": "1280"}}))[
        "updateOrganisation"
    ]["organisation"]
    # A new municipality brings its own county along.
    assert moved["municipality"]["code"] == "1280" and moved["county"]["code"] == "12"
    cleared = (await admin.ok(UPDATE_ORG, {"input": {"id": org["id"], "website": None}}))["updateOrganisation"][
        "organisation"
    ]
    assert cleared["website"] is None and cleared["name"] == "Stockholms stad"


async def test_update_validation_errors(api: Api) -> None:
    owner = await api.sign_up()
    org = await create_org(owner, municipalityCode="1480")
    cases = [
        ({"countyCode": "01"}, "countyCode"),
        ({"municipalityCode": "9999"}, "municipalityCode"),
        ({"website": "nope"}, "website"),
        ({"name": None}, "name"),
        ({"name": "n" * 151}, "name"),
        ({"description": "d" * 5001}, "description"),
    ]
    for fields, field in cases:
        body = await owner.gql(UPDATE_ORG, {"input": {"id": org["id"], **fields}})
        errors = user_errors(body, "updateOrganisation")
        assert [(e["field"], e["code"]) for e in errors] == [(field, "BAD_USER_INPUT")], fields
    unchanged = await get_org(owner, org["slug"])
    assert unchanged["municipality"]["code"] == "1480" and unchanged["county"]["code"] == "14"
    assert unchanged["name"] == "Testorganisation"


async def test_update_of_an_unknown_organisation_is_not_found(api: Api) -> None:
    owner = await api.sign_up()
    org = await create_org(owner)
    body = await owner.gql(UPDATE_ORG, {"input": {"id": to_global_id("Organisation", 999_999), "name": "X"}})
    errors = user_errors(body, "updateOrganisation")
    assert [(e["field"], e["code"]) for e in errors] == [("organisationId", "NOT_FOUND")]
    wrong_kind = await owner.gql(UPDATE_ORG, {"input": {"id": owner.id, "name": "X"}})
    assert [(e["field"], e["code"]) for e in user_errors(wrong_kind, "updateOrganisation")] == [
        ("id", "BAD_USER_INPUT")
    ]
    assert (await get_org(owner, org["slug"]))["name"] == "Testorganisation"


async def test_who_may_update_the_organisation(api: Api) -> None:
    owner = await api.sign_up()
    org = await create_org(owner)
    editor = await add_member(owner, org, "EDITOR")
    member = await add_member(owner, org, "MEMBER")
    outsider = await api.sign_up()
    change = {"input": {"id": org["id"], "name": "Hijacked"}}

    assert error_code(await api.gql(UPDATE_ORG, change)) == "UNAUTHENTICATED"
    for who in (outsider, member, editor):
        assert error_code(await who.gql(UPDATE_ORG, change)) == "FORBIDDEN", who.handle

    await suspend(api, owner)
    assert error_code(await owner.gql(UPDATE_ORG, change)) == "FORBIDDEN"
    assert (await get_org(owner, org["slug"]))["name"] == "Testorganisation"


# --- roles ----------------------------------------------------------------------------------


async def test_owner_changes_roles_and_viewer_role_follows(api: Api) -> None:
    owner = await api.sign_up()
    org = await create_org(owner)
    bo = await add_member(owner, org, "MEMBER")
    assert (await get_org(bo, org["slug"]))["viewerRole"] == "MEMBER"

    for role in ("EDITOR", "ADMIN", "OWNER", "MEMBER"):
        membership = (await owner.ok(SET_ROLE, {"org": org["id"], "member": bo.id, "role": role}))[
            "setOrganisationRole"
        ]["membership"]
        assert membership == {"role": role, "member": {"handle": bo.handle}}
        assert (await get_org(bo, org["slug"]))["viewerRole"] == role
    events = await api.outbox("organisation.role_changed")
    assert [e["role"] for e in events] == ["editor", "admin", "owner", "member"]


async def test_set_role_authorisation(api: Api) -> None:
    owner = await api.sign_up()
    org = await create_org(owner)
    admin = await add_member(owner, org, "ADMIN")
    editor = await add_member(owner, org, "EDITOR")
    member = await add_member(owner, org, "MEMBER")
    outsider = await api.sign_up()

    def args(target: Session, role: str) -> dict[str, str]:
        return {"org": org["id"], "member": target.id, "role": role}

    assert error_code(await api.gql(SET_ROLE, args(member, "EDITOR"))) == "UNAUTHENTICATED"
    assert error_code(await outsider.gql(SET_ROLE, args(member, "EDITOR"))) == "FORBIDDEN"
    assert error_code(await member.gql(SET_ROLE, args(member, "ADMIN"))) == "FORBIDDEN"
    assert error_code(await editor.gql(SET_ROLE, args(member, "EDITOR"))) == "FORBIDDEN"
    # Admins manage roles below owner, but may neither grant nor take the owner role.
    assert error_code(await admin.gql(SET_ROLE, args(member, "OWNER"))) == "FORBIDDEN"
    assert error_code(await admin.gql(SET_ROLE, args(admin, "OWNER"))) == "FORBIDDEN"
    assert error_code(await admin.gql(SET_ROLE, args(owner, "ADMIN"))) == "FORBIDDEN"
    assert (await admin.ok(SET_ROLE, args(member, "EDITOR")))["setOrganisationRole"]["membership"]["role"] == "EDITOR"

    await suspend(api, owner)
    assert error_code(await owner.gql(SET_ROLE, args(member, "ADMIN"))) == "FORBIDDEN"

    roles = {n["member"]["handle"]: n["role"] for n in (await get_org(owner, org["slug"]))["members"]["nodes"]}
    assert roles == {owner.handle: "OWNER", admin.handle: "ADMIN", editor.handle: "EDITOR", member.handle: "EDITOR"}


async def test_set_role_on_someone_outside_is_not_found(api: Api) -> None:
    owner, outsider = await api.sign_up(), await api.sign_up()
    org = await create_org(owner)
    body = await owner.gql(SET_ROLE, {"org": org["id"], "member": outsider.id, "role": "ADMIN"})
    assert [(e["field"], e["code"]) for e in user_errors(body, "setOrganisationRole")] == [("memberId", "NOT_FOUND")]


async def test_the_last_owner_can_be_neither_demoted_nor_removed(api: Api) -> None:
    owner = await api.sign_up()
    org = await create_org(owner)
    demote = await owner.gql(SET_ROLE, {"org": org["id"], "member": owner.id, "role": "ADMIN"})
    assert [(e["field"], e["code"]) for e in user_errors(demote, "setOrganisationRole")] == [("role", "BAD_USER_INPUT")]
    leave = await owner.gql(REMOVE, {"org": org["id"], "member": owner.id})
    assert [(e["field"], e["code"]) for e in user_errors(leave, "removeOrganisationMember")] == [
        ("memberId", "BAD_USER_INPUT")
    ]
    assert (await get_org(owner, org["slug"]))["viewerRole"] == "OWNER"

    # With a second owner, the first may step down and then leave.
    second = await add_member(owner, org, "OWNER")
    await owner.ok(SET_ROLE, {"org": org["id"], "member": owner.id, "role": "ADMIN"})
    # As an admin now, the founder cannot take the owner role back; the other owner can give it.
    back = await owner.gql(SET_ROLE, {"org": org["id"], "member": owner.id, "role": "OWNER"})
    assert error_code(back) == "FORBIDDEN"
    await second.ok(SET_ROLE, {"org": org["id"], "member": owner.id, "role": "OWNER"})
    assert (await get_org(owner, org["slug"]))["viewerRole"] == "OWNER"
    removed = (await owner.ok(REMOVE, {"org": org["id"], "member": owner.id}))["removeOrganisationMember"]
    assert removed["removedMemberId"] == owner.id
    after = await get_org(second, org["slug"])
    assert after["membersCount"] == 1
    assert [n["member"]["handle"] for n in after["members"]["nodes"]] == [second.handle]
    # Now the second is the last owner.
    again = await second.gql(REMOVE, {"org": org["id"], "member": second.id})
    assert user_errors(again, "removeOrganisationMember")[0]["code"] == "BAD_USER_INPUT"


async def test_members_leave_and_their_profile_organisation_is_cleared(api: Api) -> None:
    owner = await api.sign_up()
    org = await create_org(owner)
    bo = await add_member(owner, org, "EDITOR")
    assert (await get_org(owner, org["slug"]))["membersCount"] == 2
    await bo.ok(PROFILE, {"org": org["id"]})
    assert (await bo.ok(MY_ORG))["viewer"]["member"]["organisation"] == {"slug": org["slug"]}

    left = (await bo.ok(REMOVE, {"org": org["id"], "member": bo.id}))["removeOrganisationMember"]
    assert left == {"removedMemberId": bo.id, "userErrors": []}
    after = await get_org(bo, org["slug"])
    assert after["membersCount"] == 1 and after["viewerRole"] is None
    assert (await bo.ok(MY_ORG))["viewer"]["member"]["organisation"] is None
    # Leaving twice: no longer a member.
    twice = await bo.gql(REMOVE, {"org": org["id"], "member": bo.id})
    assert [(e["field"], e["code"]) for e in user_errors(twice, "removeOrganisationMember")] == [
        ("memberId", "NOT_FOUND")
    ]


async def test_remove_member_authorisation(api: Api) -> None:
    owner = await api.sign_up()
    org = await create_org(owner)
    admin = await add_member(owner, org, "ADMIN")
    editor = await add_member(owner, org, "EDITOR")
    member = await add_member(owner, org, "MEMBER")
    co_owner = await add_member(owner, org, "OWNER")
    outsider = await api.sign_up()

    def args(target: Session) -> dict[str, str]:
        return {"org": org["id"], "member": target.id}

    assert error_code(await api.gql(REMOVE, args(member))) == "UNAUTHENTICATED"
    assert error_code(await outsider.gql(REMOVE, args(member))) == "FORBIDDEN"
    assert error_code(await member.gql(REMOVE, args(editor))) == "FORBIDDEN"
    assert error_code(await editor.gql(REMOVE, args(member))) == "FORBIDDEN"
    # Admins remove members but not owners.
    assert error_code(await admin.gql(REMOVE, args(co_owner))) == "FORBIDDEN"
    assert (await admin.ok(REMOVE, args(member)))["removeOrganisationMember"]["removedMemberId"] == member.id
    # Owners remove owners while another owner remains.
    assert (await owner.ok(REMOVE, args(co_owner)))["removeOrganisationMember"]["removedMemberId"] == co_owner.id

    await suspend(api, owner)
    assert error_code(await owner.gql(REMOVE, args(editor))) == "FORBIDDEN"
    after = await get_org(admin, org["slug"])
    assert after["membersCount"] == 3
    assert {n["member"]["handle"] for n in after["members"]["nodes"]} == {owner.handle, admin.handle, editor.handle}


# --- invitations ----------------------------------------------------------------------------


async def test_invite_accept_gives_the_invited_role(api: Api) -> None:
    owner, bo = await api.sign_up(), await api.sign_up()
    org = await create_org(owner)
    invitation = await invite(owner, org, bo, "EDITOR")
    assert invitation["role"] == "EDITOR" and invitation["status"] == "PENDING"
    assert invitation["organisation"] == {"slug": org["slug"]}
    assert invitation["invitee"] == {"handle": bo.handle}
    assert invitation["inviter"] == {"handle": owner.handle}

    mine = (await bo.ok(VIEWER_INVITATIONS))["viewer"]["invitations"]
    assert mine["totalCount"] == 1
    assert mine["nodes"] == [
        {
            "id": invitation["id"],
            "role": "EDITOR",
            "status": "PENDING",
            "organisation": {"slug": org["slug"]},
            "inviter": {"handle": owner.handle},
        }
    ]
    by_node = (await bo.ok(INVITATION_NODE, {"id": invitation["id"]}))["node"]
    assert by_node == {
        "id": invitation["id"],
        "role": "EDITOR",
        "status": "PENDING",
        "organisation": {"slug": org["slug"]},
        "invitee": {"handle": bo.handle},
    }
    # The inviter sees it too; strangers and anonymous readers do not learn it exists.
    assert (await owner.ok(INVITATION_NODE, {"id": invitation["id"]}))["node"]["id"] == invitation["id"]
    stranger = await api.sign_up()
    assert (await stranger.ok(INVITATION_NODE, {"id": invitation["id"]}))["node"] is None
    assert (await api.ok(INVITATION_NODE, {"id": invitation["id"]}))["node"] is None
    assert (await stranger.ok(VIEWER_INVITATIONS))["viewer"]["invitations"]["totalCount"] == 0
    # Before accepting, Bo has no role.
    assert (await get_org(bo, org["slug"]))["viewerRole"] is None

    accepted = (await bo.ok(ACCEPT, {"id": invitation["id"]}))["acceptOrganisationInvitation"]["invitation"]
    assert accepted["status"] == "ACCEPTED" and accepted["respondedAt"]
    after = await get_org(bo, org["slug"])
    assert after["membersCount"] == 2
    assert after["viewerRole"] == "EDITOR"
    assert {(n["member"]["handle"], n["role"]) for n in after["members"]["nodes"]} == {
        (owner.handle, "OWNER"),
        (bo.handle, "EDITOR"),
    }
    pending = (await bo.ok(VIEWER_INVITATIONS, {"status": "PENDING"}))["viewer"]["invitations"]
    assert pending["totalCount"] == 0
    joined = await api.outbox("organisation.member_joined")
    assert joined[-1]["role"] == "editor"

    # Accepting twice is refused and changes nothing.
    twice = await bo.gql(ACCEPT, {"id": invitation["id"]})
    assert [(e["field"], e["code"]) for e in user_errors(twice, "acceptOrganisationInvitation")] == [
        ("invitationId", "BAD_USER_INPUT")
    ]
    assert (await get_org(bo, org["slug"]))["membersCount"] == 2


async def test_decline_and_revoke(api: Api) -> None:
    owner = await api.sign_up()
    org = await create_org(owner)
    admin = await add_member(owner, org, "ADMIN")
    bo, cai = await api.sign_up(), await api.sign_up()

    declined_inv = await invite(owner, org, bo)
    declined = (await bo.ok(DECLINE, {"id": declined_inv["id"]}))["declineOrganisationInvitation"]["invitation"]
    assert declined["status"] == "DECLINED" and declined["respondedAt"]
    assert (await get_org(bo, org["slug"]))["viewerRole"] is None
    assert (
        user_errors(await bo.gql(ACCEPT, {"id": declined_inv["id"]}), "acceptOrganisationInvitation")[0]["code"]
        == "BAD_USER_INPUT"
    )
    # A declined invitation does not block a fresh one.
    fresh = await invite(owner, org, bo)
    assert fresh["id"] != declined_inv["id"]

    revoked_inv = await invite(owner, org, cai, "EDITOR")
    revoked = (await admin.ok(REVOKE, {"id": revoked_inv["id"]}))["revokeOrganisationInvitation"]["invitation"]
    assert revoked["status"] == "REVOKED"
    after = await cai.gql(ACCEPT, {"id": revoked_inv["id"]})
    assert user_errors(after, "acceptOrganisationInvitation")[0]["code"] == "BAD_USER_INPUT"
    assert (await get_org(cai, org["slug"]))["viewerRole"] is None
    assert (await get_org(owner, org["slug"]))["membersCount"] == 2
    statuses = {
        n["invitee"]["handle"]: n["status"]
        for n in (await owner.ok(ORG_INVITATIONS, {"slug": org["slug"]}))["organisation"]["invitations"]["nodes"]
        if n["invitee"]["handle"] == cai.handle
    }
    assert statuses == {cai.handle: "REVOKED"}
    # Revoking something no longer pending is refused.
    again = await admin.gql(REVOKE, {"id": revoked_inv["id"]})
    assert user_errors(again, "revokeOrganisationInvitation")[0]["code"] == "BAD_USER_INPUT"


async def test_only_the_invitee_may_answer(api: Api) -> None:
    owner, bo, cai = await api.sign_up(), await api.sign_up(), await api.sign_up()
    org = await create_org(owner)
    invitation = await invite(owner, org, bo)
    for who in (cai, owner):
        for mutation, name in ((ACCEPT, "acceptOrganisationInvitation"), (DECLINE, "declineOrganisationInvitation")):
            errors = user_errors(await who.gql(mutation, {"id": invitation["id"]}), name)
            assert [(e["field"], e["code"]) for e in errors] == [("invitationId", "NOT_FOUND")]
    assert error_code(await api.gql(ACCEPT, {"id": invitation["id"]})) == "UNAUTHENTICATED"
    # Still pending for Bo, and Cai did not join.
    assert (await bo.ok(VIEWER_INVITATIONS, {"status": "PENDING"}))["viewer"]["invitations"]["totalCount"] == 1
    assert (await get_org(cai, org["slug"]))["viewerRole"] is None
    assert (await get_org(owner, org["slug"]))["membersCount"] == 1


async def test_invite_conflicts(api: Api) -> None:
    owner, bo = await api.sign_up(), await api.sign_up()
    org = await create_org(owner)
    await invite(owner, org, bo)
    duplicate = await owner.gql(INVITE, {"org": org["id"], "member": bo.id, "role": "ADMIN"})
    assert [(e["field"], e["code"]) for e in user_errors(duplicate, "inviteToOrganisation")] == [
        ("memberId", "BAD_USER_INPUT")
    ]
    member = await add_member(owner, org)
    existing = await owner.gql(INVITE, {"org": org["id"], "member": member.id, "role": "MEMBER"})
    assert [(e["field"], e["code"]) for e in user_errors(existing, "inviteToOrganisation")] == [
        ("memberId", "BAD_USER_INPUT")
    ]
    self_invite = await owner.gql(INVITE, {"org": org["id"], "member": owner.id, "role": "MEMBER"})
    assert user_errors(self_invite, "inviteToOrganisation")[0]["code"] == "BAD_USER_INPUT"
    missing = await owner.gql(INVITE, {"org": org["id"], "member": to_global_id("Member", 9_999_999), "role": "MEMBER"})
    assert [(e["field"], e["code"]) for e in user_errors(missing, "inviteToOrganisation")] == [
        ("memberId", "NOT_FOUND")
    ]
    wrong_kind = await owner.gql(INVITE, {"org": org["id"], "member": org["id"], "role": "MEMBER"})
    assert [(e["field"], e["code"]) for e in user_errors(wrong_kind, "inviteToOrganisation")] == [
        ("memberId", "BAD_USER_INPUT")
    ]
    assert (await bo.ok(VIEWER_INVITATIONS))["viewer"]["invitations"]["totalCount"] == 1


async def test_invitation_authorisation(api: Api) -> None:
    owner = await api.sign_up()
    org = await create_org(owner)
    admin = await add_member(owner, org, "ADMIN")
    editor = await add_member(owner, org, "EDITOR")
    member = await add_member(owner, org, "MEMBER")
    outsider, target = await api.sign_up(), await api.sign_up()

    def args(role: str = "MEMBER") -> dict[str, str]:
        return {"org": org["id"], "member": target.id, "role": role}

    assert error_code(await api.gql(INVITE, args())) == "UNAUTHENTICATED"
    for who in (outsider, member, editor):
        assert error_code(await who.gql(INVITE, args())) == "FORBIDDEN", who.handle
    # Admins invite, but not as owner.
    assert error_code(await admin.gql(INVITE, args("OWNER"))) == "FORBIDDEN"
    invitation = (await admin.ok(INVITE, args("ADMIN")))["inviteToOrganisation"]["invitation"]

    # Only owners and admins revoke; the invitee and plain members cannot.
    assert error_code(await api.gql(REVOKE, {"id": invitation["id"]})) == "UNAUTHENTICATED"
    for who in (outsider, member, editor, target):
        assert error_code(await who.gql(REVOKE, {"id": invitation["id"]})) == "FORBIDDEN", who.handle
    # The organisation's invitation list is for owners and admins.
    assert error_code(await editor.gql(ORG_INVITATIONS, {"slug": org["slug"]})) == "FORBIDDEN"
    listed = (await admin.ok(ORG_INVITATIONS, {"slug": org["slug"]}))["organisation"]["invitations"]["nodes"]
    assert invitation["id"] in [n["id"] for n in listed]

    await suspend(api, owner)
    other = await api.sign_up()
    assert error_code(await owner.gql(INVITE, {"org": org["id"], "member": other.id, "role": "MEMBER"})) == "FORBIDDEN"
    assert error_code(await owner.gql(REVOKE, {"id": invitation["id"]})) == "FORBIDDEN"
    # A suspended invitee cannot accept either.
    await suspend(api, target)
    assert error_code(await target.gql(ACCEPT, {"id": invitation["id"]})) == "FORBIDDEN"
    assert (await target.ok(VIEWER_INVITATIONS, {"status": "PENDING"}))["viewer"]["invitations"]["totalCount"] == 1


async def test_an_owner_may_invite_an_owner(api: Api) -> None:
    owner, bo = await api.sign_up(), await api.sign_up()
    org = await create_org(owner)
    invitation = await invite(owner, org, bo, "OWNER")
    await bo.ok(ACCEPT, {"id": invitation["id"]})
    assert (await get_org(bo, org["slug"]))["viewerRole"] == "OWNER"
    # Two owners: the founder may now leave.
    await owner.ok(REMOVE, {"org": org["id"], "member": owner.id})
    assert (await get_org(bo, org["slug"]))["membersCount"] == 1


# --- verification ---------------------------------------------------------------------------


async def test_only_moderators_verify_organisations(api: Api) -> None:
    owner = await api.sign_up()
    org = await create_org(owner)
    args = {"org": org["id"], "verified": True}
    assert error_code(await api.gql(VERIFY, args)) == "UNAUTHENTICATED"
    assert error_code(await owner.gql(VERIFY, args)) == "FORBIDDEN"
    assert (await get_org(owner, org["slug"]))["verified"] is False

    moderator = await api.make_admin("moderator")
    assert (await moderator.ok(VERIFY, args))["setOrganisationVerified"]["organisation"] == {
        "slug": org["slug"],
        "verified": True,
    }
    assert (await get_org(owner, org["slug"]))["verified"] is True
    assert [n["slug"] for n in (await api.ok(LIST, {"verified": True}))["organisations"]["nodes"]] == [org["slug"]]

    admin = await api.make_admin("admin")
    cleared = (await admin.ok(VERIFY, {"org": org["id"], "verified": False}))["setOrganisationVerified"]
    assert cleared["organisation"]["verified"] is False
    assert (await api.outbox("organisation.verified"))[-1]["organisation_id"]
    assert await api.outbox("organisation.unverified")

    unknown = await moderator.gql(VERIFY, {"org": to_global_id("Organisation", 999_999), "verified": True})
    assert [(e["field"], e["code"]) for e in user_errors(unknown, "setOrganisationVerified")] == [
        ("organisationId", "NOT_FOUND")
    ]


# --- listing --------------------------------------------------------------------------------


async def test_organisations_filter_by_kind_and_place(api: Api) -> None:
    anna = await api.sign_up()
    goteborg = await create_org(anna, slug="goteborg", kind="MUNICIPALITY", municipalityCode="1480")
    vgr = await create_org(anna, slug="vgr", kind="REGION", countyCode="14")
    stockholm = await create_org(anna, slug="stockholm", kind="MUNICIPALITY", municipalityCode="0180")
    await create_org(anna, slug="civic", kind="CIVIL_SOCIETY")
    assert goteborg and vgr and stockholm

    async def slugs(**filters: Any) -> list[str]:
        page = (await api.ok(LIST, filters))["organisations"]
        assert page["totalCount"] == len(page["nodes"])
        return [n["slug"] for n in page["nodes"]]

    assert await slugs() == ["goteborg", "vgr", "stockholm", "civic"]
    assert await slugs(kind="MUNICIPALITY") == ["goteborg", "stockholm"]
    assert await slugs(county="14") == ["goteborg", "vgr"]
    assert await slugs(kind="MUNICIPALITY", county="14") == ["goteborg"]
    assert await slugs(kind="REGION", county="01") == []
    assert await slugs(municipality="0180") == ["stockholm"]
    assert await slugs(kind="ACADEMIA") == []


@pytest.mark.parametrize("variables", [{"county": "99"}, {"county": "1"}, {"municipality": "9999"}])
async def test_unknown_place_filters_are_bad_user_input(api: Api, variables: dict[str, str]) -> None:
    body = await api.gql(LIST, variables)
    assert error_code(body) == "BAD_USER_INPUT"
    assert body["data"] is None
