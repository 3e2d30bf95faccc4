"""Mail, end to end against a real SMTP server process (aiosmtpd, recording what it
receives): account mails from the graph service, immediate notification mails, the daily
digest, unsubscribe links, and delivery that survives the SMTP server being down.

Each backend gets its own app with SMTP settings: SQLite with jobs in-process, and
PostgreSQL with jobs on arq over Redis."""

from __future__ import annotations

import base64
import email
import email.policy
import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from tests.conftest import (
    Api,
    Session,
    _empty_tables,
    _flush_redis,
    make_settings,
    poll,
    served_app,
)

ROOT = Path(__file__).resolve().parents[3]
PUBLIC_URL = "https://hubben.test"
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class SmtpServer:
    """`python -m aiosmtpd` with tests.smtp_sink.Sink, appending each message to a file."""

    path: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "aiosmtpd", "-n", "-c", "tests.smtp_sink.Sink", str(self.path)]
            + ["-l", f"127.0.0.1:{self.port}"],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 20
        while not self.accepting():
            if self.proc.poll() is not None:
                raise RuntimeError(f"aiosmtpd exited: {self.proc.stderr.read().decode() if self.proc.stderr else ''}")
            if time.monotonic() > deadline:
                raise RuntimeError("aiosmtpd did not start listening")
            time.sleep(0.05)

    def accepting(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def messages(self, to: str | None = None) -> list[EmailMessage]:
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text().splitlines():
            try:
                record = json.loads(line)
            except ValueError:  # the last line, still being written
                continue
            if to is not None and to not in record["rcpt_tos"]:
                continue
            message = email.message_from_bytes(base64.b64decode(record["data"]), policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            out.append(message)
        return out

    async def wait_for(self, to: str, count: int = 1, within: float = 20.0) -> list[EmailMessage]:
        await poll(lambda: len(self.messages(to)) >= count, within=within)
        return self.messages(to)


@pytest.fixture(scope="module")
def smtp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpServer]:
    server = SmtpServer(tmp_path_factory.mktemp("smtp") / "received.jsonl")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
async def mail_app(backend: str, smtp: SmtpServer, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Any]:
    base = make_settings(backend, tmp_path_factory.mktemp(f"mail-{backend}"))
    settings = base.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp.port,
            "smtp_timeout_seconds": 5.0,
            "public_url": PUBLIC_URL,
            "mail_from": "Hubben <noreply@hubben.test>",
            # Enough tries to outlast an SMTP server that is down for a while.
            "job_max_tries": 40,
        }
    )
    async with served_app(settings) as app:
        yield app


