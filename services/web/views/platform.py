"""Platform moderators only: members, organisation verification, hub moderators and the audit
log; dead-letter jobs for platform admins (as the API has it)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from services.web import operations, vocabulary
from services.web.formats import day_bound
from services.web.gql import GraphQLFailure
from services.web.panel import (
    DECISION_FIELDS,
    FormErrors,
    FormState,
    Panel,
    PanelError,
    decision_form,
    platform_admin,
    platform_moderator,
)

router = APIRouter()
PAGE_SIZE = 20
ORGANISATION_FIELDS = {"action", "reason"}
APPOINT_FIELDS = {"hub", "member", "reason", "remove"}


# --- members ----------------------------------------------------------------------------------


async def _member_page(p: Panel, handle: str, form: FormState | None = None, status: int = 200) -> Response:
    member = history = None
    notice = None
    if handle:
        try:
            member = (await p.gql(operations.MEMBER, {"handle": handle}))["member"]
        except GraphQLFailure as exc:
            notice = exc.message
        if member is None and notice is None:
            notice = p._("No member with the handle %(handle)s.", handle=handle)
        if member is not None:
            history = (await p.gql(operations.HISTORY_OF, {"id": member["id"]}))["moderationHistory"]
    return p.render(
        "member.html",
        status=404 if handle and member is None and status == 200 else status,
        handle=handle,
        member=member,
        history=history,
        notice=notice,
        actions=vocabulary.MEMBER_ACTIONS,
        form=form or FormState(),
    )


@router.get("/members")
async def members(p: Panel = Depends(platform_moderator)) -> Response:
    return await _member_page(p, p.request.query_params.get("handle", "").strip().lstrip("@"))


@router.post("/members/moderate")
async def moderate_member(p: Panel = Depends(platform_moderator)) -> Response:
    handle = p.value("handle")
    values, errors, decision = decision_form(p, vocabulary.MEMBER_ACTIONS, p._("Give a reason; the member sees it."))
    if errors.by_field:
        return await _member_page(p, handle, FormState(values, errors), status=422)
    decision["memberId"] = p.value("memberId")
    try:
        await p.mutate(operations.MODERATE_MEMBER, {"i": decision}, "moderateMember", DECISION_FIELDS)
    except FormErrors as exc:
        return await _member_page(p, handle, FormState(values, exc), status=422)
    label = p._(vocabulary.ACTIONS[values["action"]])
    p.flash("success", p._("Decision recorded: %(action)s.", action=label))
    return p.redirect("/members", handle=handle)


# --- organisations ----------------------------------------------------------------------------


async def _organisations_page(p: Panel, form: FormState | None = None, status: int = 200) -> Response:
    verified = p.request.query_params.get("verified", "false") == "true"
    after = p.request.query_params.get("after") or None
    try:
        data = await p.gql(operations.ORGANISATIONS, {"verified": verified, "first": PAGE_SIZE, "after": after})
    except GraphQLFailure as exc:
        raise PanelError(400, exc.message) from exc
    return p.render(
        "organisations.html",
        status=status,
        organisations=data["organisations"],
        verified=verified,
        after=after,
        form=form or FormState(),
    )


@router.get("/organisations")
async def organisations(p: Panel = Depends(platform_moderator)) -> Response:
    return await _organisations_page(p)


@router.post("/organisations/moderate")
async def moderate_organisation(p: Panel = Depends(platform_moderator)) -> Response:
    organisation_id = p.value("organisationId")
    values = {"action": p.value("action"), "reason": p.value("reason"), "organisationId": organisation_id}
    errors = FormErrors()
    if values["action"] not in ("VERIFY_ORGANISATION", "UNVERIFY_ORGANISATION"):
        errors.by_field["action"] = p._("Choose a decision.")
    if not values["reason"]:
        errors.by_field["reason"] = p._("Give a reason; it goes in the audit log.")
    if not errors.by_field:
        decision = {"organisationId": organisation_id, "action": values["action"], "reason": values["reason"]}
        try:
            await p.mutate(
                operations.MODERATE_ORGANISATION, {"i": decision}, "moderateOrganisation", ORGANISATION_FIELDS
            )
        except FormErrors as exc:
            errors = exc
    if errors.by_field or errors.general:
        return await _organisations_page(p, FormState(values, errors), status=422)
    name = p.value("name")
    verified = values["action"] == "VERIFY_ORGANISATION"
    p.flash(
        "success",
        p._("%(name)s is verified.", name=name) if verified else p._("%(name)s is no longer verified.", name=name),
    )
    return p.redirect("/organisations", verified="true" if not verified else None)


# --- hub moderators ---------------------------------------------------------------------------


@router.get("/hub-moderators")
async def hub_moderators(p: Panel = Depends(platform_moderator)) -> Response:
    return p.render("hub_moderators.html", form=FormState())


@router.post("/hub-moderators")
async def appoint(p: Panel = Depends(platform_moderator)) -> Response:
    values = {name: p.value(name) for name in APPOINT_FIELDS}
    values["hub"] = values["hub"].strip("/")
    values["member"] = values["member"].lstrip("@")
    remove = values["remove"] == "true"
    errors = FormErrors()
    for name, message in (
        ("hub", p._("Give the hub's address.")),
        ("member", p._("Give the member's handle.")),
        ("reason", p._("Give a reason; it goes in the audit log.")),
    ):
        if not values[name]:
            errors.by_field[name] = message
    hub = member = None
    if values["hub"]:
        hub = (await p.gql(operations.HUB_ID, {"slug": values["hub"]}))["hub"]
        if hub is None:
            errors.by_field["hub"] = p._("No hub with the address %(slug)s.", slug=values["hub"])
    if values["member"]:
        member = (await p.gql(operations.MEMBER_ID, {"handle": values["member"]}))["member"]
        if member is None:
            errors.by_field["member"] = p._("No member with the handle %(handle)s.", handle=values["member"])
    if not errors.by_field and hub and member:
        appointment = {"hubId": hub["id"], "memberId": member["id"], "reason": values["reason"], "remove": remove}
        try:
            await p.mutate(operations.APPOINT, {"i": appointment}, "appointHubModerator", APPOINT_FIELDS)
        except FormErrors as exc:
            errors = exc
    if errors.by_field or errors.general:
        return p.render("hub_moderators.html", status=422, form=FormState(values, errors))
    if remove:
        p.flash("success", p._("@%(member)s no longer moderates %(hub)s.", member=member["handle"], hub=hub["name"]))  # type: ignore[index]
    else:
        p.flash("success", p._("@%(member)s now moderates %(hub)s.", member=member["handle"], hub=hub["name"]))  # type: ignore[index]
    return p.redirect("/hub-moderators")


# --- audit log --------------------------------------------------------------------------------


@router.get("/audit")
async def audit(p: Panel = Depends(platform_moderator)) -> Response:
    q = p.request.query_params
    shown = {name: q.get(name, "").strip() for name in ("actor", "action", "targetType", "since", "until", "case")}
    errors: dict[str, str] = {}
    api: dict[str, Any] = {}
    if shown["actor"]:
        actor = (await p.gql(operations.MEMBER_ID, {"handle": shown["actor"].lstrip("@")}))["member"]
        if actor is None:
            errors["actor"] = p._("No member with the handle %(handle)s.", handle=shown["actor"])
        else:
            api["actorId"] = actor["id"]
    if shown["action"]:
        api["action"] = shown["action"]
    if shown["targetType"]:
        api["targetType"] = shown["targetType"]
    if shown["case"]:
        api["caseId"] = shown["case"]
    for name, end in (("since", False), ("until", True)):
        try:
            bound = day_bound(shown[name], end)
        except ValueError:
            errors[name] = p._("Give a date as YYYY-MM-DD.")
            continue
        if bound:
            api[name] = bound
    after = q.get("after") or None
    log: dict[str, Any] = {"nodes": [], "pageInfo": {}}
    notice = None
    if not errors:
        try:
            log = (await p.gql(operations.AUDIT, {"filter": api, "first": PAGE_SIZE, "after": after}))["auditLog"]
        except GraphQLFailure as exc:
            notice = exc.message
    return p.render(
        "audit.html",
        status=400 if errors or notice else 200,
        log=log,
        shown=shown,
        form=FormState(shown, FormErrors(by_field=errors, general=[notice] if notice else [])),
        after=after,
    )


# --- dead-letter jobs -------------------------------------------------------------------------


async def _job_services(p: Panel) -> list[str]:
    """The services whose jobs the API reports, asked once (the enum grows with the services)."""
    cached: list[str] | None = getattr(p.request.app.state, "job_services", None)
    if cached is None:
        data = await p.gql(operations.JOB_SERVICES)
        cached = [v["name"] for v in ((data.get("__type") or {}).get("enumValues") or [])]
        p.request.app.state.job_services = cached
    return cached


@router.get("/jobs")
async def jobs(p: Panel = Depends(platform_admin)) -> Response:
    services = await _job_services(p)
    service = p.request.query_params.get("service", "")
    if service not in services:
        service = services[0] if services else ""
    after = p.request.query_params.get("after") or None
    failed: dict[str, Any] = {"nodes": [], "pageInfo": {}, "totalCount": 0}
    notice = None
    if service:
        try:
            data = await p.gql(operations.FAILED_JOBS, {"service": service, "first": PAGE_SIZE, "after": after})
            failed = data["failedJobs"]
        except GraphQLFailure as exc:
            notice = exc.message
    return p.render("jobs.html", services=services, service=service, failed=failed, after=after, notice=notice)


@router.post("/jobs/replay")
async def replay(p: Panel = Depends(platform_admin)) -> Response:
    service = p.value("service")
    try:
        await p.mutate(operations.REPLAY, {"i": {"id": p.value("id")}}, "replayFailedJob", set())
    except FormErrors as exc:
        for message in [*exc.general, *exc.by_field.values()]:
            p.flash("error", message)
        return p.redirect("/jobs", service=service)
    p.flash("success", p._("The job runs again; it leaves the list when it succeeds."))
    return p.redirect("/jobs", service=service)
