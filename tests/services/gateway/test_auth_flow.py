"""Sign-up → log-in → refresh → log-out, and refresh-token reuse detection."""

from __future__ import annotations

from tests.conftest import Api

VIEWER = "{ viewer { email emailVerified member { handle } } }"
REFRESH = """mutation($t: String!) { refreshSession(input: {refreshToken: $t}) {
  session { accessToken refreshToken } userErrors { field message code } } }"""
LOGOUT = """mutation($t: String!) { logOut(input: {refreshToken: $t}) { ok userErrors { message code } } }"""
LOGIN = """mutation($e: String!, $p: String!) { logIn(input: {email: $e, password: $p}) {
  session { accessToken refreshToken member { handle } } userErrors { field message code } } }"""


async def test_sign_up_log_in_refresh_log_out(api: Api) -> None:
    anna = await api.sign_up("anna_lindqvist")
    viewer = (await anna.ok(VIEWER))["viewer"]
    assert viewer == {
        "email": "anna_lindqvist@example.se",
        "emailVerified": False,
        "member": {"handle": "anna_lindqvist"},
    }

    logged_in = (await api.ok(LOGIN, {"e": "ANNA_LINDQVIST@example.se", "p": anna.password}))["logIn"]["session"]
    assert logged_in["member"]["handle"] == "anna_lindqvist"

    refreshed = (await api.ok(REFRESH, {"t": logged_in["refreshToken"]}))["refreshSession"]["session"]
    assert refreshed["refreshToken"] != logged_in["refreshToken"]
    assert (await api.ok(VIEWER, token=refreshed["accessToken"]))["viewer"]["member"]["handle"] == "anna_lindqvist"

    assert (await api.ok(LOGOUT, {"t": refreshed["refreshToken"]}))["logOut"]["ok"] is True
    after = await api.gql(REFRESH, {"t": refreshed["refreshToken"]})
    assert after["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # The other session (from sign-up) is a separate family and still works.
    assert (await api.gql(REFRESH, {"t": anna.refresh_token}))["data"]["refreshSession"]["session"]


async def test_wrong_password_and_unknown_email_look_the_same(api: Api) -> None:
    anna = await api.sign_up()
    wrong = await api.gql(LOGIN, {"e": anna.email, "p": "not the password"})
    unknown = await api.gql(LOGIN, {"e": "nobody@example.se", "p": "not the password"})
    assert wrong["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert wrong["errors"][0]["message"] == unknown["errors"][0]["message"]


async def test_reusing_a_rotated_refresh_token_revokes_the_family(api: Api) -> None:
    anna = await api.sign_up()
    first = (await api.ok(REFRESH, {"t": anna.refresh_token}))["refreshSession"]["session"]
    # The old token comes back (stolen copy): refused, and the whole family ends.
    reuse = await api.gql(REFRESH, {"t": anna.refresh_token})
    assert reuse["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "reuse" in reuse["errors"][0]["message"]
    descendant = await api.gql(REFRESH, {"t": first["refreshToken"]})
    assert descendant["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await api.outbox("session.reuse_detected")