@pytest.fixture
async def api(mail_app: Any, backend: str, smtp: SmtpServer) -> AsyncIterator[Api]:
    if not smtp.accepting():  # a test that stopped it failed half-way
        smtp.stop()
        smtp.start()
    await _empty_tables(mail_app)
    await _flush_redis(mail_app)
    transport = httpx.ASGITransport(app=mail_app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as http:
        yield Api(http=http, app=mail_app, backend=backend)


# --- helpers --------------------------------------------------------------------------------------


def parts(message: EmailMessage) -> tuple[str, str]:
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None, message
    return text.get_content(), html.get_content()


def link(text: str, path: str) -> str:
    found = re.search(re.escape(PUBLIC_URL + path) + r"\?token=[A-Za-z0-9_.\-%]+", text)
    assert found, text
    return found.group(0)


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


def relative(url: str) -> str:
    parts_ = urlsplit(url)
    return f"{parts_.path}?{parts_.query}"


async def sign_up(api: Api, smtp: SmtpServer, language: str = "sv", verify: bool = True) -> Session:
    """A member; with `verify`, their address is confirmed with the token of the mail."""
    handle = api.unique()
    data = await api.ok(
        """mutation($input: SignUpInput!) { signUp(input: $input) {
             session { accessToken refreshToken member { id handle } } userErrors { field message code } } }""",
        {
            "input": {
                "email": f"{handle}@example.se",
                "password": "correct horse battery",
                "handle": handle,
                "displayName": f"Person {handle}",
                "language": language.upper(),
            }
        },
    )
    s = data["signUp"]["session"]
    member = Session(
        api, s["member"]["id"], handle, s["accessToken"], s["refreshToken"], f"{handle}@example.se", "correct horse"
    )
    if verify:
        (mail,) = await smtp.wait_for(member.email)
        token = token_of(link(parts(mail)[0], "/email/verify"))
        await api.ok("mutation($t: String!) { verifyEmail(input: {token: $t}) { ok } }", {"t": token})
    return member


def raw_id(global_id: str) -> int:
    from shared.ids import from_global_id

    return from_global_id(global_id)[1]


async def outbox_ids(api: Api, source: str, topic: str) -> list[int]:
    from shared.outbox import OutboxEvent

    app = api.app.state.graph_app if source == "graph" else api.app.state.feed_app
    async with app.state.sessionmaker() as s:
        rows = await s.execute(select(OutboxEvent.id).where(OutboxEvent.topic == topic))
        return [int(i) for i in rows.scalars()]


async def settled(api: Api, source: str, topic: str, job: str, count: int = 1) -> None:
    """Wait until `job` has run (done, or failed and recorded for retry) for at least
    `count` events of `topic`, and for every one of them recorded so far."""
    from shared.outbox import OutboxEvent

    app = api.app.state.graph_app if source == "graph" else api.app.state.feed_app

    async def done() -> bool:
        ids = await outbox_ids(api, source, topic)
        if len(ids) < count:
            return False
        if api.app.state.redis is None:
            # In-process, an event is marked delivered once its jobs ran (or were parked).
            async with app.state.sessionmaker() as s:
                rows = await s.execute(select(OutboxEvent).where(OutboxEvent.id.in_(ids)))  # type: ignore[attr-defined]
                return all(r.dispatched_at is not None for r in rows.scalars())
        keys = [f"arq:result:{job}:{source}:{i}" for i in ids]
        return bool(await api.app.state.redis.exists(*keys) == len(keys))

    await poll(done, within=20)


# --- account mails ------------------------------------------------------------------------------------


async def test_sign_up_mails_a_verification_link_whose_token_verifies(api: Api, smtp: SmtpServer) -> None:
    member = await sign_up(api, smtp, verify=False)
    (mail,) = await smtp.wait_for(member.email)
    assert mail["Subject"] == "Bekräfta din e-postadress på Hubben"
    assert mail["From"] == "Hubben <noreply@hubben.test>"
    assert member.email in mail["To"] and "Person" in mail["To"]
    assert mail.get_content_type() == "multipart/alternative"
    assert mail["List-Unsubscribe"] is None  # an account mail is no list
    text, html = parts(mail)
    url = link(text, "/email/verify")
    assert f'href="{url.replace("&", "&amp;")}"' in html or f'href="{url}"' in html
    assert "Länken gäller till" in text
    viewer = "{ viewer { emailVerified } }"
    assert (await member.ok(viewer))["viewer"]["emailVerified"] is False
    await api.ok("mutation($t: String!) { verifyEmail(input: {token: $t}) { ok } }", {"t": token_of(url)})
    assert (await member.ok(viewer))["viewer"]["emailVerified"] is True
    # The token is used up.
    again = await api.gql(
        "mutation($t: String!) { verifyEmail(input: {token: $t}) { ok userErrors { field } } }", {"t": token_of(url)}
    )
    assert again["data"]["verifyEmail"]["userErrors"][0]["field"] == "token"


async def test_the_verification_page_confirms_with_a_button_and_english_mail(api: Api, smtp: SmtpServer) -> None:
    member = await sign_up(api, smtp, language="en", verify=False)
    (mail,) = await smtp.wait_for(member.email)
    assert mail["Subject"] == "Confirm your email address on Hubben"
    url = link(parts(mail)[0], "/email/verify")
    page = await api.http.get(relative(url))
    assert page.status_code == 200 and "<form" in page.text and 'method="post"' in page.text
    assert page.headers["referrer-policy"] == "no-referrer" and page.headers["cache-control"] == "no-store"
    # Opening the link (as a mail scanner does) changes nothing.
    assert (await member.ok("{ viewer { emailVerified } }"))["viewer"]["emailVerified"] is False
    done = await api.http.post("/email/verify", data={"token": token_of(url)})
    assert done.status_code == 200 and "bekräftad" in done.text
    assert (await member.ok("{ viewer { emailVerified } }"))["viewer"]["emailVerified"] is True
    used = await api.http.post("/email/verify", data={"token": token_of(url)})
    assert used.status_code == 400 and "ogiltig" in used.text


async def test_password_reset_mail_links_to_a_page_that_sets_the_password(api: Api, smtp: SmtpServer) -> None:
    member = await sign_up(api, smtp)
    await api.ok("mutation($e: String!) { requestPasswordReset(input: {email: $e}) { ok } }", {"e": member.email})
    mails = await smtp.wait_for(member.email, count=2)
    reset = mails[-1]
    assert reset["Subject"] == "Välj ett nytt lösenord för Hubben"
    text, html = parts(reset)
    url = link(text, "/email/reset-password")
    assert "reset-password" in html
    form = await api.http.get(relative(url))
    assert form.status_code == 200 and 'name="new_password"' in form.text
    short = await api.http.post("/email/reset-password", data={"token": token_of(url), "new_password": "short"})
    assert short.status_code == 400 and 'name="new_password"' in short.text  # the form again, token intact
    done = await api.http.post(
        "/email/reset-password", data={"token": token_of(url), "new_password": "a brand new password"}
    )
    assert done.status_code == 200
    logged_in = await api.ok(
        "mutation($i: LogInInput!) { logIn(input: $i) { session { accessToken } userErrors { message } } }",
        {"i": {"email": member.email, "password": "a brand new password"}},
    )
    assert logged_in["logIn"]["session"]["accessToken"]


async def test_reset_mail_reaches_an_unverified_address_not_a_suspended_member(api: Api, smtp: SmtpServer) -> None:
    unverified = await sign_up(api, smtp, verify=False)
    await smtp.wait_for(unverified.email)  # the verification mail
    suspended = await sign_up(api, smtp)
    admin = await api.make_admin()
    until = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    await admin.ok(
        "mutation($i: SuspendMemberInput!) { suspendMember(input: $i) { member { id } userErrors { message } } }",
        {"i": {"memberId": suspended.id, "until": until}},
    )
    for m in (unverified, suspended):
        await api.ok("mutation($e: String!) { requestPasswordReset(input: {email: $e}) { ok } }", {"e": m.email})
    await settled(api, "graph", "email.requested", "feed.send_account_mail", count=4)
    await smtp.wait_for(unverified.email, count=2)
    assert len(smtp.messages(unverified.email)) == 2 and len(smtp.messages(suspended.email)) == 1
    link(parts(smtp.messages(unverified.email)[-1])[0], "/email/reset-password")


async def test_a_mail_waits_out_an_smtp_server_that_is_down(api: Api, smtp: SmtpServer) -> None:
    smtp.stop()
    try:
        member = await sign_up(api, smtp, verify=False)
        (event_id,) = await outbox_ids(api, "graph", "email.requested")
        await poll(lambda: failed_attempts(api, f"feed.send_account_mail:graph:{event_id}"), within=20)
        assert smtp.messages(member.email) == []
    finally:
        smtp.start()
    (mail,) = await smtp.wait_for(member.email, within=30)
    assert mail["Subject"] == "Bekräfta din e-postadress på Hubben"
    await settled(api, "graph", "email.requested", "feed.send_account_mail")
    assert len(smtp.messages(member.email)) == 1


async def failed_attempts(api: Api, key: str) -> int:
    """How often a job has failed so far: its failed_job row in-process, arq's try count on Redis."""
    from shared.outbox import FailedJob

    if api.app.state.redis is None:
        async with api.app.state.feed_app.state.sessionmaker() as s:
            row = (await s.execute(select(FailedJob).where(FailedJob.key == key))).scalar_one_or_none()
            return row.attempts if row is not None else 0
    tries = await api.app.state.redis.get(f"arq:retry:{key}")
    return int(tries) - 1 if tries else 0


# --- unsubscribe links ------------------------------------------------------------------------------


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


async def test_a_tampered_or_foreign_unsubscribe_token_is_refused_and_changes_nothing(
    api: Api, smtp: SmtpServer
) -> None:
    from services.feed.models import NotificationPreference
    from shared.auth import TokenCodec, _generate_private_pem, load_key_pair

    victim = await sign_up(api, smtp, verify=False)
    codec = api.app.state.codec
    genuine = codec.issue_unsubscribe_token(12345, "follower")
    header, _, signature = genuine.split(".")
    claims = json.loads(base64.urlsafe_b64decode(genuine.split(".")[1] + "=="))
    swapped = ".".join((header, _b64({**claims, "sub": str(raw_id(victim.id))}), signature))
    other_key = TokenCodec(
        codec.settings, load_key_pair(codec.settings.model_copy(update={"jwt_private_key": _generate_private_pem()}))
    )
    foreign = other_key.issue_unsubscribe_token(raw_id(victim.id), "follower")
    unsigned = ".".join((_b64({"alg": "none", "typ": "JWT"}), _b64({**claims, "sub": str(raw_id(victim.id))}), ""))
    access_token = victim.token  # a genuine token, of another kind
    for token in (swapped, foreign, unsigned, access_token, "not-a-token", ""):
        for method in ("GET", "POST"):
            r = await api.http.request(
                method,
                "/email/unsubscribe",
                params={"token": token},
                content="List-Unsubscribe=One-Click",
                headers={"content-type": "application/x-www-form-urlencoded"},
            )
            assert r.status_code == 400, (token, method, r.text)
            assert "ogiltig" in r.text and "not valid" in r.text
    async with api.app.state.feed_app.state.sessionmaker() as s:
        assert (await s.execute(select(NotificationPreference))).scalars().all() == []


async def test_an_unsubscribe_link_names_a_kind_the_feed_knows(api: Api, smtp: SmtpServer) -> None:
    member = await sign_up(api, smtp, verify=False)
    token = api.app.state.codec.issue_unsubscribe_token(raw_id(member.id), "no_such_kind")
    r = await api.http.post("/email/unsubscribe", params={"token": token})
    assert r.status_code == 400


# --- the development default ------------------------------------------------------------------------------


async def test_without_an_smtp_host_mail_is_written_to_the_log() -> None:
    from structlog.testing import capture_logs

    from shared.mail import Mail, send
    from shared.settings import Settings

    mail = Mail(to="a@example.se", subject="Hej", text="Öppna https://x/email/verify?token=t\n", html="<p>Hej</p>")
    with capture_logs() as logs:
        await send(Settings(smtp_host=""), mail)
    (entry,) = [e for e in logs if e["event"] == "mail.not_sent"]
    assert entry["to"] == "a@example.se" and "token=t" in entry["text"]


def test_a_message_has_text_and_html_and_one_click_unsubscribe_headers() -> None:
    from shared.mail import Mail, build_message
    from shared.settings import Settings

    mail = Mail(
        to="bo@example.se",
        to_name="Bö Åkesson",
        subject="Anna började följa dig",
        text="Hej\n",
        html="<p>Hej</p>",
        unsubscribe_url="https://hubben.test/email/unsubscribe?token=abc",
    )
    message = build_message(Settings(mail_from="Hubben <noreply@hubben.test>"), mail)
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert parsed["List-Unsubscribe"] == "<https://hubben.test/email/unsubscribe?token=abc>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["To"] == "Bö Åkesson <bo@example.se>" and parsed["Subject"] == "Anna började följa dig"
    assert parsed["Message-ID"].endswith("@hubben.test>")
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]


