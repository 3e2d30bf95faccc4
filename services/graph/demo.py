"""Demo data for the embedded default: the Kraftsamlingen hub run by AI Sweden, a few
municipalities and civil-society organisations, and members who follow and belong to
them; and (services/graph/demo_initiatives.py) AI initiatives of municipalities, regions
and partners all over Sweden, for the map. Built through the service's own functions so
it obeys the same rules as real use. Demo members get random passwords nobody knows; sign
up to try Hubben yourself."""

from __future__ import annotations

import secrets

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.graph import contracts as c
from services.graph.demo_initiatives import seed_initiatives
from services.graph.models import Member
from services.graph.service import hubs, identity, members, organisations, social
from shared.auth import SCOPES, Principal

ORGANISATIONS: list[tuple[str, str, c.OrganisationKind, str | None, str | None, str]] = [
    (
        "ai-sweden",
        "AI Sweden",
        c.OrganisationKind.other,
        None,
        "01",
        "Sveriges nationella center för tillämpad AI. "
        "Driver Kraftsamlingen tillsammans med kommuner och civilsamhälle.",
    ),
    (
        "goteborgs-stad",
        "Göteborgs Stad",
        c.OrganisationKind.municipality,
        "1480",
        None,
        "Göteborgs kommun: AI i stadsplanering, äldreomsorg och kundtjänst.",
    ),
    ("stockholms-stad", "Stockholms stad", c.OrganisationKind.municipality, "0180", None, "Stockholms kommun."),
    (
        "umea-kommun",
        "Umeå kommun",
        c.OrganisationKind.municipality,
        "2480",
        None,
        "Umeå kommun: AI-piloter inom skola och miljö.",
    ),
    ("region-skane", "Region Skåne", c.OrganisationKind.region, None, "12", "Regionen för Skånes 33 kommuner."),
    (
        "civilsamhallets-ai-forum",
        "Civilsamhällets AI-forum",
        c.OrganisationKind.civil_society,
        None,
        "01",
        "Ett nätverk för ideella organisationer som använder AI för sina medlemmar.",
    ),
]

MEMBERS = [
    ("anna_lindqvist", "Anna Lindqvist", "AI-strateg", "1480", ["språkmodeller", "AI-strategi"], "goteborgs-stad"),
    (
        "erik_nilsson",
        "Erik Nilsson",
        "Projektledare Kraftsamlingen",
        "0180",
        ["projektledning", "AI-etik"],
        "ai-sweden",
    ),
    ("sara_holm", "Sara Holm", "Data scientist", "2480", ["maskininlärning", "Python"], "umea-kommun"),
    ("johan_berg", "Johan Berg", "Digitaliseringschef", "1280", ["förändringsledning"], "region-skane"),
    (
        "fatima_ali",
        "Fatima Ali",
        "Verksamhetsutvecklare",
        "0180",
        ["tillgänglighet", "klarspråk"],
        "civilsamhallets-ai-forum",
    ),
    ("lars_ek", "Lars Ek", "IT-arkitekt", "1480", ["MLOps", "öppna data"], "goteborgs-stad"),
]


def _as(member_id: int) -> Principal:
    return Principal(member_id=member_id, roles=("member",), scopes=SCOPES, token_kind="jwt")


async def seed_if_empty(maker: async_sessionmaker[AsyncSession]) -> bool:
    async with maker() as session:
        if (await session.execute(select(func.count()).select_from(Member))).scalar_one():
            return False
        ids: dict[str, int] = {}
        for handle, name, headline, municipality, skills, _ in MEMBERS:
            m = await identity.create_member(
                session,
                c.SignUpIn(
                    email=f"{handle}@demo.hubben.se",
                    password=secrets.token_urlsafe(24),
                    handle=handle,
                    display_name=name,
                ),
                verified=True,
            )
            ids[handle] = m.id
            await members.update_profile(
                session, _as(m.id), c.ProfileIn(headline=headline, municipality_code=municipality, skills=skills)
            )
        orgs: dict[str, int] = {}
        owner = ids["erik_nilsson"]
        for slug, name, kind, municipality_code, county_code, description in ORGANISATIONS:
            org = await organisations.create_organisation(
                session,
                _as(owner),
                c.OrganisationCreateIn(
                    slug=slug,
                    name=name,
                    kind=kind,
                    municipality_code=municipality_code,
                    county_code=county_code,
                    description=description,
                ),
            )
            org.verified = True
            orgs[slug] = org.id
        for handle, *_, org_slug in MEMBERS:
            if handle != "erik_nilsson":
                invitation = await organisations.invite(
                    session,
                    _as(owner),
                    orgs[org_slug],
                    c.InvitationIn(
                        member_id=ids[handle],
                        role=c.OrganisationRoleName.admin
                        if handle == "anna_lindqvist"
                        else c.OrganisationRoleName.editor,
                    ),
                )
                await organisations.respond(session, _as(ids[handle]), invitation.id, accept=True)
            await members.update_profile(session, _as(ids[handle]), c.ProfileIn(organisation_id=orgs[org_slug]))
        contacts = {org_slug: ids[handle] for handle, *_, org_slug in reversed(MEMBERS)}
        await seed_initiatives(session, owner, orgs, contacts)
        hub = await hubs.create_hub(
            session,
            _as(owner),
            c.HubCreateIn(
                slug="kraftsamlingen",
                name="Kraftsamlingen",
                description="Kraftsamling för AI i kommuner och civilsamhälle: dela erfarenheter, "
                "resurser och evenemang.",
                organisation_id=orgs["ai-sweden"],
            ),
        )
        for handle, member_id in ids.items():
            if handle != "erik_nilsson":
                await hubs.join(session, _as(member_id), hub.id)
            await social.follow(
                session, _as(member_id), c.FollowIn(target_type=c.FollowTargetType.hub, target_id=hub.id)
            )
            await social.follow(
                session,
                _as(member_id),
                c.FollowIn(target_type=c.FollowTargetType.organisation, target_id=orgs["ai-sweden"]),
            )
            if handle != "anna_lindqvist":
                await social.follow(
                    session,
                    _as(member_id),
                    c.FollowIn(target_type=c.FollowTargetType.member, target_id=ids["anna_lindqvist"]),
                )
        await hubs.create_hub(
            session,
            _as(ids["anna_lindqvist"]),
            c.HubCreateIn(
                slug="kommunernas-ai-natverk",
                name="Kommunernas AI-nätverk",
                description="Ett slutet nätverk för kommunernas AI-ansvariga.",
                organisation_id=orgs["goteborgs-stad"],
                visibility=c.HubVisibility.members_only,
                join_policy=c.JoinPolicy.request,
            ),
        )
        await session.commit()
        return True
