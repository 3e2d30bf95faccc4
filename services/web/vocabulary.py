"""The API's enums as the panel shows them (English; Swedish through the catalogue), and which
decisions fit which kind of case."""

from __future__ import annotations

REASONS = {
    "SPAM": "Spam",
    "HARASSMENT": "Harassment",
    "MISINFORMATION": "Misinformation",
    "ILLEGAL_CONTENT": "Illegal content",
    "PERSONAL_DATA": "Personal data",
    "OTHER": "Other",
}
TARGET_TYPES = {
    "POST": "Post",
    "COMMENT": "Comment",
    "EVENT": "Event",
    "MEMBER": "Member",
    "ORGANISATION": "Organisation",
}
STATUSES = {"OPEN": "Open", "RESOLVED": "Resolved"}
CONTENT_STATES = {"VISIBLE": "Visible", "HIDDEN": "Hidden", "REMOVED": "Removed"}
CLAIMS = {"ANY": "Anyone's", "MINE": "Claimed by me", "UNCLAIMED": "Unclaimed"}
ACTIONS = {
    "DISMISS": "Dismiss the reports",
    "HIDE": "Hide",
    "REMOVE": "Remove for good",
    "RESTORE": "Restore",
    "WARN": "Warn",
    "SUSPEND": "Suspend",
    "BAN": "Ban",
    "UNSUSPEND": "Lift suspension",
    "UNBAN": "Lift ban",
    "VERIFY_ORGANISATION": "Verify organisation",
    "UNVERIFY_ORGANISATION": "Withdraw verification",
    "APPOINT_HUB_MODERATOR": "Appoint hub moderator",
    "REMOVE_HUB_MODERATOR": "Remove hub moderator",
    "AUTO_HIDE": "Hidden automatically",
}
# The audit log speaks in lower case: "<target>.<what>" actions ("case.hide", "member.ban").
AUDIT_TARGETS = {
    "post": "Post",
    "comment": "Comment",
    "event": "Event",
    "member": "Member",
    "organisation": "Organisation",
    "hub": "Hub",
}
AUDIT_EVENTS = {
    "claimed": "Claimed",
    "released": "Released",
    "appealed": "Appealed",
    "auto_hidden": "Hidden automatically",
    "reported": "Reported",
}
AUDIT_ACTIONS = (
    "case.claimed",
    "case.released",
    "case.appealed",
    "content.auto_hidden",
    *(f"case.{a}" for a in ("dismiss", "hide", "remove", "restore", "warn", "suspend", "ban")),
    *(f"member.{a}" for a in ("warn", "suspend", "unsuspend", "ban", "unban")),
    "organisation.verify_organisation",
    "organisation.unverify_organisation",
    "hub.appoint_hub_moderator",
    "hub.remove_hub_moderator",
)
JOB_SERVICES = {"FEED": "Feed", "GRAPH": "Graph", "SEARCH": "Search", "MODERATION": "Moderation"}

CONTENT_TYPES = ("POST", "COMMENT", "EVENT")
# Decisions about accounts and organisations reach past one hub: platform moderators only.
PLATFORM_ONLY = {
    "SUSPEND",
    "BAN",
    "UNSUSPEND",
    "UNBAN",
    "VERIFY_ORGANISATION",
    "UNVERIFY_ORGANISATION",
    "APPOINT_HUB_MODERATOR",
    "REMOVE_HUB_MODERATOR",
}
MEMBER_ACTIONS = ("WARN", "SUSPEND", "UNSUSPEND", "BAN", "UNBAN")


def case_actions(target_type: str, content_state: str | None, platform: bool) -> list[str]:
    """The decisions offered on a case: those that fit its target (and the content's state)."""
    if target_type in CONTENT_TYPES:
        actions = ["DISMISS"]
        if content_state != "REMOVED":
            actions += ["HIDE"] if content_state != "HIDDEN" else ["RESTORE"]
            actions += ["REMOVE"]
        actions += ["WARN", "SUSPEND", "BAN"]
    elif target_type == "MEMBER":
        actions = ["DISMISS", "WARN", "SUSPEND", "BAN"]
    elif target_type == "ORGANISATION":
        actions = ["DISMISS", "VERIFY_ORGANISATION", "UNVERIFY_ORGANISATION"]
    else:
        actions = ["DISMISS"]
    return [a for a in actions if platform or a not in PLATFORM_ONLY]


def audit_action(action: str) -> str:
    """An audit entry's action in words (English, for the catalogue): "case.hide" → "Hide"."""
    what = action.rsplit(".", 1)[-1]
    return ACTIONS.get(what.upper()) or AUDIT_EVENTS.get(what) or action
