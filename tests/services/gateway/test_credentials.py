"""Email verification, password reset and change, and personal access tokens (scopes,
hashing, revocation, expiry)."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from services.graph.models import OneTimeToken, PersonalAccessToken
from shared.database import utcnow
from shared.ids import expect_global_id
from tests.conftest import Api, Session

VIEWER = "{ viewer { email emailVerified member { handle displayName } } }"
VERIFY = """mutation($t: String!) { verifyEmail(input: {token: $t}) { ok userErrors { field message code } } }"""
REQUEST_VERIFICATION = """mutation { requestEmailVerification { ok userErrors { field message code } } }"""
REQUEST_RESET = """mutation($e: String!) { requestPasswordReset(input: {email: $e}) {
  ok userErrors { field message code } } }"""
RESET = """mutation($t: String!, $p: String!) { resetPassword(input: {token: $t, newPassword: $p}) {
  ok userErrors { field message code } } }"""
CHANGE = """mutation($c: String!, $n: String!) { changePassword(input: {currentPassword: $c, newPassword: $n}) {
  ok userErrors { field message code } } }"""
LOGIN = """mutation($e: String!, $p: String!) { logIn(input: {email: $e, password: $p}) {
  session { accessToken refreshToken } userErrors { field message code } } }"""
REFRESH = """mutation($t: String!) { refreshSession(input: {refreshToken: $t}) {
  session { accessToken refreshToken } userErrors { field message code } } }"""
CREATE_PAT = """mutation($i: CreatePersonalAccessTokenInput!) { createPersonalAccessToken(input: $i) {
  token personalAccessToken { id name scopes tokenHint createdAt expiresAt lastUsedAt revokedAt }
  userErrors { field message code } } }"""
REVOKE_PAT = """mutation($id: ID!) { revokePersonalAccessToken(input: {id: $id}) {
  personalAccessToken { id revokedAt } userErrors { field message code } } }"""
LIST_PATS = """{ viewer { personalAccessTokens(first: 100) { totalCount nodes {
  id name scopes tokenHint createdAt expiresAt lastUsedAt revokedAt } } } }"""
UPDATE_PROFILE = """mutation($h: String!) { updateProfile(input: {headline: $h}) {
  member { headline } userErrors { field message code } } }"""
FOLLOW = """mutation($id: ID!) { follow(input: {targetId: $id}) { following userErrors { field message code } } }"""

NEW_PASSWORD = "a brand new passphrase"


# --- helpers ---------------------------------------------------------------------------


async def mails(api: Api, template: str, to: str | None = None) -> list[dict[str, Any]]:
    return [
        p for p in await api.outbox("email.requested") if p["template"] == template and (to is None or p["to"] == to)
    ]


async def latest_token(api: Api, template: str, to: str) -> str:
    found = await mails(api, template, to)
    assert found, f"no {template} mail to {to}"
    return str(found[-1]["token"])


async def expire_one_time_tokens(api: Api, member: Session) -> None:
    async with await api.graph_session() as db:
        await db.execute(
            update(OneTimeToken)
            .where(OneTimeToken.member_id == expect_global_id(member.id, "Member"))
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
        await db.commit()


def user_errors(data: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return data["data"][name]["userErrors"]  # type: ignore[no-any-return]


def only_error(body: dict[str, Any]) -> dict[str, Any]:
    assert body.get("errors"), body
    assert len(body["errors"]) == 1, body
    return body["errors"][0]  # type: ignore[no-any-return]


async def create_pat(member: Session, scopes: list[str], **extra: Any) -> dict[str, Any]:
    data = await member.ok(CREATE_PAT, {"i": {"name": f"script {'+'.join(scopes)}", "scopes": scopes, **extra}})
    return data["createPersonalAccessToken"]  # type: ignore[no-any-return]


async def assert_unauthenticated(api: Api, token: str) -> None:
    r = await api.http.post(
        "/graphql", json={"query": "{ viewer { email } }"}, headers={"authorization": f"Bearer {token}"}
    )
    assert r.status_code == 401, r.text
    body = r.json()
    assert body["data"] is None
    assert [e["extensions"] for e in body["errors"]] == [{"code": "UNAUTHENTICATED"}]


async def verified(member: Session) -> bool:
    return bool((await member.ok(VIEWER))["viewer"]["emailVerified"])


# --- email verification ------------------------------------------------------------------


async def test_sign_up_mails_a_verification_token_that_works_once(api: Api) -> None:
    anna = await api.sign_up()
    [mail] = await mails(api, "verify_email", anna.email)
    assert mail["member_id"] == expect_global_id(anna.id, "Member")
    assert mail["token"]
    assert not await verified(anna)

    # The link works without being signed in: it is clicked from the mail.
    first = await api.gql(VERIFY, {"t": mail["token"]})
    assert first["data"]["verifyEmail"] == {"ok": True, "userErrors": []}
    assert await verified(anna)
    assert [p["member_id"] for p in await api.outbox("member.email_verified")] == [mail["member_id"]]

    again = await api.gql(VERIFY, {"t": mail["token"]})
    assert again["data"]["verifyEmail"]["ok"] is False
    [error] = user_errors(again, "verifyEmail")
    assert (error["field"], error["code"]) == ("token", "BAD_USER_INPUT")
    assert len(await api.outbox("member.email_verified")) == 1


async def test_an_expired_verification_token_is_refused(api: Api) -> None:
    anna = await api.sign_up()
    token = await latest_token(api, "verify_email", anna.email)
    await expire_one_time_tokens(api, anna)
    body = await api.gql(VERIFY, {"t": token})
    assert body["data"]["verifyEmail"]["ok"] is False
    [error] = user_errors(body, "verifyEmail")
    assert (error["field"], error["code"]) == ("token", "BAD_USER_INPUT")
    assert not await verified(anna)


async def test_an_unknown_verification_token_is_refused(api: Api) -> None:
    anna = await api.sign_up()
    body = await api.gql(VERIFY, {"t": "not-a-token-we-issued"})
    [error] = user_errors(body, "verifyEmail")
    assert (error["field"], error["code"]) == ("token", "BAD_USER_INPUT")
    assert not await verified(anna)


async def test_requesting_a_new_verification_mail_replaces_the_old_token(api: Api) -> None:
    anna = await api.sign_up()
    old = await latest_token(api, "verify_email", anna.email)
    assert (await anna.ok(REQUEST_VERIFICATION))["requestEmailVerification"] == {"ok": True, "userErrors": []}
    new = await latest_token(api, "verify_email", anna.email)
    assert new != old
    assert user_errors(await api.gql(VERIFY, {"t": old}), "verifyEmail")[0]["field"] == "token"
    assert not await verified(anna)
    await api.ok(VERIFY, {"t": new})
    assert await verified(anna)


async def test_requesting_verification_when_already_verified_is_a_user_error(api: Api) -> None:
    anna = await api.sign_up()
    await api.ok(VERIFY, {"t": await latest_token(api, "verify_email", anna.email)})
    before = len(await api.outbox("email.requested"))
    body = await anna.gql(REQUEST_VERIFICATION)
    assert body["data"]["requestEmailVerification"]["ok"] is False
    [error] = user_errors(body, "requestEmailVerification")
    assert error["code"] == "BAD_USER_INPUT"
    assert "already verified" in error["message"]
    assert len(await api.outbox("email.requested")) == before


async def test_requesting_verification_needs_a_signed_in_member(api: Api) -> None:
    body = await api.gql(REQUEST_VERIFICATION)
    assert only_error(body)["extensions"]["code"] == "UNAUTHENTICATED"


async def test_tokens_only_serve_their_own_purpose(api: Api) -> None:
    anna = await api.sign_up()
    verify_token = await latest_token(api, "verify_email", anna.email)
    await api.ok(REQUEST_RESET, {"e": anna.email})
    reset_token = await latest_token(api, "reset_password", anna.email)

    # A verification link cannot reset the password, nor a reset link verify (through this mutation).
    assert (
        user_errors(await api.gql(RESET, {"t": verify_token, "p": NEW_PASSWORD}), "resetPassword")[0]["field"]
        == "token"
    )
    assert user_errors(await api.gql(VERIFY, {"t": reset_token}), "verifyEmail")[0]["field"] == "token"
    assert not await verified(anna)
    # Both still work for what they are for.
    await api.ok(VERIFY, {"t": verify_token})
    await api.ok(RESET, {"t": reset_token, "p": NEW_PASSWORD})


# --- password reset ----------------------------------------------------------------------


async def test_password_reset_for_an_unknown_email_answers_the_same_and_mails_nothing(api: Api) -> None:
    anna = await api.sign_up()
    before = await api.outbox("email.requested")
    unknown = await api.gql(REQUEST_RESET, {"e": "nobody@example.se"})
    assert unknown["data"]["requestPasswordReset"] == {"ok": True, "userErrors": []}
    assert await api.outbox("email.requested") == before

    known = await api.gql(REQUEST_RESET, {"e": anna.email.upper()})
    assert known["data"] == unknown["data"]
    [mail] = await mails(api, "reset_password")
    assert mail["to"] == anna.email
    assert mail["member_id"] == expect_global_id(anna.id, "Member")


async def test_password_reset_replaces_the_password_and_ends_every_session(api: Api) -> None:
    anna = await api.sign_up()
    second = (await api.ok(LOGIN, {"e": anna.email, "p": anna.password}))["logIn"]["session"]

    await api.ok(REQUEST_RESET, {"e": anna.email})
    token = await latest_token(api, "reset_password", anna.email)
    assert (await api.gql(RESET, {"t": token, "p": NEW_PASSWORD}))["data"]["resetPassword"] == {
        "ok": True,
        "userErrors": [],
    }

    old = await api.gql(LOGIN, {"e": anna.email, "p": anna.password})
    assert only_error(old)["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await api.ok(LOGIN, {"e": anna.email, "p": NEW_PASSWORD}))["logIn"]["session"]["accessToken"]

    # Refresh tokens issued before the reset are all revoked.
    for refresh_token in (anna.refresh_token, second["refreshToken"]):
        refused = await api.gql(REFRESH, {"t": refresh_token})
        assert only_error(refused)["extensions"]["code"] == "UNAUTHENTICATED"

    # Resetting through the mailbox proves it, so the address counts as verified.
    assert await verified(anna)

    again = await api.gql(RESET, {"t": token, "p": "yet another passphrase"})
    assert again["data"]["resetPassword"]["ok"] is False
    [error] = user_errors(again, "resetPassword")
    assert (error["field"], error["code"]) == ("token", "BAD_USER_INPUT")
    assert (await api.ok(LOGIN, {"e": anna.email, "p": NEW_PASSWORD}))["logIn"]["session"]


async def test_an_expired_reset_token_is_refused(api: Api) -> None:
    anna = await api.sign_up()
    await api.ok(REQUEST_RESET, {"e": anna.email})
    token = await latest_token(api, "reset_password", anna.email)
    await expire_one_time_tokens(api, anna)
    body = await api.gql(RESET, {"t": token, "p": NEW_PASSWORD})
    [error] = user_errors(body, "resetPassword")
    assert (error["field"], error["code"]) == ("token", "BAD_USER_INPUT")
    assert (await api.ok(LOGIN, {"e": anna.email, "p": anna.password}))["logIn"]["session"]
    assert (await api.ok(REFRESH, {"t": anna.refresh_token}))["refreshSession"]["session"]


async def test_a_newer_reset_request_voids_the_older_link(api: Api) -> None:
    anna = await api.sign_up()
    await api.ok(REQUEST_RESET, {"e": anna.email})
    first = await latest_token(api, "reset_password", anna.email)
    await api.ok(REQUEST_RESET, {"e": anna.email})
    second = await latest_token(api, "reset_password", anna.email)
    assert first != second
    assert user_errors(await api.gql(RESET, {"t": first, "p": NEW_PASSWORD}), "resetPassword")[0]["field"] == "token"
    await api.ok(RESET, {"t": second, "p": NEW_PASSWORD})


async def test_a_reset_to_a_too_short_password_is_refused_and_keeps_the_link(api: Api) -> None:
    anna = await api.sign_up()
    await api.ok(REQUEST_RESET, {"e": anna.email})
    token = await latest_token(api, "reset_password", anna.email)
    body = await api.gql(RESET, {"t": token, "p": "short"})
    [error] = user_errors(body, "resetPassword")
    assert (error["field"], error["code"]) == ("newPassword", "BAD_USER_INPUT")
    # Nothing was consumed: the link still works with an acceptable password.
    await api.ok(RESET, {"t": token, "p": NEW_PASSWORD})
    assert (await api.ok(LOGIN, {"e": anna.email, "p": NEW_PASSWORD}))["logIn"]["session"]


# --- change password ---------------------------------------------------------------------


async def test_change_password_with_the_wrong_current_password_is_refused(api: Api) -> None:
    anna = await api.sign_up()
    body = await anna.gql(CHANGE, {"c": "not my password", "n": NEW_PASSWORD})
    assert body["data"]["changePassword"]["ok"] is False
    [error] = user_errors(body, "changePassword")
    assert (error["field"], error["code"]) == ("currentPassword", "BAD_USER_INPUT")
    assert (await api.ok(LOGIN, {"e": anna.email, "p": anna.password}))["logIn"]["session"]
    assert (await api.ok(REFRESH, {"t": anna.refresh_token}))["refreshSession"]["session"]


async def test_change_password_ends_other_sessions(api: Api) -> None:
    anna = await api.sign_up()
    laptop = (await api.ok(LOGIN, {"e": anna.email, "p": anna.password}))["logIn"]["session"]

    assert (await anna.ok(CHANGE, {"c": anna.password, "n": NEW_PASSWORD}))["changePassword"] == {
        "ok": True,
        "userErrors": [],
    }
    refused = await api.gql(REFRESH, {"t": laptop["refreshToken"]})
    assert only_error(refused)["extensions"]["code"] == "UNAUTHENTICATED"

    old = await api.gql(LOGIN, {"e": anna.email, "p": anna.password})
    assert only_error(old)["extensions"]["code"] == "UNAUTHENTICATED"
    fresh = (await api.ok(LOGIN, {"e": anna.email, "p": NEW_PASSWORD}))["logIn"]["session"]
    assert (await api.ok(REFRESH, {"t": fresh["refreshToken"]}))["refreshSession"]["session"]
    # The access token that made the change keeps working until it expires.
    assert (await anna.ok(VIEWER))["viewer"]["email"] == anna.email


async def test_change_password_to_a_too_short_one_is_refused(api: Api) -> None:
    anna = await api.sign_up()
    body = await anna.gql(CHANGE, {"c": anna.password, "n": "short"})
    assert body["data"]["changePassword"]["ok"] is False
    [error] = user_errors(body, "changePassword")
    assert (error["field"], error["code"]) == ("newPassword", "BAD_USER_INPUT")
    assert (await api.ok(LOGIN, {"e": anna.email, "p": anna.password}))["logIn"]["session"]


async def test_change_password_needs_a_signed_in_member(api: Api) -> None:
    body = await api.gql(CHANGE, {"c": "whatever it is", "n": NEW_PASSWORD})
    assert only_error(body)["extensions"]["code"] == "UNAUTHENTICATED"


# --- personal access tokens ------------------------------------------------------------


async def test_a_personal_access_token_is_shown_once_and_stored_hashed(api: Api) -> None:
    anna = await api.sign_up()
    created = await create_pat(anna, ["read"])
    token = created["token"]
    pat = created["personalAccessToken"]
    assert token.startswith("hbp_")
    assert len(token) > 40
    assert pat["name"] == "script read"
    assert pat["scopes"] == ["read"]
    assert pat["tokenHint"] == token[:10]
    assert token.startswith(pat["tokenHint"])
    assert pat["expiresAt"] is None and pat["revokedAt"] is None and pat["lastUsedAt"] is None

    listing = await anna.ok(LIST_PATS)
    conn = listing["viewer"]["personalAccessTokens"]
    assert conn["totalCount"] == 1
    assert conn["nodes"] == [{**pat, "lastUsedAt": None}]
    assert token not in json.dumps(listing)
    # There is no field to read the secret back through.
    body = await anna.gql("{ viewer { personalAccessTokens { nodes { token } } } }")
    assert only_error(body)["extensions"]["code"] == "BAD_USER_INPUT"

    async with await api.graph_session() as db:
        row = (
            await db.execute(
                select(PersonalAccessToken).where(
                    PersonalAccessToken.id == expect_global_id(pat["id"], "PersonalAccessToken")
                )
            )
        ).scalar_one()
    assert row.token_hash != token
    assert token not in row.token_hash
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert row.token_hint == token[:10]


async def test_a_read_token_reads_but_does_not_write(api: Api) -> None:
    anna = await api.sign_up()
    bo = await api.sign_up()
    token = (await create_pat(anna, ["read"]))["token"]

    viewer = (await api.ok(VIEWER, token=token))["viewer"]
    assert viewer["email"] == anna.email

    for query, variables in ((UPDATE_PROFILE, {"h": "Written with a read token"}), (FOLLOW, {"id": bo.id})):
        body = await api.gql(query, variables, token)
        error = only_error(body)
        assert error["extensions"]["code"] == "FORBIDDEN", body
        assert "'write'" in error["message"]
    profile = (await anna.ok("{ viewer { member { headline followingCount } } }"))["viewer"]["member"]
    assert profile == {"headline": "", "followingCount": 0}

    # Listing marks the use.
    [listed] = (await anna.ok(LIST_PATS))["viewer"]["personalAccessTokens"]["nodes"]
    assert listed["lastUsedAt"] is not None


async def test_a_write_token_writes(api: Api) -> None:
    anna = await api.sign_up()
    bo = await api.sign_up()
    created = await create_pat(anna, ["write", "read"])
    assert created["personalAccessToken"]["scopes"] == ["read", "write"]
    token = created["token"]

    updated = await api.ok(UPDATE_PROFILE, {"h": "Written by a script"}, token)
    assert updated["updateProfile"]["member"] == {"headline": "Written by a script"}
    assert (await api.ok(FOLLOW, {"id": bo.id}, token))["follow"]["following"] is True
    assert (await anna.ok("{ viewer { member { followingCount } } }"))["viewer"]["member"]["followingCount"] == 1


async def test_unknown_or_missing_scopes_are_refused(api: Api) -> None:
    anna = await api.sign_up()
    for scopes in (["read", "admin"], []):
        body = await anna.gql(CREATE_PAT, {"i": {"name": "bad", "scopes": scopes}})
        payload = body["data"]["createPersonalAccessToken"]
        assert payload["token"] is None and payload["personalAccessToken"] is None
        [error] = payload["userErrors"]
        assert (error["field"], error["code"]) == ("scopes", "BAD_USER_INPUT"), scopes
    assert (
        "'admin'"
        in (await anna.gql(CREATE_PAT, {"i": {"name": "bad", "scopes": ["admin"]}}))["data"][
            "createPersonalAccessToken"
        ]["userErrors"][0]["message"]
    )
    assert (await anna.ok(LIST_PATS))["viewer"]["personalAccessTokens"]["totalCount"] == 0


async def test_the_moderate_scope_is_for_moderators_only(api: Api) -> None:
    anna = await api.sign_up()
    body = await anna.gql(CREATE_PAT, {"i": {"name": "mod", "scopes": ["read", "moderate"]}})
    payload = body["data"]["createPersonalAccessToken"]
    assert payload["token"] is None
    [error] = payload["userErrors"]
    assert (error["field"], error["code"]) == ("scopes", "BAD_USER_INPUT")

    moderator = await api.make_admin("moderator")
    created = await create_pat(moderator, ["read", "moderate"])
    assert created["personalAccessToken"]["scopes"] == ["read", "moderate"]


async def test_a_personal_access_token_cannot_mint_tokens_or_change_the_password(api: Api) -> None:
    anna = await api.sign_up()
    token = (await create_pat(anna, ["read", "write"]))["token"]

    minted = await api.gql(CREATE_PAT, {"i": {"name": "child", "scopes": ["read"]}}, token)
    assert only_error(minted)["extensions"]["code"] == "FORBIDDEN"
    assert (await anna.ok(LIST_PATS))["viewer"]["personalAccessTokens"]["totalCount"] == 1

    changed = await api.gql(CHANGE, {"c": anna.password, "n": NEW_PASSWORD}, token)
    assert only_error(changed)["extensions"]["code"] == "FORBIDDEN"
    assert (await api.ok(LOGIN, {"e": anna.email, "p": anna.password}))["logIn"]["session"]


async def test_a_revoked_token_is_refused(api: Api) -> None:
    anna = await api.sign_up()
    created = await create_pat(anna, ["read", "write"])
    token, pat_id = created["token"], created["personalAccessToken"]["id"]
    assert (await api.ok(VIEWER, token=token))["viewer"]["email"] == anna.email

    revoked = (await anna.ok(REVOKE_PAT, {"id": pat_id}))["revokePersonalAccessToken"]["personalAccessToken"]
    assert revoked["id"] == pat_id and revoked["revokedAt"] is not None
    await assert_unauthenticated(api, token)
    [listed] = (await anna.ok(LIST_PATS))["viewer"]["personalAccessTokens"]["nodes"]
    assert listed["revokedAt"] == revoked["revokedAt"]
    # Revoking twice changes nothing.
    again = (await anna.ok(REVOKE_PAT, {"id": pat_id}))["revokePersonalAccessToken"]["personalAccessToken"]
    assert again["revokedAt"] == revoked["revokedAt"]


async def test_a_read_token_cannot_revoke_tokens(api: Api) -> None:
    anna = await api.sign_up()
    reader = await create_pat(anna, ["read"])
    body = await api.gql(REVOKE_PAT, {"id": reader["personalAccessToken"]["id"]}, reader["token"])
    assert only_error(body)["extensions"]["code"] == "FORBIDDEN"
    assert (await api.ok(VIEWER, token=reader["token"]))["viewer"]["email"] == anna.email


async def test_an_expired_token_is_refused(api: Api) -> None:
    anna = await api.sign_up()
    created = await create_pat(anna, ["read"], expiresInDays=7)
    token, pat = created["token"], created["personalAccessToken"]
    assert pat["expiresAt"] is not None
    assert (await api.ok(VIEWER, token=token))["viewer"]["email"] == anna.email

    async with await api.graph_session() as db:
        await db.execute(
            update(PersonalAccessToken)
            .where(PersonalAccessToken.id == expect_global_id(pat["id"], "PersonalAccessToken"))
            .values(expires_at=utcnow() - timedelta(seconds=5))
        )
        await db.commit()
    await assert_unauthenticated(api, token)


async def test_unknown_personal_access_tokens_are_refused(api: Api) -> None:
    anna = await api.sign_up()
    token = (await create_pat(anna, ["read"]))["token"]
    await assert_unauthenticated(api, "hbp_not-a-token-anyone-was-given")
    await assert_unauthenticated(api, token[:-2])
    await assert_unauthenticated(api, "hbp_")


async def test_revoking_someone_elses_token_is_not_found(api: Api) -> None:
    anna = await api.sign_up()
    bo = await api.sign_up()
    created = await create_pat(anna, ["read"])
    body = await bo.gql(REVOKE_PAT, {"id": created["personalAccessToken"]["id"]})
    payload = body["data"]["revokePersonalAccessToken"]
    assert payload["personalAccessToken"] is None
    [error] = payload["userErrors"]
    assert error["code"] == "NOT_FOUND"
    # Still alive, and absent from bo's own list.
    assert (await api.ok(VIEWER, token=created["token"]))["viewer"]["email"] == anna.email
    assert (await bo.ok(LIST_PATS))["viewer"]["personalAccessTokens"]["totalCount"] == 0
