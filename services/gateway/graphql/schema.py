"""One schema merged from the per-domain Query and Mutation classes."""

from __future__ import annotations

import strawberry
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, ParserCache, QueryDepthLimiter, ValidationCache
from strawberry.tools import merge_types

from services.gateway.graphql.feed.mutations import FeedMutation
from services.gateway.graphql.feed.queries import FeedQuery
from services.gateway.graphql.feed.types import Comment, Event, Post
from services.gateway.graphql.hubs.mutations import HubMutation
from services.gateway.graphql.hubs.queries import HubQuery
from services.gateway.graphql.hubs.types import Hub
from services.gateway.graphql.identity.mutations import IdentityMutation
from services.gateway.graphql.members.mutations import MemberMutation
from services.gateway.graphql.members.queries import MemberQuery
from services.gateway.graphql.members.types import Member, PersonalAccessToken
from services.gateway.graphql.organisations.mutations import OrganisationMutation
from services.gateway.graphql.organisations.queries import OrganisationQuery
from services.gateway.graphql.organisations.types import Organisation, OrganisationInvitation

Query = merge_types("Query", (MemberQuery, OrganisationQuery, HubQuery, FeedQuery))
Mutation = merge_types("Mutation", (IdentityMutation, MemberMutation, OrganisationMutation, HubMutation, FeedMutation))


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        types=[Member, Organisation, Hub, OrganisationInvitation, PersonalAccessToken, Post, Event, Comment],
        extensions=[
            ParserCache,
            ValidationCache,
            lambda: QueryDepthLimiter(max_depth=12),
            lambda: MaxAliasesLimiter(max_alias_count=30),
            lambda: MaxTokensLimiter(max_token_count=2000),
        ],
    )
