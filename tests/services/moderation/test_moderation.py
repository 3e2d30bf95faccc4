"""Moderation through the GraphQL API, on SQLite and PostgreSQL: reports gather into cases,
moderators claim and decide them through the services that own the content, the author and
the reporters hear of it, everything lands in the audit log, hub moderators stay in their
hubs, appeals go to another moderator, and the audit log cannot be changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from services.gateway.graphql.schema import build_schema
from shared.ids import to_global_id
from tests.conftest import Api, Session, poll
from tests.services.feed.test_feeds import HUB_FEED, joined, make_hub, make_org, make_post

FOLLOW = """mutation($t: ID!) { follow(input: {targetId: $t}) { following userErrors { message } } }"""
REPORT = """mutation($i: ReportContentInput!) { reportContent(input: $i) {
  report { id reason note reporter { handle } } case { id reportCount status }
  userErrors { field message code } } }"""
CASE_FIELDS = """id status targetType targetId reportCount autoHidden openedAt resolvedAt
  reasons { reason count } claimedBy { handle } hub { slug } subjectMember { handle }
  content { title body bodyHtml state author { handle } targetId }
  decisions { action reason moderator { handle } suspendedUntil }
  appeal { statement decidedAt }"""
CASES = f"""query($f: ModerationCaseFilter, $first: Int, $after: String) {{
  moderationCases(filter: $f, first: $first, after: $after) {{ totalCount nodes {{ {CASE_FIELDS} }}
  pageInfo {{ hasNextPage endCursor }} }} }}"""
CASE = f"""query($id: ID!) {{ moderationCase(id: $id) {{ {CASE_FIELDS}
  reports(first: 10) {{ nodes {{ reason note reporter {{ handle }} }} }}
  authorHistory {{ hides warnings recentContent {{ targetId state }} }} }} }}"""
AUTHOR_CASE = f"""query($id: ID!) {{ moderationCase(id: $id) {{ {CASE_FIELDS} }} }}"""
CLAIM = """mutation($i: ClaimCaseInput!) { claimCase(input: $i) { case { status claimedBy { handle } }
  userErrors { field message code } } }"""
DECIDE = f"""mutation($i: DecideCaseInput!) {{ decideCase(input: $i) {{ case {{ {CASE_FIELDS} }}
  userErrors {{ field message code }} }} }}"""
APPEAL = """mutation($i: AppealDecisionInput!) { appealDecision(input: $i) { case { status appeal { statement } }
  userErrors { field message code } } }"""
AUDIT = """query($f: AuditLogFilter, $first: Int) { auditLog(filter: $f, first: $first) { totalCount
  nodes { actorLabel action targetType targetId reason before after actor { handle } case { id } } } }"""
DASHBOARD = """{ moderationDashboard { openCases unclaimedCases appealedCases oldestWaitingSince actionsToday } }"""
CAPS = """{ moderationCapabilities { platform hubs { slug } } }"""
NOTIFICATIONS = """{ notifications(first: 20) { nodes { kind text subject { __typename } } } }"""
MEMBER_ACTION = """mutation($i: ModerateMemberInput!) { moderateMember(input: $i) { decision { action reason
  suspendedUntil moderator { handle } } userErrors { field message code } } }"""
ORG_ACTION = """mutation($i: ModerateOrganisationInput!) { moderateOrganisation(input: $i) { decision { action }
  userErrors { field message code } } }"""
APPOINT = """mutation($i: AppointHubModeratorInput!) { appointHubModerator(input: $i) { decision { action }
  userErrors { field message code } } }"""
SEARCH = """query($q: String!) { search(query: $q, first: 20) { edges { node { __typename ... on Post { id } } } } }"""


async def report(who: Session, target: str, reason: str = "SPAM", note: str = "") -> dict[str, Any]:
    return (await who.gql(REPORT, {"i": {"targetId": target, "reason": reason, "note": note}}))["data"]["reportContent"]


async def hub_world(api: Api) -> tuple[Session, dict[str, Any], Session, dict[str, Any]]:
    """A hub owner, the hub, an author in it, and the author's post there."""
    owner = await api.sign_up()
    org = await make_org(owner)
    hub = await make_hub(owner, org["id"])
    author = await joined(api, hub)
    post = await make_post(author, hubId=hub["id"], body="Köp billiga klockor nu, unikt erbjudande")
    return owner, hub, author, post


