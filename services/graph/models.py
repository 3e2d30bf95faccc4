"""The graph service's tables: members, credentials, organisations, hubs and the
relations between them. Nothing outside this service reads them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Date, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.database import UTCDateTime, utcnow
from shared.ids import new_id
from shared.outbox import FailedJob, OutboxEvent  # the outbox and failed jobs live in this schema too


def _id() -> Any:
    return Field(default_factory=new_id, sa_type=BigInteger, primary_key=True)


def _ref(*, index: bool = True, nullable: bool = False) -> Any:
    return Field(default=None if nullable else ..., sa_type=BigInteger, index=index, nullable=nullable)


def _created() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


def _when() -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=True)


class Member(SQLModel, table=True):
    __tablename__ = "member"

    id: int = _id()
    handle: str = Field(sa_column=Column(String(30), nullable=False, unique=True))
    display_name: str = Field(max_length=100)
    headline: str = Field(default="", max_length=200)
    bio: str = Field(default="", max_length=5000)
    avatar_url: str | None = Field(default=None, max_length=500)
    municipality_code: str | None = Field(default=None, max_length=4)
    organisation_id: int | None = _ref(nullable=True)
    skills: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    links: list[dict[str, str]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    language: str = Field(default="sv", max_length=2)
    platform_role: str = Field(default="member", max_length=20)
    suspended_until: datetime | None = _when()
    # Set when the member erased their account: the row stays (what others wrote may point
    # at it) with its personal data cleared; see services/graph/service/erasure.py.
    erased_at: datetime | None = _when()
    # Set while the member is banned: no log-in, no writes, every token revoked (see
    # services/graph/service/members.py set_banned). Unlike a suspension it has no end.
    banned_at: datetime | None = _when()
    followers_count: int = 0
    following_count: int = 0
    created_at: datetime = _created()
    updated_at: datetime = _created()

    @property
    def banned(self) -> bool:
        return self.banned_at is not None


class Credential(SQLModel, table=True):
    __tablename__ = "credential"

    member_id: int = Field(sa_type=BigInteger, primary_key=True)
    email: str = Field(sa_column=Column(String(320), nullable=False, unique=True))
    password_hash: str = Field(max_length=200)
    email_verified_at: datetime | None = _when()
    password_changed_at: datetime = _created()


class RefreshToken(SQLModel, table=True):
    __tablename__ = "refresh_token"

    id: int = _id()
    member_id: int = _ref()
    family_id: int = _ref()
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    created_at: datetime = _created()
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    used_at: datetime | None = _when()
    revoked_at: datetime | None = _when()


class OneTimeToken(SQLModel, table=True):
    """Email verification and password reset: single use, expiring, stored hashed."""

    __tablename__ = "one_time_token"

    id: int = _id()
    member_id: int = _ref()
    purpose: str = Field(max_length=20)
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    created_at: datetime = _created()
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    used_at: datetime | None = _when()


class PersonalAccessToken(SQLModel, table=True):
    __tablename__ = "personal_access_token"

    id: int = _id()
    member_id: int = _ref()
    name: str = Field(max_length=100)
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    token_hint: str = Field(max_length=12)
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _created()
    expires_at: datetime | None = _when()
    last_used_at: datetime | None = _when()
    revoked_at: datetime | None = _when()


class LoginFailure(SQLModel, table=True):
    """A failed log-in (unknown email or wrong password), counted per account and per client
    address to throttle guessing; rows older than the throttle window are pruned."""

    __tablename__ = "login_failure"
    __table_args__ = (
        Index("ix_login_failure_email_key_created_at", "email_key", "created_at"),
        Index("ix_login_failure_ip_created_at", "ip", "created_at"),
        Index("ix_login_failure_created_at", "created_at"),
    )

    id: int = _id()
    # sha256 of the lower-cased email: the table names no address, known or not. None once
    # a log-in to the account succeeded: forgiven for the account, still counted for the ip.
    email_key: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    ip: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    created_at: datetime = _created()


class Organisation(SQLModel, table=True):
    __tablename__ = "organisation"

    id: int = _id()
    slug: str = Field(sa_column=Column(String(60), nullable=False, unique=True))
    name: str = Field(max_length=150)
    kind: str = Field(max_length=20, index=True)
    municipality_code: str | None = Field(default=None, max_length=4)
    county_code: str | None = Field(default=None, max_length=2, index=True)
    website: str | None = Field(default=None, max_length=500)
    logo_url: str | None = Field(default=None, max_length=500)
    description: str = Field(default="", max_length=5000)
    verified: bool = False
    followers_count: int = 0
    members_count: int = 0
    created_by: int = _ref(index=False)
    created_at: datetime = _created()
    updated_at: datetime = _created()


class OrganisationRole(SQLModel, table=True):
    __tablename__ = "organisation_role"
    __table_args__ = (UniqueConstraint("organisation_id", "member_id"),)

    id: int = _id()
    organisation_id: int = _ref()
    member_id: int = _ref()
    role: str = Field(max_length=10)
    created_at: datetime = _created()


class OrganisationInvitation(SQLModel, table=True):
    __tablename__ = "organisation_invitation"

    id: int = _id()
    organisation_id: int = _ref()
    invitee_id: int = _ref()
    inviter_id: int = _ref(index=False)
    role: str = Field(max_length=10)
    status: str = Field(default="pending", max_length=10)
    created_at: datetime = _created()
    responded_at: datetime | None = _when()


class Hub(SQLModel, table=True):
    __tablename__ = "hub"

    id: int = _id()
    slug: str = Field(sa_column=Column(String(60), nullable=False, unique=True))
    name: str = Field(max_length=150)
    description: str = Field(default="", max_length=5000)
    organisation_id: int = _ref()
    visibility: str = Field(default="public", max_length=20)
    join_policy: str = Field(default="open", max_length=10)
    followers_count: int = 0
    members_count: int = 0
    created_by: int = _ref(index=False)
    created_at: datetime = _created()
    updated_at: datetime = _created()


class HubMembership(SQLModel, table=True):
    """state: active, requested (awaiting approval) or invited (awaiting the invitee)."""

    __tablename__ = "hub_membership"
    __table_args__ = (UniqueConstraint("hub_id", "member_id"),)

    id: int = _id()
    hub_id: int = _ref()
    member_id: int = _ref()
    role: str = Field(default="member", max_length=10)
    state: str = Field(default="active", max_length=10)
    created_at: datetime = _created()


class Follow(SQLModel, table=True):
    __tablename__ = "follow"
    __table_args__ = (
        UniqueConstraint("follower_id", "target_type", "target_id"),
        Index("ix_follow_target", "target_type", "target_id", "id"),
    )

    id: int = _id()
    follower_id: int = _ref()
    target_type: str = Field(max_length=12)
    target_id: int = _ref(index=False)
    created_at: datetime = _created()


class Block(SQLModel, table=True):
    __tablename__ = "block"
    __table_args__ = (UniqueConstraint("blocker_id", "blocked_id"),)

    id: int = _id()
    blocker_id: int = _ref()
    blocked_id: int = _ref()
    created_at: datetime = _created()


class Mute(SQLModel, table=True):
    __tablename__ = "mute"
    __table_args__ = (UniqueConstraint("muter_id", "muted_id"),)

    id: int = _id()
    muter_id: int = _ref()
    muted_id: int = _ref()
    created_at: datetime = _created()


# --- initiatives: the registry of AI projects (services/graph/service/initiatives.py) ---------


class Initiative(SQLModel, table=True):
    """An AI project or use case, owned by an organisation. `area` and `status` are codes of
    services/graph/initiatives_reference.py. A deleted initiative keeps its row (`deleted_at`)
    so that reuse links and the open-data export can tell it has gone."""

    __tablename__ = "initiative"
    __table_args__ = (
        Index("ix_initiative_organisation_id_id", "organisation_id", "id"),
        Index("ix_initiative_area_status", "area", "status"),
    )

    id: int = _id()
    organisation_id: int = _ref(index=False)
    title: str = Field(max_length=200)
    summary: str = Field(default="", max_length=500)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    description_html: str = Field(default="", sa_column=Column(Text, nullable=False))
    area: str = Field(max_length=30)
    techniques: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(max_length=20)
    societal_benefit: str = Field(default="", max_length=2000)
    funder: str | None = Field(default=None, max_length=150)
    programme: str | None = Field(default=None, max_length=150)
    contact_member_id: int | None = _ref(index=False, nullable=True)
    links: list[dict[str, str]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    starts_on: date | None = Field(default=None, sa_type=Date, nullable=True)
    ends_on: date | None = Field(default=None, sa_type=Date, nullable=True)
    seeking_partners: bool = False
    open_to_reuse: bool = False
    # public: everyone, the map, search, feeds and open data; organisation: only its members
    # (a draft being prepared, or one not to be shown yet).
    visibility: str = Field(default="public", max_length=12)
    created_by: int = _ref(index=False)
    created_at: datetime = _created()
    updated_at: datetime = _created()
    status_changed_at: datetime = _created()
    deleted_at: datetime | None = _when()


class InitiativePlace(SQLModel, table=True):
    """A municipality (with its county) or, with no municipality, a whole county that an
    initiative covers."""

    __tablename__ = "initiative_place"
    __table_args__ = (
        UniqueConstraint("initiative_id", "county_code", "municipality_code"),
        Index("ix_initiative_place_municipality_code", "municipality_code", "initiative_id"),
        Index("ix_initiative_place_county_code", "county_code", "initiative_id"),
    )

    id: int = _id()
    initiative_id: int = _ref(index=False)
    municipality_code: str | None = Field(default=None, max_length=4)
    county_code: str = Field(max_length=2)


class InitiativePartner(SQLModel, table=True):
    __tablename__ = "initiative_partner"
    __table_args__ = (UniqueConstraint("initiative_id", "organisation_id"),)

    id: int = _id()
    initiative_id: int = _ref(index=False)
    organisation_id: int = _ref()


class InitiativeReuse(SQLModel, table=True):
    """`initiative_id` reuses `reuses_initiative_id` (which then shows it as "reused by")."""

    __tablename__ = "initiative_reuse"
    __table_args__ = (UniqueConstraint("initiative_id", "reuses_initiative_id"),)

    id: int = _id()
    initiative_id: int = _ref(index=False)
    reuses_initiative_id: int = _ref()


TABLES = [
    OutboxEvent,
    FailedJob,
    Member,
    Credential,
    RefreshToken,
    OneTimeToken,
    PersonalAccessToken,
    LoginFailure,
    Organisation,
    OrganisationRole,
    OrganisationInvitation,
    Hub,
    HubMembership,
    Follow,
    Block,
    Mute,
    Initiative,
    InitiativePlace,
    InitiativePartner,
    InitiativeReuse,
]
