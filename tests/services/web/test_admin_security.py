"""The admin panel's gates, driven like a browser against the gateway that mounts it: who may
see which page and send which form, CSRF and foreign origins refused with nothing done, log-in
throttling surfaced as 429, and the session cookie's flags."""

from __future__ import annotations

from typing import Any

from services.web.session import COOKIE, SessionCodec
from tests.conftest import Api, Session, poll
from tests.services.feed.test_feeds import joined
from tests.services.moderation.test_moderation import CASE, case_of, hub_feed, hub_world, report
from tests.services.web.conftest import LOGIN_FAILURES_PER_ACCOUNT, LOGIN_FAILURES_PER_IP, Browser, browser_at, text_of

SET_HUB_ROLE = """mutation($h: ID!, $m: ID!) { setHubRole(input: {hubId: $h, memberId: $m, role: MODERATOR}) {
  membership { role } userErrors { message } } }"""
HISTORY = """query($id: ID!) { moderationHistory(memberId: $id) { warnings } }"""
PLATFORM_PAGES = ["/members", "/organisations", "/organisations?verified=true", "/hub-moderators", "/audit", "/jobs"]


def platform_forms(author: Session, hub: dict[str, Any], member: Session) -> list[tuple[str, dict[str, str]]]:
    return [
        ("/members/moderate", {"memberId": author.id, "handle": author.handle, "action": "WARN", "reason": "x"}),
        ("/organisations/moderate", {"organisationId": hub["id"], "action": "VERIFY_ORGANISATION", "reason": "x"}),
        ("/hub-moderators", {"hub": hub["slug"], "member": member.handle, "reason": "x"}),
        ("/jobs/replay", {"id": "RmFpbGVkSm9iOjE", "service": "FEED"}),
    ]


async def untouched(api: Api, moderator: Session, case_id: str, post: dict[str, Any], hub: dict[str, Any]) -> None:
    """The case is as it was filed and the post still shows: the refused forms did nothing."""
    case = (await moderator.ok(CASE, {"id": case_id}))["moderationCase"]
    assert (case["status"], case["claimedBy"], case["decisions"]) == ("OPEN", None, [])
    assert case["content"]["state"] == "VISIBLE"
    assert post["id"] in await hub_feed(api, hub)


async def test_a_member_without_a_moderator_role_gets_403_on_every_page_and_form(api: Api, browser: Browser) -> None:
    _, hub, author, post = await hub_world(api)
    await report(await api.sign_up(), post["id"])
    moderator = await api.make_admin("moderator")
    case_id = (await case_of(moderator, post["id"]))["id"]
    member = await api.sign_up()

    assert (await browser.log_in(member.email, member.password)).status_code == 303
    pages = ["/", "/cases", "/cases?status=&claim=MINE", f"/cases/{case_id}", *PLATFORM_PAGES]
    pages.append(f"/members?handle={author.handle}")
    for path in pages:
        page = await browser.get(path)
        assert page.status_code == 403, (path, page.status_code)
        assert "Not allowed" in text_of(page) and "for platform moderators and hub moderators" in text_of(page)
        assert 'href="/admin/cases"' not in page.text  # no navigation into what they may not see
    forms = [
        (f"/cases/{case_id}/claim", {}),
        (f"/cases/{case_id}/decide", {"action": "HIDE", "reason": "x"}),
        *platform_forms(author, hub, member),
    ]
    for path, data in forms:
        refused = await browser.post(path, data)
        assert refused.status_code == 403, (path, refused.status_code, text_of(refused))
    await untouched(api, moderator, case_id, post, hub)
    assert (await moderator.ok(HISTORY, {"id": author.id}))["moderationHistory"]["warnings"] == 0


