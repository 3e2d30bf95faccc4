from __future__ import annotations

from dataclasses import dataclass

from services.graph import contracts as gc
from services.graph.client import GraphClient
from shared.auth import Principal
from shared.database import utcnow
from shared.errors import Forbidden, NotFound, Unauthenticated

EDITORS = ("owner", "admin", "editor")


@dataclass(frozen=True)
class Place:
    """Where an item goes and under whose name, after the graph service confirmed the actor may."""

    hub: gc.HubOut | None
    organisation: gc.OrganisationOut | None
    hub_role: str | None


def require_member_id(actor: Principal) -> int:
    if actor.member_id is None:
        raise Unauthenticated("sign in first")
    return actor.member_id


async def require_writer(graph: GraphClient, actor: Principal) -> gc.MemberOut:
    """Signed in, holding the write scope, neither banned nor suspended (the graph service is asked)."""
    member_id = require_member_id(actor)
    if "write" not in actor.scopes:
        raise Forbidden("this token lacks the 'write' scope")
    found = await graph.members(actor, [member_id])
    if not found or found[0].erased_at is not None:
        raise Unauthenticated("this account no longer exists")
    member = found[0]
    if member.banned:
        raise Forbidden("this account is banned")
    if member.suspended_until is not None and member.suspended_until > utcnow():
        raise Forbidden("suspended members can read but not write")
    return member


async def resolve_place(graph: GraphClient, actor: Principal, hub_id: int | None, organisation_id: int | None) -> Place:
    hub = None
    organisation = None
    hub_role = None
    relations = await graph.relations(
        actor,
        gc.RelationsIn(
            hub_ids=[hub_id] if hub_id else [], organisation_ids=[organisation_id] if organisation_id else []
        ),
    )
    if hub_id is not None:
        hubs = await graph.hubs_by_ids(actor, [hub_id])
        if not hubs:
            raise NotFound("no such hub", field="hubId")
        hub = hubs[0]
        relation = relations.hubs[hub_id]
        if relation.state != "active":
            raise Forbidden("only members of the hub may publish in it")
        hub_role = relation.role
    if organisation_id is not None:
        orgs = await graph.organisations_by_ids(actor, [organisation_id])
        if not orgs:
            raise NotFound("no such organisation", field="organisationId")
        organisation = orgs[0]
        if relations.organisations[organisation_id].role not in EDITORS:
            raise Forbidden(f"only editors of {organisation.name} may act for it")
    return Place(hub=hub, organisation=organisation, hub_role=hub_role)


def effective_visibility(requested: str | None, place: Place) -> str:
    """Items in a members-only hub are for its members whatever was asked."""
    if place.hub is not None and place.hub.visibility == "members_only":
        return "hub_members"
    return requested or "public"


async def mentioned_members(graph: GraphClient, actor: Principal, handles: list[str]) -> dict[str, int]:
    if not handles:
        return {}
    found = await graph.members_by_handles(actor, handles[:50])
    return {m.handle: m.id for m in found}
