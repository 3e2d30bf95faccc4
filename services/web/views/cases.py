"""The dashboard, the case queue and a case: what platform and hub moderators share."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from services.web import operations, vocabulary
from services.web.gql import GraphQLFailure
from services.web.panel import DECISION_FIELDS, FormErrors, FormState, Panel, PanelError, decision_form, moderator

router = APIRouter()
PAGE_SIZE = 25


@router.get("/")
async def dashboard(p: Panel = Depends(moderator)) -> Response:
    data = await p.gql(operations.DASHBOARD)
    return p.render("dashboard.html", dashboard=data["moderationDashboard"])


def _queue_filter(p: Panel) -> tuple[dict[str, Any], dict[str, str]]:
    """The queue's filter from the query string: the API's filter and the values to show.
    Values the API would not know are dropped, so a hand-edited address still shows a page."""
    q = p.request.query_params
    shown: dict[str, str] = {}
    api: dict[str, Any] = {}
    for name, allowed in (
        ("status", vocabulary.STATUSES),
        ("reason", vocabulary.REASONS),
        ("targetType", vocabulary.TARGET_TYPES),
        ("claim", vocabulary.CLAIMS),
    ):
        value = q.get(name, "")
        if value in allowed:
            api[name] = shown[name] = value
    if "status" not in shown and "status" not in q:
        api["status"] = shown["status"] = "OPEN"  # the queue opens on the work still to do
    appealed = q.get("appealed", "")
    if appealed in ("true", "false"):
        api["appealed"] = appealed == "true"
        shown["appealed"] = appealed
    hub = q.get("hub", "").strip()
    if hub:
        shown["hub"] = hub
    return api, shown


@router.get("/cases")
async def queue(p: Panel = Depends(moderator)) -> Response:
    api_filter, shown = _queue_filter(p)
    notice = None
    hub = shown.get("hub")
    if hub and p.caps and hub in p.caps.hub_ids():
        api_filter["hubId"] = hub
    elif hub:  # a slug typed by a platform moderator
        found = (await p.gql(operations.HUB_ID, {"slug": hub})).get("hub")
        if found:
            api_filter["hubId"] = found["id"]
        else:
            notice = p._("No hub with the address %(slug)s.", slug=hub)
    after = p.request.query_params.get("after") or None
    cases: dict[str, Any] = {"nodes": [], "pageInfo": {}, "totalCount": 0}
    if notice is None:
        try:
            data = await p.gql(operations.CASES, {"filter": api_filter, "first": PAGE_SIZE, "after": after})
            cases = data["moderationCases"]
        except GraphQLFailure as exc:  # a stale cursor or a filter the API refused
            notice = exc.message
    return p.render("queue.html", status=400 if notice else 200, cases=cases, shown=shown, notice=notice, after=after)


async def _case_page(p: Panel, case_id: str, form: FormState | None = None, status: int = 200) -> Response:
    try:
        case = (await p.gql(operations.CASE, {"id": case_id}))["moderationCase"]
    except GraphQLFailure as exc:  # a malformed id
        raise PanelError(404, p._("Not found.")) from exc
    if case is None:
        raise PanelError(404, p._("There is no such case, or it is not yours to see."))
    content_state = (case.get("content") or {}).get("state")
    actions = vocabulary.case_actions(case["targetType"], content_state, bool(p.caps and p.caps.platform))
    claimed_by_me = bool(case.get("claimedBy") and case["claimedBy"]["id"] == p.session.member_id)
    return p.render(
        "case.html", status=status, case=case, actions=actions, form=form or FormState(), claimed_by_me=claimed_by_me
    )


@router.get("/cases/{case_id}")
async def case_page(case_id: str, p: Panel = Depends(moderator)) -> Response:
    return await _case_page(p, case_id)


@router.post("/cases/{case_id}/claim")
async def claim(case_id: str, p: Panel = Depends(moderator)) -> Response:
    release = p.value("release") == "true"
    try:
        await p.mutate(operations.CLAIM, {"i": {"caseId": case_id, "release": release}}, "claimCase", set())
    except FormErrors as exc:
        if "NOT_FOUND" in exc.codes:
            raise PanelError(404, p._("There is no such case, or it is not yours to see.")) from exc
        for message in [*exc.general, *exc.by_field.values()]:
            p.flash("error", message)
        return p.redirect(f"/cases/{case_id}")
    p.flash("success", p._("You released the case.") if release else p._("The case is yours."))
    return p.redirect(f"/cases/{case_id}")


@router.post("/cases/{case_id}/decide")
async def decide(case_id: str, p: Panel = Depends(moderator)) -> Response:
    values, errors, decision = decision_form(p, vocabulary.ACTIONS, p._("Give a reason; the author sees it."))
    if errors.by_field:
        return await _case_page(p, case_id, FormState(values, errors), status=422)
    decision["caseId"] = case_id
    try:
        await p.mutate(operations.DECIDE, {"i": decision}, "decideCase", DECISION_FIELDS)
    except FormErrors as exc:
        if "NOT_FOUND" in exc.codes:
            raise PanelError(404, p._("There is no such case, or it is not yours to see.")) from exc
        return await _case_page(p, case_id, FormState(values, exc), status=422)
    label = p._(vocabulary.ACTIONS[values["action"]])
    p.flash("success", p._("Decision recorded: %(action)s.", action=label))
    return p.redirect(f"/cases/{case_id}")