async def test_a_hub_moderator_sees_their_hubs_only_and_no_platform_pages(api: Api, browser: Browser) -> None:
    owner, hub, author, post = await hub_world(api)
    _, other_hub, _, other_post = await hub_world(api)
    hub_mod = await joined(api, hub)
    await owner.ok(SET_HUB_ROLE, {"h": hub["id"], "m": hub_mod.id})
    reporter = await api.sign_up()
    for target in (post["id"], other_post["id"]):
        assert (await report(reporter, target))["userErrors"] == []
    platform = await api.make_admin("moderator")
    mine, elsewhere = (await case_of(platform, post["id"]))["id"], (await case_of(platform, other_post["id"]))["id"]

    assert (await browser.log_in(hub_mod.email, hub_mod.password)).status_code == 303
    dashboard = await browser.get("/")
    assert dashboard.status_code == 200 and "You moderate these hubs: Kraftsamlingen" in text_of(dashboard)
    assert 'href="/admin/audit"' not in dashboard.text and 'href="/admin/members"' not in dashboard.text
    queue = await browser.get("/cases")
    assert f"/admin/cases/{mine}" in queue.text and f"/admin/cases/{elsewhere}" not in queue.text
    case_page = await browser.get(f"/cases/{mine}")
    assert case_page.status_code == 200
    offered = set(_options(case_page.text, "decide-action")) - {""}
    assert offered == {"DISMISS", "HIDE", "REMOVE", "WARN"}  # no suspensions or bans from a hub moderator

    for path in [*PLATFORM_PAGES, f"/members?handle={author.handle}"]:
        assert (await browser.get(path)).status_code == 403, path
    for path, data in platform_forms(author, hub, hub_mod):
        assert (await browser.post(path, data)).status_code == 403, path

    # A case in another hub: not found for them, and nothing they send changes it.
    assert (await browser.get(f"/cases/{elsewhere}")).status_code == 404
    assert (await browser.post(f"/cases/{elsewhere}/claim", {})).status_code == 404
    hide = await browser.post(f"/cases/{elsewhere}/decide", {"action": "HIDE", "reason": "Not mine"})
    assert hide.status_code == 404
    await untouched(api, platform, elsewhere, other_post, other_hub)
    # Suspending is a platform decision, even on their own hub's case.
    until = "2030-01-01T12:00"
    suspend = await browser.post(f"/cases/{mine}/decide", {"action": "SUSPEND", "reason": "x", "suspendUntil": until})
    assert suspend.status_code == 403
    await untouched(api, platform, mine, post, hub)

    # In their own hub they act.
    hidden = await browser.post(f"/cases/{mine}/decide", {"action": "HIDE", "reason": "Reklam"})
    assert hidden.status_code == 303, text_of(hidden)
    after = await browser.get(hidden.headers["location"].removeprefix("/admin"))
    assert "Decision recorded: Hide." in text_of(after) and "Reklam" in text_of(after)
    await poll(lambda: _absent(hub_feed(api, hub), post["id"]))


async def _absent(found: Any, item: str) -> bool:
    return item not in await found


def _options(page: str, select_id: str) -> list[str]:
    import re

    block = re.search(rf'<select id="{select_id}".*?</select>', page, re.S)
    assert block, select_id
    return re.findall(r'<option value="([^"]*)"', block.group(0))


async def test_forms_without_the_sessions_csrf_token_or_from_another_origin_are_refused(
    api: Api, browser: Browser
) -> None:
    _, hub, _, post = await hub_world(api)
    await report(await api.sign_up(), post["id"])
    moderator = await api.make_admin("moderator")
    case_id = (await case_of(moderator, post["id"]))["id"]
    assert (await browser.log_in(moderator.email, moderator.password)).status_code == 303

    async with browser_at(api.app) as other_http:
        other = Browser(other_http)
        await other.get("/login")
        foreign_token = other.csrf
    decide = f"/cases/{case_id}/decide"
    attempts: list[tuple[str | None, dict[str, str]]] = [
        (None, {}),  # no token
        ("forged-token", {}),  # a wrong one
        (foreign_token, {}),  # another session's
        (browser.csrf, {"origin": "https://evil.example"}),  # the right one, sent from another site
        (browser.csrf, {"origin": "null"}),
    ]
    for token, headers in attempts:
        refused = await browser.post(decide, {"action": "HIDE", "reason": "x"}, csrf=token, headers=headers)
        assert refused.status_code == 403, (token, headers)
        assert "location" not in refused.headers
        claim = await browser.post(f"/cases/{case_id}/claim", {}, csrf=token, headers=headers)
        assert claim.status_code == 403
    await untouched(api, moderator, case_id, post, hub)

    # Log-in is guarded too (a pre-session token), so no one can sign a browser into their account.
    async with browser_at(api.app) as fresh_http:
        fresh = Browser(fresh_http)
        login = {"email": moderator.email, "password": moderator.password}
        assert (await fresh.post("/login", login, csrf=None)).status_code == 403
        assert (await fresh.get("/")).status_code == 303  # still signed out

    # The same form from the panel's own origin goes through.
    ok = await browser.post(decide, {"action": "HIDE", "reason": "Spam"}, headers={"origin": "http://hubben.test"})
    assert ok.status_code == 303
    case = (await moderator.ok(CASE, {"id": case_id}))["moderationCase"]
    assert case["content"]["state"] == "HIDDEN"