async def case_of(moderator: Session, target: str) -> dict[str, Any]:
    found = (await moderator.ok(CASES, {"f": {}, "first": 100}))["moderationCases"]["nodes"]
    matching = [k for k in found if k["targetId"] == target]
    assert len(matching) == 1, found
    return matching[0]  # type: ignore[no-any-return]


async def hub_feed(api: Api, hub: dict[str, Any], reader: Session | None = None) -> list[str]:
    who: Any = reader or api
    data = await who.ok(HUB_FEED, {"slug": hub["slug"], "first": 50})
    return [n["id"] for n in data["hub"]["feed"]["nodes"]]


async def home_feed(reader: Session) -> list[str]:
    data = await reader.ok("{ homeFeed(first: 50) { nodes { ... on Post { id } } } }")
    return [n["id"] for n in data["homeFeed"]["nodes"] if n]


async def found_by_search(api: Api, words: str) -> list[str]:
    data = await api.ok(SEARCH, {"q": words})
    return [e["node"]["id"] for e in data["search"]["edges"] if e["node"]["__typename"] == "Post"]


async def audit(moderator: Session, **flt: Any) -> list[dict[str, Any]]:
    return (await moderator.ok(AUDIT, {"f": flt, "first": 50}))["auditLog"]["nodes"]  # type: ignore[no-any-return]


