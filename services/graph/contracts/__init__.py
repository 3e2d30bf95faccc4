"""What goes into and comes out of the graph service's API. Validation lives here, once,
so every caller (gateway, other services, the CLI) gets the same rules and messages."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from shared.auth import SCOPES
from shared.geo import counties, municipalities
from shared.text import clean_text

HANDLE_RE = re.compile(r"^[a-z0-9_]{3,30}$")
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?$")


class OrganisationKind(StrEnum):
    municipality = "municipality"
    region = "region"
    agency = "agency"
    civil_society = "civil_society"
    company = "company"
    academia = "academia"
    other = "other"


class OrganisationRoleName(StrEnum):
    owner = "owner"
    admin = "admin"
    editor = "editor"
    member = "member"


class HubRoleName(StrEnum):
    admin = "admin"
    moderator = "moderator"
    member = "member"


class HubVisibility(StrEnum):
    public = "public"
    members_only = "members_only"


class JoinPolicy(StrEnum):
    open = "open"
    request = "request"
    invite = "invite"


class PlatformRole(StrEnum):
    member = "member"
    moderator = "moderator"
    admin = "admin"


class FollowTargetType(StrEnum):
    member = "member"
    organisation = "organisation"
    hub = "hub"


class MembershipState(StrEnum):
    active = "active"
    requested = "requested"
    invited = "invited"


class InvitationStatus(StrEnum):
    pending = "pending"
    accepted = "accepted"
    declined = "declined"
    revoked = "revoked"


class Language(StrEnum):
    sv = "sv"
    en = "en"


def _clean(value: str) -> str:
    return clean_text(value)


def _nonblank(value: str) -> str:
    value = clean_text(value)
    if not value:
        raise ValueError("cannot be blank")
    return value


def _handle(value: str) -> str:
    value = value.strip().lower()
    if not HANDLE_RE.match(value):
        raise ValueError("3–30 characters: letters a–z, digits and underscore")
    return value


def _slug(value: str) -> str:
    value = value.strip().lower()
    if not SLUG_RE.match(value):
        raise ValueError("1–60 characters: letters a–z, digits and hyphens, not at either end")
    return value


def _email(value: str) -> str:
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from exc


def _url(value: str) -> str:
    value = value.strip()
    if not re.match(r"^https?://[^\s/$.?#][^\s]*$", value, re.IGNORECASE):
        raise ValueError("must be an http(s) URL")
    return value


def _municipality(value: str) -> str:
    if value not in municipalities():
        raise ValueError("unknown municipality code")
    return value


def _county(value: str) -> str:
    if value not in counties():
        raise ValueError("unknown county code")
    return value


def _tag(value: str) -> str:
    value = clean_text(value)
    if not 1 <= len(value) <= 40:
        raise ValueError("tags are 1–40 characters")
    return value


Handle = Annotated[str, StringConstraints(max_length=30), AfterValidator(_handle)]
Slug = Annotated[str, StringConstraints(max_length=60), AfterValidator(_slug)]
Email = Annotated[str, StringConstraints(max_length=320), AfterValidator(_email)]
Url = Annotated[str, StringConstraints(max_length=500), AfterValidator(_url)]
Password = Annotated[str, StringConstraints(min_length=10, max_length=200)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=100), AfterValidator(_nonblank)]
LongName = Annotated[str, StringConstraints(min_length=1, max_length=150), AfterValidator(_nonblank)]
Headline = Annotated[str, StringConstraints(max_length=200), AfterValidator(_clean)]
Markdown = Annotated[str, StringConstraints(max_length=5000), AfterValidator(_clean)]
MunicipalityCode = Annotated[str, StringConstraints(max_length=4), AfterValidator(_municipality)]
CountyCode = Annotated[str, StringConstraints(max_length=2), AfterValidator(_county)]
Tag = Annotated[str, StringConstraints(max_length=40), AfterValidator(_tag)]
Secret = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Link(Input):
    label: Annotated[str, StringConstraints(min_length=1, max_length=60), AfterValidator(_nonblank)]
    url: Url


# --- identity -----------------------------------------------------------------------


class SignUpIn(Input):
    email: Email
    password: Password
    handle: Handle
    display_name: Name
    language: Language = Language.sv


class LogInIn(Input):
    email: Annotated[str, StringConstraints(min_length=1, max_length=320)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    # Internal: the address the attempt came from, set by the gateway (never by a client),
    # for the per-address throttle. None (a service's own call): only the account's applies.
    client_ip: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None


class RefreshIn(Input):
    refresh_token: Secret


class TokenIn(Input):
    token: Secret


class EmailIn(Input):
    email: Annotated[str, StringConstraints(min_length=1, max_length=320)]


class PasswordResetIn(Input):
    token: Secret
    new_password: Password


class PasswordChangeIn(Input):
    current_password: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    new_password: Password


class AccountErasureIn(Input):
    """The member's current password, to confirm that they erase their own account."""

    password: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class PersonalAccessTokenIn(Input):
    name: Name
    scopes: list[str] = Field(min_length=1, max_length=3)
    expires_in_days: int | None = Field(default=None, ge=1, le=366)

    @field_validator("scopes")
    @classmethod
    def _known_scopes(cls, value: list[str]) -> list[str]:
        unknown = [s for s in value if s not in SCOPES]
        if unknown:
            raise ValueError(f"unknown scope {unknown[0]!r}; choose from {', '.join(SCOPES)}")
        return sorted(set(value), key=SCOPES.index)


