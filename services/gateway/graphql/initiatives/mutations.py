"""Initiatives: editors and above of the owning organisation create, edit and delete them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import strawberry

from services.gateway.context import Info
from services.gateway.graphql.base import UserError, attempt, decode_id, input_dict
from services.gateway.graphql.initiatives.types import (
    Initiative,
    InitiativeArea,
    InitiativeStatus,
    InitiativeVisibility,
)
from services.gateway.graphql.members.mutations import LinkInput
from services.graph import contracts as gc


@strawberry.input(description="A municipality by its four-digit code (its county follows), or a whole county.")
class InitiativePlaceInput:
    municipality_code: str | None = None
    county_code: str | None = None


@strawberry.input
class _InitiativeFields:
    """What creating and editing both set; unset fields are left out of the service's body."""

    summary: str | None = strawberry.UNSET
    description: str | None = strawberry.field(default=strawberry.UNSET, description="Markdown.")
    techniques: list[str] | None = strawberry.UNSET
    status: InitiativeStatus | None = strawberry.UNSET  # type: ignore[valid-type]
    visibility: InitiativeVisibility | None = strawberry.UNSET  # type: ignore[valid-type]
    societal_benefit: str | None = strawberry.UNSET
    funder: str | None = strawberry.UNSET
    programme: str | None = strawberry.UNSET
    contact_member_id: strawberry.ID | None = strawberry.UNSET
    links: list[LinkInput] | None = strawberry.UNSET
    starts_on: date | None = strawberry.UNSET
    ends_on: date | None = strawberry.UNSET
    seeking_partners: bool | None = strawberry.UNSET
    open_to_reuse: bool | None = strawberry.UNSET
    places: list[InitiativePlaceInput] | None = strawberry.UNSET
    partner_organisation_ids: list[strawberry.ID] | None = strawberry.UNSET
    reuses_initiative_ids: list[strawberry.ID] | None = strawberry.UNSET


@strawberry.input
class CreateInitiativeInput(_InitiativeFields):
    organisation_id: strawberry.ID
    title: str
    area: InitiativeArea  # type: ignore[valid-type]


@strawberry.input(description="Only the fields you pass change; pass null to clear an optional field.")
class UpdateInitiativeInput(_InitiativeFields):
    id: strawberry.ID
    title: str | None = strawberry.UNSET
    area: InitiativeArea | None = strawberry.UNSET  # type: ignore[valid-type]


@strawberry.input
class DeleteInitiativeInput:
    id: strawberry.ID


@strawberry.type
class InitiativePayload:
    initiative: Initiative | None
    user_errors: list[UserError]


@strawberry.type
class DeleteInitiativePayload:
    deleted_initiative_id: strawberry.ID | None
    user_errors: list[UserError]


_ID_LISTS = {
    "partner_organisation_ids": ("Organisation", "partnerOrganisationIds"),
    "reuses_initiative_ids": ("Initiative", "reusesInitiativeIds"),
}


def _body(
    input: CreateInitiativeInput | UpdateInitiativeInput, own_id: str, own_type: str
) -> tuple[int, dict[str, Any]]:
    """The service's JSON body, ids decoded, and the id the mutation acts on."""
    data = input_dict(input, {own_id: own_type, "contact_member_id": "Member"})
    for name, (type_name, field) in _ID_LISTS.items():
        if data.get(name) is not None:
            data[name] = [decode_id(v, type_name, field) for v in data[name]]
    return data.pop(own_id), data


def _named(errors: list[UserError]) -> list[UserError]:
    """The service names the initiative by its path parameter; here it is the input's `id`."""
    for error in errors:
        if error.field == "initiativeId":
            error.field = "id"
    return errors


async def _payload(work: Callable[[], Awaitable[gc.InitiativeOut]]) -> InitiativePayload:
    out, errors = await attempt(work)
    errors = _named(errors)
    return InitiativePayload(initiative=Initiative.from_out(out) if out else None, user_errors=errors)


@strawberry.type
class InitiativeMutation:
    @strawberry.mutation(description="Editors and above of an organisation add an initiative to it.")
    async def create_initiative(self, info: Info, input: CreateInitiativeInput) -> InitiativePayload:
        ctx = info.context

        async def work() -> gc.InitiativeOut:
            org_id, data = _body(input, "organisation_id", "Organisation")
            return await ctx.graph.create_initiative(ctx.viewer, org_id, data)

        return await _payload(work)

    @strawberry.mutation(description="Editors and above of the owning organisation edit an initiative.")
    async def update_initiative(self, info: Info, input: UpdateInitiativeInput) -> InitiativePayload:
        ctx = info.context

        async def work() -> gc.InitiativeOut:
            initiative_id, data = _body(input, "id", "Initiative")
            return await ctx.graph.update_initiative(ctx.viewer, initiative_id, data)

        return await _payload(work)

    @strawberry.mutation(description="Editors and above of the owning organisation delete an initiative.")
    async def delete_initiative(self, info: Info, input: DeleteInitiativeInput) -> DeleteInitiativePayload:
        ctx = info.context

        async def work() -> strawberry.ID:
            await ctx.graph.delete_initiative(ctx.viewer, decode_id(input.id, "Initiative", "id"))
            return input.id

        deleted, errors = await attempt(work)
        return DeleteInitiativePayload(deleted_initiative_id=deleted, user_errors=_named(errors))
