"""The admin panel's pages against the real GraphQL API: two languages, security headers, a
session that outlives its access token, forms that keep what was typed and say what was wrong
next to the field, and the platform pages (members, organisations, hub moderators, audit log,
failed jobs) doing what they say."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from services.web import i18n, vocabulary
from services.web.panel import safe_next
from services.web.session import COOKIE, SessionCodec
from tests.conftest import Api
from tests.services.feed.test_feeds import joined
from tests.services.moderation.test_moderation import CAPS, CASE, case_of, hub_world, report
from tests.services.web.conftest import Browser, browser_at, text_of

WEB = Path(__file__).resolve().parents[3] / "services" / "web"
MESSAGE = re.compile(r"""(?<![\w])(?:\w+\.)?_\(\s*(["'])((?:\\.|(?!\1).)*)\1""")
PLURAL = re.compile(r'ngettext\(\s*"([^"]*)",\s*"([^"]*)"')


def messages() -> set[str]:
    """Every message the panel shows: `_()` in templates and code, ngettext, and the API's words."""
    found: set[str] = set()
    for path in [*WEB.rglob("*.html"), *WEB.rglob("*.py")]:
        if path.name == "i18n.py":
            continue
        source = path.read_text()
        found |= {m.group(2) for m in MESSAGE.finditer(source)}
        found |= {text for m in PLURAL.finditer(source) for text in m.groups()}
    for table in ("REASONS", "TARGET_TYPES", "STATUSES", "CONTENT_STATES", "CLAIMS", "ACTIONS", "JOB_SERVICES"):
        found |= set(getattr(vocabulary, table).values())
    found |= set(vocabulary.AUDIT_TARGETS.values()) | set(vocabulary.AUDIT_EVENTS.values()) | {"Case", "Content"}
    return found


def test_every_message_has_swedish() -> None:
    found = messages()
    assert len(found) > 150
    missing = sorted(m for m in found if m not in i18n.SWEDISH)
    assert missing == []
    # Placeholders survive translation.
    for english, swedish in i18n.SWEDISH.items():
        assert sorted(re.findall(r"%\(\w+\)s", english)) == sorted(re.findall(r"%\(\w+\)s", swedish)), english


def test_the_language_follows_accept_language_with_weights() -> None:
    assert i18n.negotiate("") == "sv"
    assert i18n.negotiate("en-GB,en;q=0.9") == "en"
    assert i18n.negotiate("de-DE, en;q=0.5, sv;q=0.8") == "sv"
    assert i18n.negotiate("fr, de") == "sv"


def test_after_log_in_only_panel_paths_are_followed() -> None:
    assert safe_next("/cases?status=OPEN") == "/cases?status=OPEN"
    for elsewhere in (None, "", "https://evil.example/", "//evil.example/", "/\\evil.example", "/\t/evil.example"):
        assert safe_next(elsewhere) == "/", elsewhere


async def test_language_from_the_browser_a_switch_and_the_lang_parameter(api: Api) -> None:
    async with browser_at(api.app, lang="sv-SE,sv;q=0.9,en;q=0.5") as http:
        browser = Browser(http)
        page = await browser.get("/login")
        assert '<html lang="sv">' in page.text and "Logga in i adminpanelen" in text_of(page)
        switched = await browser.post("/language", {"lang": "en", "next": "/login"})
        assert switched.status_code == 303 and switched.headers["location"] == "/admin/login"
        page = await browser.get("/login")
        assert '<html lang="en">' in page.text and "Log in to the admin panel" in text_of(page)
        page = await browser.get("/login?lang=sv")
        assert '<html lang="sv">' in page.text
        assert '<html lang="sv">' in (await browser.get("/login")).text  # kept in the session
        # The switch refuses to send anyone off the panel.
        away = await browser.post("/language", {"lang": "en", "next": "//evil.example/"})
        assert away.headers["location"] == "/admin/"


async def test_security_headers_on_every_response(api: Api, browser: Browser) -> None:
    for path, cached in (("/login", False), ("/", False), ("/nowhere", False), ("/static/admin.css", True)):
        response = await browser.get(path)
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "same-origin"
        assert (response.headers.get("cache-control") == "no-store") is not cached, path
    assert (await browser.get("/nowhere")).status_code == 404
    page = (await browser.get("/login")).text
    assert "<script" not in page and " style=" not in page  # nothing inline for the CSP to block
    assert 'class="skip-link" href="#main"' in page and '<main id="main"' in page


async def test_a_session_outlives_its_access_token(api: Api, browser: Browser) -> None:
    moderator = await api.make_admin("moderator")
    await browser.log_in(moderator.email, moderator.password)
    codec = SessionCodec(api.app.state.settings.web_session_key.encode(), 3600)
    session = codec.loads(browser.http.cookies.get(COOKIE, path="/admin"))
    assert session is not None
    old_access, old_refresh = session.access_token, session.refresh_token
    session.expires_at = 0  # as if the access token had run out
    browser.http.cookies.set(COOKIE, codec.dumps(session), domain="hubben.test", path="/admin")

    page = await browser.get("/")
    assert page.status_code == 200 and "Dashboard" in text_of(page)
    renewed = codec.loads(browser.http.cookies.get(COOKIE, path="/admin"))
    assert renewed is not None and renewed.access_token != old_access and renewed.refresh_token != old_refresh
    assert renewed.expires_at > datetime.now(UTC).timestamp()
    assert (await browser.get("/cases")).status_code == 200

    # A session whose refresh token was ended elsewhere sends the moderator back to log in.
    await api.gql("mutation($t: String!) { logOut(input: {refreshToken: $t}) { ok } }", {"t": renewed.refresh_token})
    renewed.expires_at = 0
    browser.http.cookies.set(COOKIE, codec.dumps(renewed), domain="hubben.test", path="/admin")
    bounced = await browser.get("/cases")
    assert bounced.status_code == 303 and bounced.headers["location"] == "/admin/login?next=%2Fcases"
    assert "Your session has ended" in text_of(await browser.get("/login?next=%2Fcases"))
    assert old_refresh  # (used above; a rotated token must not come back)


def _field(page: str, field_id: str) -> str:
    tag = re.search(rf'<(?:input|textarea|select) id="{field_id}"[^>]*>', page)
    assert tag, field_id
    return tag.group(0)


async def test_a_refused_decision_is_explained_next_to_its_field_and_keeps_what_was_typed(
    api: Api, browser: Browser
) -> None:
    _, hub, author, post = await hub_world(api)
    await report(await api.sign_up(), post["id"], "HARASSMENT", "Otrevlig ton")
    moderator = await api.make_admin("moderator")
    case_id = (await case_of(moderator, post["id"]))["id"]
    await browser.log_in(moderator.email, moderator.password)
    page = await browser.get(f"/cases/{case_id}")
    assert page.status_code == 200
    seen = text_of(page)
    assert "Köp billiga klockor nu" in seen and "Otrevlig ton" in seen and "Harassment: 1" in seen
    assert f"@{author.handle}" in seen and "The author's history" in seen
    for field_id in ("decide-action", "decide-reason", "decide-suspendUntil"):
        assert re.search(rf'<label for="{field_id}">', page.text), field_id

    # Checked in the panel: a suspension needs its end.
    missing = await browser.post(f"/cases/{case_id}/decide", {"action": "SUSPEND", "reason": "Upprepat"})
    assert missing.status_code == 422
    until = _field(missing.text, "decide-suspendUntil")
    assert 'aria-invalid="true"' in until and "decide-suspendUntil-error" in until
    assert 'id="decide-suspendUntil-error">A suspension needs an end.' in missing.text
    assert ">Upprepat</textarea>" in missing.text
    assert re.search(r'<option value="SUSPEND" selected>', missing.text)

    # Checked by the API: the end must be in the future; its message lands by the same field.
    past = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    refused = await browser.post(
        f"/cases/{case_id}/decide", {"action": "SUSPEND", "reason": "Upprepat", "suspendUntil": past}
    )
    assert refused.status_code == 422
    assert 'id="decide-suspendUntil-error">a suspension ends in the future' in refused.text
    assert f'value="{past}"' in refused.text
    case = (await moderator.ok(CASE, {"id": case_id}))["moderationCase"]
    assert case["status"] == "OPEN" and case["decisions"] == []

    # Claim, release, claim: each a redirect to the case with a message.
    for expected in ("The case is yours.", "You released the case.", "The case is yours."):
        moved = await browser.post(f"/cases/{case_id}/claim", {"release": "true" if "released" in expected else ""})
        assert moved.status_code == 303
        assert expected in text_of(await browser.get(f"/cases/{case_id}"))


async def test_platform_pages_members_organisations_hub_moderators_audit_and_jobs(api: Api, browser: Browser) -> None:
    owner, hub, author, _ = await hub_world(api)
    moderator = await api.make_admin("moderator")
    await browser.log_in(moderator.email, moderator.password)

    # A member: looked up by handle, warned through the form.
    unknown = await browser.get("/members?handle=nobody_here")
    assert unknown.status_code == 404 and "No member with the handle nobody_here." in text_of(unknown)
    profile = await browser.get(f"/members?handle=@{author.handle}")
    assert profile.status_code == 200 and "Moderation history" in text_of(profile)
    warned = await browser.post(
        "/members/moderate",
        {"memberId": author.id, "handle": author.handle, "action": "WARN", "reason": "Håll god ton"},
    )
    assert warned.status_code == 303
    after = await browser.get(warned.headers["location"].removeprefix("/admin"))
    assert "Decision recorded: Warn." in text_of(after) and "Håll god ton" in text_of(after)
    no_reason = await browser.post(
        "/members/moderate", {"memberId": author.id, "handle": author.handle, "action": "WARN", "reason": " "}
    )
    assert no_reason.status_code == 422 and 'id="moderate-reason-error"' in no_reason.text

    # Organisations awaiting verification, verified with a reason.
    org = (await owner.ok(f'{{ hub(slug: "{hub["slug"]}") {{ organisation {{ id name verified }} }} }}'))["hub"][
        "organisation"
    ]
    listed = await browser.get("/organisations")
    assert org["id"] in listed.text and org["name"] in text_of(listed)
    verify = {"organisationId": org["id"], "name": org["name"], "action": "VERIFY_ORGANISATION", "reason": ""}
    blank = await browser.post("/organisations/moderate", verify)
    assert blank.status_code == 422 and "Give a reason; it goes in the audit log." in text_of(blank)
    verified = await browser.post("/organisations/moderate", {**verify, "reason": "Kontrollerad"})
    assert verified.status_code == 303
    assert f"{org['name']} is verified." in text_of(await browser.get("/organisations"))
    assert org["id"] in (await browser.get("/organisations?verified=true")).text

    # A hub moderator appointed by handle and hub address.
    helper = await joined(api, hub)
    missing = await browser.post("/hub-moderators", {"hub": "no-such-hub", "member": helper.handle, "reason": "x"})
    assert missing.status_code == 422 and "No hub with the address no-such-hub." in text_of(missing)
    assert f'value="{helper.handle}"' in missing.text
    appoint = {"hub": hub["slug"], "member": helper.handle, "reason": "Pålitlig"}
    appointed = await browser.post("/hub-moderators", appoint)
    assert appointed.status_code == 303
    assert (await helper.ok(CAPS))["moderationCapabilities"]["hubs"] == [{"slug": hub["slug"]}]

    # The audit log: everything above, filterable by moderator and action.
    log = text_of(await browser.get(f"/audit?actor={moderator.handle}"))
    for reason in ("Håll god ton", "Kontrollerad", "Pålitlig"):
        assert reason in log
    only = text_of(await browser.get(f"/audit?actor={moderator.handle}&action=member.warn"))
    assert "Håll god ton" in only and "Kontrollerad" not in only
    nobody = await browser.get("/audit?actor=nobody_here&since=yesterday")
    assert nobody.status_code == 400
    assert 'id="audit-actor-error"' in nobody.text and 'id="audit-since-error"' in nobody.text

    # Failed jobs are for platform admins (as in the API), with one tab per service it reports on.
    assert (await browser.get("/jobs")).status_code == 403
    admin = await api.make_admin("admin")
    async with browser_at(api.app) as http:
        as_admin = Browser(http)
        await as_admin.log_in(admin.email, admin.password)
        jobs = await as_admin.get("/jobs")
    assert jobs.status_code == 200 and "No failed jobs." in text_of(jobs)
    assert 'href="/admin/jobs?service=FEED"' in jobs.text and 'href="/admin/jobs?service=GRAPH"' in jobs.text
    assert 'href="/admin/jobs"' in jobs.text and 'href="/admin/jobs"' not in profile.text  # in the admin's menu only