async def test_report_claim_hide_and_restore_reach_feeds_search_authors_and_the_audit_log(api: Api) -> None:
    owner, hub, author, post = await hub_world(api)
    follower = await api.sign_up()
    await follower.ok(FOLLOW, {"t": author.id})
    reporter = await api.sign_up()
    moderator = await api.make_admin("moderator")
    await api.settle()
    await poll(lambda: found_by_search(api, "klockor erbjudande"))
    assert post["id"] in await hub_feed(api, hub)

    filed = await report(reporter, post["id"], "SPAM", "Reklam för klockor")
    assert filed["userErrors"] == [] and filed["report"]["reason"] == "SPAM"
    assert filed["case"] is None  # reporters do not see the moderators' case
    again = await report(reporter, post["id"], "HARASSMENT")
    assert again["userErrors"][0]["field"] == "targetId" and again["report"] is None
    own = await report(author, post["id"])
    assert own["userErrors"][0]["message"] == "you cannot report your own post"

    dashboard = (await moderator.ok(DASHBOARD))["moderationDashboard"]
    assert (dashboard["openCases"], dashboard["unclaimedCases"]) == (1, 1)
    case = await case_of(moderator, post["id"])
    assert (case["status"], case["reportCount"], case["autoHidden"]) == ("OPEN", 1, False)
    assert case["reasons"] == [{"reason": "SPAM", "count": 1}]
    assert case["content"]["body"].startswith("Köp billiga klockor") and case["content"]["state"] == "VISIBLE"
    assert case["content"]["author"]["handle"] == author.handle and case["hub"]["slug"] == hub["slug"]

    claimed = (await moderator.ok(CLAIM, {"i": {"caseId": case["id"]}}))["claimCase"]["case"]
    assert claimed["claimedBy"]["handle"] == moderator.handle
    other = await api.make_admin("moderator")
    taken = (await other.gql(CLAIM, {"i": {"caseId": case["id"]}}))["data"]["claimCase"]
    assert taken["userErrors"][0]["message"] == "another moderator has claimed this case"
    refused = await other.gql(DECIDE, {"i": {"caseId": case["id"], "action": "HIDE", "reason": "Spam"}})
    assert refused["data"]["decideCase"]["userErrors"][0]["field"] == "caseId"

    hidden = (
        await moderator.ok(DECIDE, {"i": {"caseId": case["id"], "action": "HIDE", "reason": "Reklam är inte tillåten"}})
    )["decideCase"]["case"]
    assert (hidden["status"], hidden["content"]["state"]) == ("RESOLVED", "HIDDEN")
    assert hidden["decisions"][-1] == {
        "action": "HIDE",
        "reason": "Reklam är inte tillåten",
        "moderator": {"handle": moderator.handle},
        "suspendedUntil": None,
    }

    # Gone for everyone: the hub feed, the follower's home timeline, search, the permalink.
    await poll(lambda: _absent(hub_feed(api, hub), post["id"]))
    await poll(lambda: _absent(home_feed(follower), post["id"]))
    await poll(lambda: _absent(found_by_search(api, "klockor erbjudande"), post["id"]))
    assert (await follower.ok("query($id: ID!) { node(id: $id) { id } }", {"id": post["id"]}))["node"] is None

    # The author hears why; the reporter hears that moderators acted.
    async def told(who: Session) -> list[dict[str, Any]]:
        nodes = (await who.ok(NOTIFICATIONS))["notifications"]["nodes"]
        return [n for n in nodes if n["kind"] == "MODERATION_OUTCOME"]

    author_notes = await poll(lambda: told(author))
    assert "Reklam är inte tillåten" in author_notes[0]["text"]
    reporter_notes = await poll(lambda: told(reporter))
    assert "Moderators acted on it" in reporter_notes[0]["text"]

    entries = await audit(moderator, caseId=case["id"])
    assert [e["action"] for e in entries] == ["case.hide", "case.claimed"]
    hide_entry = entries[0]
    assert hide_entry["actorLabel"] == f"@{moderator.handle}" and hide_entry["actor"]["handle"] == moderator.handle
    assert hide_entry["reason"] == "Reklam är inte tillåten"
    assert '"state": "visible"' in hide_entry["before"] and '"state": "hidden"' in hide_entry["after"]

    restored = (await moderator.ok(DECIDE, {"i": {"caseId": case["id"], "action": "RESTORE", "reason": "Ångrat"}}))[
        "decideCase"
    ]["case"]
    assert restored["content"]["state"] == "VISIBLE"
    await poll(lambda: _present(hub_feed(api, hub), post["id"]))
    await poll(lambda: _present(home_feed(follower), post["id"]))
    await poll(lambda: _present(found_by_search(api, "klockor erbjudande"), post["id"]))
    assert [e["action"] for e in await audit(moderator, caseId=case["id"])][0] == "case.restore"
    assert (await moderator.ok(DASHBOARD))["moderationDashboard"]["actionsToday"] == 2


async def _absent(found: Any, item: str) -> bool:
    return item not in await found


async def _present(found: Any, item: str) -> bool:
    return item in await found


async def test_reports_group_into_one_case_and_enough_reporters_hide_until_review(api: Api) -> None:
    _, hub, author, post = await hub_world(api)
    moderator = await api.make_admin("moderator")
    reporters = [await api.sign_up() for _ in range(3)]
    for who, reason in zip(reporters, ("SPAM", "SPAM", "MISINFORMATION"), strict=True):
        assert (await report(who, post["id"], reason))["userErrors"] == []
    case = await case_of(moderator, post["id"])
    assert case["reportCount"] == 3 and case["autoHidden"] is True
    assert case["reasons"] == [{"reason": "MISINFORMATION", "count": 1}, {"reason": "SPAM", "count": 2}]
    assert case["content"]["state"] == "HIDDEN" and case["decisions"][0]["action"] == "AUTO_HIDE"
    assert case["decisions"][0]["moderator"] is None
    await poll(lambda: _absent(hub_feed(api, hub), post["id"]))
    assert [e["actorLabel"] for e in await audit(moderator, caseId=case["id"])] == ["Hubben"]

    # Dismissing the reports brings the content back; the reporters hear no breach was found.
    dismissed = (await moderator.ok(DECIDE, {"i": {"caseId": case["id"], "action": "DISMISS", "reason": "Ok"}}))[
        "decideCase"
    ]["case"]
    assert (dismissed["status"], dismissed["content"]["state"]) == ("RESOLVED", "VISIBLE")
    await poll(lambda: _present(hub_feed(api, hub), post["id"]))
    # A report after the case closed opens a new one.
    assert (await report(reporters[0], post["id"], "OTHER", "Again"))["userErrors"] == []
    opened = (await moderator.ok(CASES, {"f": {"status": "OPEN"}, "first": 10}))["moderationCases"]
    assert opened["totalCount"] == 1 and opened["nodes"][0]["id"] != case["id"]