# --- notification mails -------------------------------------------------------------------------------

FOLLOW = "mutation($t: ID!) { follow(input: {targetId: $t}) { following userErrors { message } } }"
SET_PREFERENCE = """mutation($k: NotificationKind!, $e: NotificationEmail!) {
  setNotificationPreference(input: {kind: $k, email: $e}) { preference { kind email } userErrors { message } } }"""
PREFERENCES = "{ notificationPreferences { kind inApp email } }"


async def preference(member: Session, kind: str) -> dict[str, Any]:
    prefs = (await member.ok(PREFERENCES))["notificationPreferences"]
    return next(p for p in prefs if p["kind"] == kind)  # type: ignore[no-any-return]


async def test_an_immediate_notification_mails_once_with_a_working_unsubscribe_link(api: Api, smtp: SmtpServer) -> None:
    bo = await sign_up(api, smtp)
    await bo.ok(SET_PREFERENCE, {"k": "FOLLOWER", "e": "IMMEDIATE"})
    anna = await sign_up(api, smtp)
    await anna.ok(FOLLOW, {"t": bo.id})
    mails = await smtp.wait_for(bo.email, count=2)
    mail = mails[-1]
    assert mail["Subject"] == f"Person {anna.handle} började följa dig"
    assert mail.get_content_type() == "multipart/alternative"
    text, html = parts(mail)
    assert f"Hej Person {bo.handle}!" in text and f"Person {anna.handle} började följa dig." in text
    unsubscribe = link(text, "/email/unsubscribe")
    assert mail["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f'href="{unsubscribe}"' in html and "Sluta få mejl om nya följare" in html
    await settled(api, "feed", "notification.created", "feed.email_notifications")
    assert len(smtp.messages(bo.email)) == 2  # once, though the job may run again

    # The link's page asks first; a GET changes nothing.
    confirm = await api.http.get(relative(unsubscribe))
    assert confirm.status_code == 200 and 'method="post"' in confirm.text
    assert (await preference(bo, "FOLLOWER"))["email"] == "IMMEDIATE"
    # RFC 8058 one-click, as a mail program sends it.
    done = await api.http.post(
        relative(unsubscribe),
        content="List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert done.status_code == 200 and "Du får inte längre mejl om nya följare" in done.text
    assert await preference(bo, "FOLLOWER") == {"kind": "FOLLOWER", "inApp": True, "email": "OFF"}

    carl = await sign_up(api, smtp)
    await carl.ok(FOLLOW, {"t": bo.id})
    await settled(api, "feed", "notification.created", "feed.email_notifications", count=2)
    assert len(smtp.messages(bo.email)) == 2
    # Still told in the app.
    unread = await bo.ok("{ unreadNotificationsCount }")
    assert unread["unreadNotificationsCount"] == 2


async def test_no_notification_mail_to_an_unverified_or_suspended_member(api: Api, smtp: SmtpServer) -> None:
    unverified = await sign_up(api, smtp, verify=False)
    suspended = await sign_up(api, smtp)
    for m in (unverified, suspended):
        await m.ok(SET_PREFERENCE, {"k": "FOLLOWER", "e": "IMMEDIATE"})
    admin = await api.make_admin()
    until = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    await admin.ok(
        "mutation($i: SuspendMemberInput!) { suspendMember(input: $i) { member { id } userErrors { message } } }",
        {"i": {"memberId": suspended.id, "until": until}},
    )
    anna = await sign_up(api, smtp)
    for m in (unverified, suspended):
        await anna.ok(FOLLOW, {"t": m.id})
    await settled(api, "feed", "notification.created", "feed.email_notifications", count=2)
    assert len(smtp.messages(unverified.email)) == 1  # the verification mail only
    assert len(smtp.messages(suspended.email)) == 1


# --- the daily digest -------------------------------------------------------------------------------------


def digest_moment(hour: int) -> datetime:
    """The next time the local clock in Stockholm shows `hour`:00."""
    now = datetime.now(STOCKHOLM)
    at = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    return (at if at > now else at + timedelta(days=1)).astimezone(UTC)


async def run_digests(api: Api, at: datetime) -> None:
    host = api.app.state.jobs
    await host.registry.job("feed.send_digests")(host.ctx, {"at": at.isoformat()})


async def test_the_digest_gathers_a_day_once_per_member(api: Api, smtp: SmtpServer) -> None:
    bo = await sign_up(api, smtp)  # follower mail is a digest by default
    quiet = await sign_up(api, smtp)
    await quiet.ok(SET_PREFERENCE, {"k": "FOLLOWER", "e": "OFF"})
    followers = [await sign_up(api, smtp) for _ in range(3)]
    for f in followers:
        await f.ok(FOLLOW, {"t": bo.id})
        await f.ok(FOLLOW, {"t": quiet.id})
    await settled(api, "feed", "notification.created", "feed.email_notifications", count=6)
    assert len(smtp.messages(bo.email)) == 1  # no immediate mail: only the verification
    # Muted after the notification was made: the digest leaves it out.
    muted = followers.pop()
    await bo.ok("mutation($m: ID!) { muteMember(input: {memberId: $m}) { userErrors { message } } }", {"m": muted.id})
    await settled(api, "graph", "mute.created", "feed.apply_graph_event")

    at = digest_moment(api.app.state.settings.digest_hour)
    await run_digests(api, at + timedelta(hours=1))  # not the digest hour: nothing
    await run_digests(api, at)
    mails = await smtp.wait_for(bo.email, count=2)
    digest = mails[-1]
    assert digest["Subject"] == "Din dagliga sammanfattning från Hubben: 2 nya händelser"
    text, html = parts(digest)
    for f in followers:
        assert f"Person {f.handle} började följa dig" in text and f"Person {f.handle} började följa dig" in html
    assert muted.handle not in text and muted.handle not in html
    unsubscribe = digest["List-Unsubscribe"].strip("<>")
    assert unsubscribe in text and "Sluta få mejl om nya följare: " in text
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    await run_digests(api, at)  # the same hour again, as a second worker might
    await run_digests(api, at + timedelta(days=1))  # and the next day: nothing new
    assert len(smtp.messages(bo.email)) == 2
    assert len(smtp.messages(quiet.email)) == 1  # chose no mail: no digest

    done = await api.http.post(relative(unsubscribe), content="List-Unsubscribe=One-Click")
    assert done.status_code == 200 and "den dagliga sammanfattningen" in done.text
    prefs = {p["kind"]: p["email"] for p in (await bo.ok(PREFERENCES))["notificationPreferences"]}
    assert prefs["FOLLOWER"] == prefs["COMMENT"] == prefs["HUB_POST"] == "OFF"  # every digest kind
    assert prefs["MENTION"] == "IMMEDIATE"  # the rest as they were