class PersonalAccessTokenOut(Output):
    id: int
    name: str
    scopes: list[str]
    token_hint: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class PersonalAccessTokenCreated(BaseModel):
    token: str
    personal_access_token: PersonalAccessTokenOut


class PrincipalOut(BaseModel):
    member_id: int
    roles: list[str]
    scopes: list[str]


# --- members ------------------------------------------------------------------------


class MemberOut(Output):
    id: int
    handle: str
    display_name: str
    headline: str
    bio: str
    avatar_url: str | None
    municipality_code: str | None
    organisation_id: int | None
    skills: list[str]
    links: list[dict[str, str]]
    language: str
    platform_role: str
    suspended_until: datetime | None
    followers_count: int
    following_count: int
    created_at: datetime
    updated_at: datetime
    # Set once the member erased their account: the profile is then an empty placeholder.
    erased_at: datetime | None = None
    # Banned by moderation: cannot log in or write; every token was revoked.
    banned: bool = False


class SessionOut(BaseModel):
    access_token: str
    access_token_expires_at: datetime
    refresh_token: str
    member: MemberOut


class ViewerOut(BaseModel):
    member: MemberOut
    email: str
    email_verified: bool


class ProfileIn(Input):
    display_name: Name | None = None
    headline: Headline | None = None
    bio: Markdown | None = None
    avatar_url: Url | None = None
    municipality_code: MunicipalityCode | None = None
    organisation_id: int | None = None
    skills: list[Tag] | None = Field(default=None, max_length=30)
    links: list[Link] | None = Field(default=None, max_length=10)
    language: Language | None = None


class SuspensionIn(Input):
    member_id: int
    until: datetime | None = None


class BanIn(Input):
    banned: bool


class PlatformRoleIn(Input):
    member_id: int
    role: PlatformRole


# --- organisations ------------------------------------------------------------------


class OrganisationCreateIn(Input):
    slug: Slug
    name: LongName
    kind: OrganisationKind
    municipality_code: MunicipalityCode | None = None
    county_code: CountyCode | None = None
    website: Url | None = None
    logo_url: Url | None = None
    description: Markdown = ""


class OrganisationUpdateIn(Input):
    name: LongName | None = None
    kind: OrganisationKind | None = None
    municipality_code: MunicipalityCode | None = None
    county_code: CountyCode | None = None
    website: Url | None = None
    logo_url: Url | None = None
    description: Markdown | None = None


class OrganisationOut(Output):
    id: int
    slug: str
    name: str
    kind: str
    municipality_code: str | None
    county_code: str | None
    website: str | None
    logo_url: str | None
    description: str
    verified: bool
    followers_count: int
    members_count: int
    created_at: datetime
    updated_at: datetime


class OrganisationFilter(Input):
    # Read from the query string next to the paging parameters, so other parameters are not extra.
    model_config = ConfigDict(extra="ignore")

    kind: OrganisationKind | None = None
    county_code: CountyCode | None = None
    municipality_code: MunicipalityCode | None = None
    verified: bool | None = None


class OrganisationRoleIn(Input):
    member_id: int
    role: OrganisationRoleName