async def test_hub_moderators_act_only_in_their_hubs_and_not_on_accounts(api: Api) -> None:
    owner, hub, author, post = await hub_world(api)
    _, other_hub, other_author, other_post = await hub_world(api)
    reporter = await api.sign_up()
    hub_mod = await joined(api, hub)
    set_role = """mutation($h: ID!, $m: ID!) { setHubRole(input: {hubId: $h, memberId: $m, role: MODERATOR}) {
      membership { role } userErrors { message } } }"""
    await owner.ok(set_role, {"h": hub["id"], "m": hub_mod.id})
    for target in (post["id"], other_post["id"]):
        assert (await report(reporter, target))["userErrors"] == []

    caps = (await hub_mod.ok(CAPS))["moderationCapabilities"]
    assert caps == {"platform": False, "hubs": [{"slug": hub["slug"]}]}
    visible = (await hub_mod.ok(CASES, {"f": {}, "first": 10}))["moderationCases"]
    assert [k["targetId"] for k in visible["nodes"]] == [post["id"]]
    platform = await api.make_admin("moderator")
    elsewhere = await case_of(platform, other_post["id"])
    assert (await hub_mod.ok(CASE, {"id": elsewhere["id"]}))["moderationCase"] is None
    outside = await hub_mod.gql(DECIDE, {"i": {"caseId": elsewhere["id"], "action": "HIDE", "reason": "x"}})
    assert outside["data"]["decideCase"]["userErrors"][0]["code"] == "NOT_FOUND"
    assert other_post["id"] in await hub_feed(api, other_hub)

    mine = await case_of(hub_mod, post["id"])
    suspend = {"caseId": mine["id"], "action": "SUSPEND", "reason": "x", "suspendUntil": _days(3)}
    refused = await hub_mod.gql(DECIDE, {"i": suspend})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await hub_mod.gql(AUDIT, {"f": {}, "first": 5}))["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    removed = await hub_mod.ok(DECIDE, {"i": {"caseId": mine["id"], "action": "REMOVE", "reason": "Spam"}})
    assert removed["decideCase"]["case"]["content"]["state"] == "REMOVED"
    await poll(lambda: _absent(hub_feed(api, hub), post["id"]))
    again = await hub_mod.gql(DECIDE, {"i": {"caseId": mine["id"], "action": "RESTORE", "reason": "Oops"}})
    assert again["data"]["decideCase"]["userErrors"][0]["message"] == "removed content cannot be hidden or restored"


async def test_members_without_a_role_are_forbidden_everywhere(api: Api) -> None:
    _, hub, author, post = await hub_world(api)
    member = await api.sign_up()
    assert (await report(member, post["id"]))["userErrors"] == []
    moderator = await api.make_admin("moderator")
    case = await case_of(moderator, post["id"])
    operations: list[tuple[str, dict[str, Any]]] = [
        (CAPS, {}),
        (DASHBOARD, {}),
        (CASES, {"f": {}, "first": 10}),
        (AUDIT, {"f": {}, "first": 10}),
        (f'{{ moderationHistory(memberId: "{author.id}") {{ warnings }} }}', {}),
        (CLAIM, {"i": {"caseId": case["id"]}}),
        (DECIDE, {"i": {"caseId": case["id"], "action": "HIDE", "reason": "x"}}),
        (MEMBER_ACTION, {"i": {"memberId": author.id, "action": "WARN", "reason": "x"}}),
        (
            ORG_ACTION,
            {"i": {"organisationId": to_global_id("Organisation", 1), "action": "VERIFY_ORGANISATION", "reason": "x"}},
        ),
        (APPOINT, {"i": {"hubId": hub["id"], "memberId": member.id, "reason": "x"}}),
    ]
    for who in (member, author, api):
        for query, variables in operations:
            body = await who.gql(query, variables)  # type: ignore[union-attr]
            codes = [e["extensions"]["code"] for e in body.get("errors") or []]
            assert codes and set(codes) <= {"FORBIDDEN", "UNAUTHENTICATED"}, (query, body)
    assert (await member.ok(CASE, {"id": case["id"]}))["moderationCase"] is None
    assert post["id"] in await hub_feed(api, hub)


async def test_an_author_appeals_once_and_another_moderator_decides(api: Api) -> None:
    _, hub, author, post = await hub_world(api)
    reporter = await api.sign_up()
    first, second = await api.make_admin("moderator"), await api.make_admin("moderator")
    await report(reporter, post["id"])
    case = await case_of(first, post["id"])
    await first.ok(DECIDE, {"i": {"caseId": case["id"], "action": "HIDE", "reason": "Spam"}})

    outsider = await api.sign_up()
    assert (await outsider.gql(APPEAL, {"i": {"caseId": case["id"], "statement": "x"}}))["data"]["appealDecision"][
        "userErrors"
    ][0]["code"] == "NOT_FOUND"
    blank = (await author.gql(APPEAL, {"i": {"caseId": case["id"], "statement": "  "}}))["data"]["appealDecision"]
    assert blank["userErrors"][0]["field"] == "statement"
    # The author finds the cases about them (without who reported them) to appeal one.
    mine = await author.ok(f"{{ myModerationCases(first: 5) {{ nodes {{ {CASE_FIELDS} }} }} }}")
    assert [k["id"] for k in mine["myModerationCases"]["nodes"]] == [case["id"]]
    assert (await reporter.ok("{ myModerationCases(first: 5) { nodes { id } } }"))["myModerationCases"]["nodes"] == []
    seen = (await author.ok(AUTHOR_CASE, {"id": case["id"]}))["moderationCase"]
    assert seen["decisions"][0]["reason"] == "Spam" and seen["reportCount"] == 0 and seen["reasons"] == []
    appealed = (await author.ok(APPEAL, {"i": {"caseId": case["id"], "statement": "Det var en test"}}))[
        "appealDecision"
    ]["case"]
    assert appealed == {"status": "OPEN", "appeal": {"statement": "Det var en test"}}
    twice = (await author.gql(APPEAL, {"i": {"caseId": case["id"], "statement": "Igen"}}))["data"]["appealDecision"]
    assert twice["userErrors"][0]["message"] == "a decision can be appealed once"
    assert (await first.ok(DASHBOARD))["moderationDashboard"]["appealedCases"] == 1

    for mutation, variables in (
        (CLAIM, {"i": {"caseId": case["id"]}}),
        (DECIDE, {"i": {"caseId": case["id"], "action": "RESTORE", "reason": "Own call"}}),
    ):
        body = await first.gql(mutation, variables)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    decided = (await second.ok(DECIDE, {"i": {"caseId": case["id"], "action": "RESTORE", "reason": "Fair"}}))[
        "decideCase"
    ]["case"]
    assert decided["status"] == "RESOLVED" and decided["appeal"]["decidedAt"] is not None
    await poll(lambda: _present(hub_feed(api, hub), post["id"]))


async def test_platform_decisions_on_members_organisations_and_hub_moderators(api: Api) -> None:
    owner, hub, author, post = await hub_world(api)
    moderator = await api.make_admin("moderator")
    warn = await moderator.ok(MEMBER_ACTION, {"i": {"memberId": author.id, "action": "WARN", "reason": "Ton"}})
    assert warn["moderateMember"]["decision"]["action"] == "WARN"
    no_end = await moderator.gql(MEMBER_ACTION, {"i": {"memberId": author.id, "action": "SUSPEND", "reason": "x"}})
    assert no_end["data"]["moderateMember"]["userErrors"][0]["field"] == "suspendUntil"
    past = {"memberId": author.id, "action": "SUSPEND", "reason": "x", "suspendUntil": _days(-1)}
    assert (await moderator.gql(MEMBER_ACTION, {"i": past}))["data"]["moderateMember"]["userErrors"][0][
        "message"
    ] == "a suspension ends in the future"
    wrong = await moderator.gql(MEMBER_ACTION, {"i": {"memberId": author.id, "action": "HIDE", "reason": "x"}})
    assert wrong["data"]["moderateMember"]["userErrors"][0]["field"] == "action"
    suspended = await moderator.ok(
        MEMBER_ACTION, {"i": {"memberId": author.id, "action": "SUSPEND", "reason": "Spam", "suspendUntil": _days(2)}}
    )
    assert suspended["moderateMember"]["decision"]["suspendedUntil"] is not None
    refused = await author.gql(
        'mutation($h: ID!) { createPost(input: {hubId: $h, body: "x"}) { userErrors { message } } }',
        {"h": hub["id"]},
    )
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    history = (
        await moderator.ok(
            f'{{ moderationHistory(memberId: "{author.id}") {{ warnings suspensions '
            "decisions(first: 5) { nodes { action } } } }"
        )
    )["moderationHistory"]
    assert (history["warnings"], history["suspensions"]) == (1, 1)
    assert [d["action"] for d in history["decisions"]["nodes"]] == ["SUSPEND", "WARN"]

    org_id = (await owner.ok(f'{{ hub(slug: "{hub["slug"]}") {{ organisation {{ id verified }} }} }}'))["hub"][
        "organisation"
    ]
    verified = await moderator.ok(
        ORG_ACTION, {"i": {"organisationId": org_id["id"], "action": "VERIFY_ORGANISATION", "reason": "Checked"}}
    )
    assert verified["moderateOrganisation"]["decision"]["action"] == "VERIFY_ORGANISATION"
    assert (await api.ok(f'{{ hub(slug: "{hub["slug"]}") {{ organisation {{ verified }} }} }}'))["hub"]["organisation"][
        "verified"
    ] is True
    entries = await audit(moderator, actorId=moderator.id, action="organisation.verify_organisation")
    assert [(e["reason"], e["before"], e["after"]) for e in entries] == [
        ("Checked", '{"verified": false}', '{"verified": true}')
    ]

    helper = await joined(api, hub)
    appointed = await moderator.ok(APPOINT, {"i": {"hubId": hub["id"], "memberId": helper.id, "reason": "Trusted"}})
    assert appointed["appointHubModerator"]["decision"]["action"] == "APPOINT_HUB_MODERATOR"
    assert (await helper.ok(CAPS))["moderationCapabilities"]["hubs"] == [{"slug": hub["slug"]}]


async def test_reporting_is_rate_limited_per_member(api: Api) -> None:
    author = await api.sign_up()
    reporter = await api.sign_up()
    limit = api.app.state.settings.moderation_reports_per_hour
    posts = [await make_post(author, body=f"Inlägg {n}") for n in range(limit + 1)]
    for post in posts[:limit]:
        assert (await report(reporter, post["id"]))["userErrors"] == []
    over = await reporter.gql(REPORT, {"i": {"targetId": posts[-1]["id"], "reason": "SPAM"}})
    assert over["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert "20 reports an hour" in over["errors"][0]["message"]
    assert 3500 < over["errors"][0]["extensions"]["retryAfter"] <= 3600


async def test_bad_reports_are_refused_clearly(api: Api) -> None:
    _, hub, author, post = await hub_world(api)
    reporter = await api.sign_up()
    cases = [
        ({"targetId": "nonsense", "reason": "SPAM"}, "targetId"),
        ({"targetId": hub["id"], "reason": "SPAM"}, "targetId"),
        ({"targetId": to_global_id("Post", 123456789), "reason": "SPAM"}, "targetId"),
        ({"targetId": post["id"], "reason": "SPAM", "note": "x" * 1001}, "note"),
    ]
    for data, field in cases:
        body = (await reporter.gql(REPORT, {"i": data}))["data"]["reportContent"]
        assert body["userErrors"][0]["field"] == field, body
    moderator = await api.make_admin("moderator")
    assert (await moderator.ok(CASES, {"f": {}, "first": 5}))["moderationCases"]["totalCount"] == 0
    # Reporting needs an account.
    anonymous = await api.gql(REPORT, {"i": {"targetId": post["id"], "reason": "SPAM"}})
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_the_audit_log_cannot_be_changed_or_deleted(api: Api) -> None:
    mutations = build_schema()._schema.mutation_type.fields  # type: ignore[union-attr]
    assert not [m for m in mutations if "audit" in m.lower()]
    # Nor does the moderation service's own API offer anything but reading it.
    from services.moderation.api import router

    routes = [r for r in router.routes if "audit" in getattr(r, "path", "")]
    assert routes and all(r.methods == {"GET"} for r in routes)  # type: ignore[attr-defined]
    _, _, author, _ = await hub_world(api)
    moderator = await api.make_admin("moderator")
    await moderator.ok(MEMBER_ACTION, {"i": {"memberId": author.id, "action": "WARN", "reason": "Kept"}})
    engine = api.app.state.moderation_app.state.engine
    for statement in (
        "UPDATE audit_entry SET reason = 'rewritten'",
        "DELETE FROM audit_entry",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            async with engine.begin() as conn:
                await conn.execute(text(statement))
    if engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"):
            async with engine.begin() as conn:
                await conn.execute(text("TRUNCATE audit_entry"))
    entries = await audit(moderator, actorId=moderator.id)
    assert [e["reason"] for e in entries] == ["Kept"]


def _days(n: float) -> str:
    return (datetime.now(UTC) + timedelta(days=n)).isoformat()


async def test_a_ban_ends_sessions_and_removes_the_member_from_search_until_lifted(api: Api) -> None:
    moderator = await api.make_admin("moderator")
    spammer = await api.sign_up()
    profile = """mutation { updateProfile(input: {displayName: "Spammaren Sven"}) { userErrors { message } } }"""
    await spammer.ok(profile)
    members = """query { search(query: "Spammaren", first: 5) { edges { node { ... on Member { handle } } } } }"""

    async def found() -> list[str]:
        return [e["node"]["handle"] for e in (await api.ok(members))["search"]["edges"] if e["node"]]

    await poll(found)
    ban = {"memberId": spammer.id, "action": "BAN", "reason": "Bulk spam"}
    assert (await moderator.ok(MEMBER_ACTION, {"i": ban}))["moderateMember"]["decision"]["action"] == "BAN"
    await poll(lambda: _none(found()))
    login = """mutation($i: LogInInput!) { logIn(input: $i) { session { accessToken } userErrors { code } } }"""
    refused = await api.gql(login, {"i": {"email": spammer.email, "password": spammer.password}})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    posting = await spammer.gql("""mutation { createPost(input: {body: "Köp nu"}) { userErrors { message } } }""")
    assert posting["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    lifted = {"memberId": spammer.id, "action": "UNBAN", "reason": "Appeal granted"}
    await moderator.ok(MEMBER_ACTION, {"i": lifted})
    await poll(found)
    assert (await api.gql(login, {"i": {"email": spammer.email, "password": spammer.password}}))["data"]["logIn"][
        "session"
    ]
    entries = await audit(moderator, actorId=moderator.id, targetType="member")
    assert [e["action"] for e in entries] == ["member.unban", "member.ban"]
    assert '"banned": false' in entries[1]["before"] and '"banned": true' in entries[1]["after"]


async def _none(found: Any) -> bool:
    return not await found
