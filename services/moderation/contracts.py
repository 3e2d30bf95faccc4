"""The moderation service's API: what goes in and comes out."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from shared.text import clean_text


def _nonblank(value: str) -> str:
    value = clean_text(value)
    if not value:
        raise ValueError("cannot be blank")
    return value


def _clean(value: str) -> str:
    return clean_text(value)


Reason = Annotated[str, StringConstraints(max_length=1000), AfterValidator(_nonblank)]
Note = Annotated[str, StringConstraints(max_length=1000), AfterValidator(_clean)]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class TargetType(StrEnum):
    post = "post"
    comment = "comment"
    event = "event"
    member = "member"
    organisation = "organisation"


CONTENT_TYPES = frozenset({TargetType.post, TargetType.comment, TargetType.event})


class ReportReason(StrEnum):
    spam = "spam"
    harassment = "harassment"
    misinformation = "misinformation"
    illegal_content = "illegal_content"
    personal_data = "personal_data"
    other = "other"


class CaseStatus(StrEnum):
    open = "open"
    resolved = "resolved"


class ContentState(StrEnum):
    visible = "visible"
    hidden = "hidden"
    removed = "removed"


class Action(StrEnum):
    dismiss = "dismiss"
    hide = "hide"
    remove = "remove"
    restore = "restore"
    warn = "warn"
    suspend = "suspend"
    ban = "ban"
    unsuspend = "unsuspend"
    unban = "unban"
    verify_organisation = "verify_organisation"
    unverify_organisation = "unverify_organisation"
    appoint_hub_moderator = "appoint_hub_moderator"
    remove_hub_moderator = "remove_hub_moderator"
    auto_hide = "auto_hide"  # the platform itself, after enough distinct reporters


# What may be decided on a case, by what it is about.
CONTENT_ACTIONS = frozenset(
    {Action.dismiss, Action.hide, Action.remove, Action.restore, Action.warn, Action.suspend, Action.ban}
)
CASE_ACTIONS: dict[TargetType, frozenset[Action]] = {
    **{t: CONTENT_ACTIONS for t in CONTENT_TYPES},
    TargetType.member: frozenset({Action.dismiss, Action.warn, Action.suspend, Action.ban}),
    TargetType.organisation: frozenset({Action.dismiss, Action.verify_organisation, Action.unverify_organisation}),
}
# Actions on a member's account or on organisations: platform moderators only.
PLATFORM_ACTIONS = frozenset(
    {
        Action.suspend,
        Action.ban,
        Action.unsuspend,
        Action.unban,
        Action.verify_organisation,
        Action.unverify_organisation,
        Action.appoint_hub_moderator,
        Action.remove_hub_moderator,
    }
)
MEMBER_ACTIONS = frozenset({Action.warn, Action.suspend, Action.ban, Action.unsuspend, Action.unban})
ORGANISATION_ACTIONS = frozenset({Action.verify_organisation, Action.unverify_organisation})
# Decisions against the author that they may appeal.
APPEALABLE = frozenset({Action.hide, Action.remove, Action.warn, Action.suspend, Action.ban, Action.auto_hide})


class ClaimFilter(StrEnum):
    any = "any"
    mine = "mine"
    unclaimed = "unclaimed"


# --- in ------------------------------------------------------------------------------------


class ReportIn(Input):
    target_type: TargetType
    target_id: int
    reason: ReportReason
    note: Note = ""


class ClaimIn(Input):
    release: bool = False


class DecisionIn(Input):
    action: Action
    reason: Reason
    suspend_until: datetime | None = None


class AppealIn(Input):
    statement: Annotated[str, StringConstraints(max_length=2000), AfterValidator(_nonblank)]


class MemberDecisionIn(DecisionIn):
    pass


class OrganisationDecisionIn(Input):
    action: Action
    reason: Reason


class HubModeratorIn(Input):
    member_id: int
    reason: Reason
    remove: bool = False


class CaseFilter(Input):
    # Read from the query string next to the paging parameters, so other parameters are not extra.
    model_config = ConfigDict(extra="ignore")

    status: CaseStatus | None = None
    reason: ReportReason | None = None
    target_type: TargetType | None = None
    hub_id: int | None = None
    claim: ClaimFilter = ClaimFilter.any
    appealed: bool | None = None


class AuditFilter(Input):
    # Read from the query string next to the paging parameters, so other parameters are not extra.
    model_config = ConfigDict(extra="ignore")

    actor_id: int | None = None
    action: Annotated[str | None, StringConstraints(max_length=40)] = None
    target_type: Annotated[str | None, StringConstraints(max_length=12)] = None
    case_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


# --- out -----------------------------------------------------------------------------------


class CapabilitiesOut(BaseModel):
    platform: bool
    hub_ids: list[int]


class ReportOut(Output):
    id: int
    case_id: int
    reporter_id: int
    reason: ReportReason
    note: str
    created_at: datetime


class DecisionOut(Output):
    id: int
    case_id: int | None
    action: Action
    reason: str
    moderator_id: int | None
    target_type: str
    target_id: int
    subject_member_id: int | None
    hub_id: int | None
    suspended_until: datetime | None
    created_at: datetime


class CaseOut(Output):
    id: int
    target_type: TargetType
    target_id: int
    status: CaseStatus
    hub_id: int | None
    subject_member_id: int | None
    subject_organisation_id: int | None
    snapshot: dict[str, Any]
    content_state: ContentState
    report_count: int
    reasons: dict[str, int]
    opened_at: datetime
    last_reported_at: datetime
    claimed_by: int | None
    claimed_at: datetime | None
    resolved_at: datetime | None
    auto_hidden: bool
    appeal_statement: str | None
    appealed_at: datetime | None
    appeal_decided_at: datetime | None
    decisions: list[DecisionOut] = Field(default_factory=list)


class FiledReportOut(BaseModel):
    report: ReportOut
    case: CaseOut


class AuditEntryOut(Output):
    id: int
    actor_id: int | None
    actor_label: str
    action: str
    target_type: str
    target_id: str
    case_id: int | None
    hub_id: int | None
    reason: str
    before: dict[str, Any]
    after: dict[str, Any]
    created_at: datetime


class DashboardOut(BaseModel):
    open_cases: int
    unclaimed_cases: int
    appealed_cases: int
    oldest_waiting_since: datetime | None
    actions_today: int


class HistoryOut(BaseModel):
    member_id: int
    warnings: int
    suspensions: int
    removals: int
    hides: int
    bans: int


class PageOut(BaseModel):
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool
    total_count: int | None = None


def page_fields(page: Any) -> dict[str, Any]:
    return {
        "cursors": page.cursors,
        "has_next_page": page.has_next_page,
        "has_previous_page": page.has_previous_page,
        "total_count": page.total_count,
    }


class CasePage(PageOut):
    items: list[CaseOut]


class ReportPage(PageOut):
    items: list[ReportOut]


class DecisionPage(PageOut):
    items: list[DecisionOut]


class AuditPage(PageOut):
    items: list[AuditEntryOut]