class InvitationIn(Input):
    member_id: int
    role: OrganisationRoleName = OrganisationRoleName.member


class InvitationOut(Output):
    id: int
    organisation_id: int
    invitee_id: int
    inviter_id: int
    role: str
    status: str
    created_at: datetime
    responded_at: datetime | None


class OrganisationMemberOut(Output):
    id: int
    organisation_id: int
    member_id: int
    role: str
    created_at: datetime


class VerifyIn(Input):
    verified: bool


# --- hubs ---------------------------------------------------------------------------


class HubCreateIn(Input):
    slug: Slug
    name: LongName
    description: Markdown = ""
    organisation_id: int
    visibility: HubVisibility = HubVisibility.public
    join_policy: JoinPolicy = JoinPolicy.open


class HubUpdateIn(Input):
    name: LongName | None = None
    description: Markdown | None = None
    visibility: HubVisibility | None = None
    join_policy: JoinPolicy | None = None


class HubOut(Output):
    id: int
    slug: str
    name: str
    description: str
    organisation_id: int
    visibility: str
    join_policy: str
    followers_count: int
    members_count: int
    created_at: datetime
    updated_at: datetime


class HubFilter(Input):
    # Read from the query string next to the paging parameters, so other parameters are not extra.
    model_config = ConfigDict(extra="ignore")

    organisation_id: int | None = None


class HubRoleIn(Input):
    member_id: int
    role: HubRoleName


class HubMemberIn(Input):
    member_id: int


class HubMembershipOut(Output):
    id: int
    hub_id: int
    member_id: int
    role: str
    state: str
    created_at: datetime


# --- social -------------------------------------------------------------------------


class FollowIn(Input):
    target_type: FollowTargetType
    target_id: int


class MemberRefIn(Input):
    member_id: int


class FollowOut(Output):
    id: int
    follower_id: int
    target_type: str
    target_id: int
    created_at: datetime


class RelationsIn(Input):
    member_ids: list[int] = Field(default_factory=list, max_length=500)
    organisation_ids: list[int] = Field(default_factory=list, max_length=500)
    hub_ids: list[int] = Field(default_factory=list, max_length=500)


class MemberRelation(BaseModel):
    following: bool = False
    followed_by: bool = False
    blocking: bool = False
    muting: bool = False


class OrganisationRelation(BaseModel):
    following: bool = False
    role: str | None = None


class HubRelation(BaseModel):
    following: bool = False
    role: str | None = None
    state: str | None = None


class RelationsOut(BaseModel):
    members: dict[int, MemberRelation]
    organisations: dict[int, OrganisationRelation]
    hubs: dict[int, HubRelation]


class IdsIn(Input):
    ids: list[int] = Field(max_length=500)


class PageOut(BaseModel):
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool
    total_count: int | None


class MemberPage(PageOut):
    items: list[MemberOut]


class OrganisationPage(PageOut):
    items: list[OrganisationOut]


class HubPage(PageOut):
    items: list[HubOut]


class OrganisationMemberPage(PageOut):
    items: list[OrganisationMemberOut]


class HubMembershipPage(PageOut):
    items: list[HubMembershipOut]


class InvitationPage(PageOut):
    items: list[InvitationOut]


class PersonalAccessTokenPage(PageOut):
    items: list[PersonalAccessTokenOut]


def page_fields(page: Any) -> dict[str, Any]:
    return {
        "cursors": page.cursors,
        "has_next_page": page.has_next_page,
        "has_previous_page": page.has_previous_page,
        "total_count": page.total_count,
    }


class FollowPage(PageOut):
    items: list[FollowOut]


# --- contacts (services only: mail) ------------------------------------------------------------


class ContactsIn(Input):
    ids: Annotated[list[int], Field(max_length=500)]


class ContactOut(BaseModel):
    """Where and how to mail a member. `active` is false while the member is suspended. A
    banned member stays `active`: the mail telling them why (a moderation outcome) must
    reach them, as they can no longer log in to read it; other mail may skip `banned`."""

    member_id: int
    email: str
    display_name: str
    language: str
    verified: bool
    active: bool
    banned: bool = False


# The initiatives registry's contracts build on the above; callers reach them as gc.<name>.
from services.graph.contracts.initiatives import *  # noqa: E402, F403