async def test_log_in_throttling_engages_through_the_panel(api: Api, browser: Browser) -> None:
    moderator = await api.make_admin("moderator")
    for _ in range(LOGIN_FAILURES_PER_ACCOUNT):
        wrong = await browser.log_in(moderator.email, "not the password")
        assert wrong.status_code == 401
        assert "Wrong email address or password." in text_of(wrong)
    # Over the limit even the right password is refused, saying when to try again.
    throttled = await browser.log_in(moderator.email, moderator.password)
    assert throttled.status_code == 429
    assert "Too many attempts. Try again in" in text_of(throttled)
    assert 0 < int(throttled.headers["retry-after"]) <= 900
    assert f'value="{moderator.email}"' in throttled.text  # what they typed stays
    assert (await browser.get("/")).status_code == 303  # not signed in
    async with browser_at(api.app, "10.9.9.9") as elsewhere:
        # Per account: from another address as well.
        assert (await Browser(elsewhere).log_in(moderator.email, moderator.password)).status_code == 429

    # Per address: the panel passes the browser's address on, so one address guessing at many
    # accounts is stopped, and other addresses are not.
    other = await api.make_admin("moderator")
    async with browser_at(api.app, "10.0.0.7") as guesser_http:
        guesser = Browser(guesser_http)
        for n in range(LOGIN_FAILURES_PER_IP):
            assert (await guesser.log_in(f"nobody{n}@example.se", "guess")).status_code == 401
        assert (await guesser.log_in(other.email, other.password)).status_code == 429
    async with browser_at(api.app, "10.0.0.8") as honest_http:
        assert (await Browser(honest_http).log_in(other.email, other.password)).status_code == 303


def _cookie_header(response: Any) -> str:
    headers = [v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith(f"{COOKIE}=")]
    assert len(headers) == 1, response.headers
    return str(headers[0])


async def test_the_session_cookie_is_http_only_same_site_lax_scoped_to_admin_and_secure_over_https(
    api: Api, browser: Browser
) -> None:
    moderator = await api.make_admin("moderator")
    first = await browser.get("/login")
    for response in (first, await browser.log_in(moderator.email, moderator.password)):
        flags = [f.strip().lower() for f in _cookie_header(response).split(";")]
        assert "httponly" in flags and "samesite=lax" in flags and "path=/admin" in flags
        assert "secure" not in flags

    codec = SessionCodec(api.app.state.settings.web_session_key.encode(), 3600)
    session = codec.loads(browser.http.cookies.get(COOKIE, path="/admin"))
    assert session is not None and session.handle == moderator.handle and session.access_token

    async with browser_at(api.app, scheme="https") as http:
        over_tls = Browser(http)
        for response in (await over_tls.get("/login"), await over_tls.log_in(moderator.email, moderator.password)):
            assert "secure" in [f.strip().lower() for f in _cookie_header(response).split(";")]
        assert over_tls.pages[-1].status_code == 200  # signed in
    async with browser_at(api.app) as http:  # TLS ended at a proxy that says so
        behind_proxy = await Browser(http).get("/login", headers={"x-forwarded-proto": "https"})
        assert "secure" in [f.strip().lower() for f in _cookie_header(behind_proxy).split(";")]

    # A tampered cookie is no session at all.
    async with browser_at(api.app) as http:
        http.cookies.set(COOKIE, "x" + browser.http.cookies.get(COOKIE, path="/admin")[1:], path="/admin")
        assert (await http.get("/admin/")).status_code == 303

    # Logging out ends the session at the source (its refresh token no longer works) and clears the cookie.
    out = await browser.post("/logout", {})
    assert out.status_code == 303 and out.headers["location"] == "/admin/login?signed_out=1"
    cleared = _cookie_header(out).lower()
    assert "max-age=0" in cleared and "path=/admin" in cleared
    refreshed = await api.gql(
        "mutation($t: String!) { refreshSession(input: {refreshToken: $t}) { session { accessToken } } }",
        {"t": session.refresh_token},
    )
    assert refreshed.get("errors") or not refreshed["data"]["refreshSession"]["session"]
    assert (await browser.get("/")).status_code == 303
