"""Hostile and edge-case text through the public GraphQL API: posts, comments and profile bios
come back as sanitised HTML, the body limits hold exactly, control characters are stripped
before storage, links are marked as user content, and #tags feed the tag feed."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest

from tests.conftest import Api, Session

ORG = """mutation($i: CreateOrganisationInput!) { createOrganisation(input: $i) { organisation { id }
  userErrors { field message } } }"""
HUB = """mutation($i: CreateHubInput!) { createHub(input: $i) { hub { id slug } userErrors { field message } } }"""
POST = """mutation($i: CreatePostInput!) { createPost(input: $i) {
  post { id body bodyHtml tags mentions { handle } }
  userErrors { field message code } } }"""
COMMENT = """mutation($t: ID!, $b: String!) { createComment(input: {targetId: $t, body: $b}) {
  comment { id body bodyHtml } userErrors { field message code } } }"""
PROFILE = """mutation($bio: String!) { updateProfile(input: {bio: $bio}) {
  member { bio bioHtml } userErrors { field message code } } }"""
HUB_FEED = """query($slug: String!) { hub(slug: $slug) { feed(first: 50) { edges { node {
  ... on Post { id body } } } } } }"""
TAG_FEED = """query($tag: String!) { tagFeed(tag: $tag, first: 20) { nodes { ... on Post { id tags } } } }"""

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "del",
}
ALLOWED_ATTRS = {"a": {"href", "title", "class", "rel"}}

HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "<svg onload=alert(1)>",
    "<iframe src=https://evil.example></iframe>",
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    "<javascript:alert(1)>",
    '<p style="background:url(javascript:alert(1))">styled</p>',
    "<style>body{display:none}</style>",
    '<div onmouseover="alert(1)">hover</div>',
    "```\n<script>alert(1)</script>",
]


class _Scan(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def assert_safe(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    scan = _Scan()
    scan.feed(html)
    scan.close()
    for tag, attrs in scan.tags:
        assert tag in ALLOWED_TAGS, (tag, html)
        for name, value in attrs:
            assert name in ALLOWED_ATTRS.get(tag, set()), (tag, name, html)
            if name == "href":
                lowered = (value or "").strip().lower()
                assert not lowered.startswith(("javascript:", "data:", "vbscript:")), html
    return scan.tags


async def make_hub(api: Api) -> tuple[Session, str, str]:
    owner = await api.sign_up("hubowner")
    org = await owner.ok(ORG, {"i": {"slug": "ai-sweden", "name": "AI Sweden", "kind": "OTHER"}})
    org_id = org["createOrganisation"]["organisation"]["id"]
    hub = await owner.ok(HUB, {"i": {"slug": "kraftsamlingen", "name": "Kraftsamlingen", "organisationId": org_id}})
    return owner, hub["createHub"]["hub"]["id"], org_id


async def post(session: Session, hub_id: str, body: str) -> dict[str, Any]:
    return (await session.ok(POST, {"i": {"hubId": hub_id, "body": body}}))["createPost"]["post"]  # type: ignore[no-any-return]


async def hub_posts(session: Session) -> list[dict[str, Any]]:
    data = await session.ok(HUB_FEED, {"slug": "kraftsamlingen"})
    return [e["node"] for e in data["hub"]["feed"]["edges"]]


async def test_hostile_post_bodies_are_sanitised(api: Api) -> None:
    owner, hub_id, _ = await make_hub(api)
    for body in HOSTILE:
        created = await post(owner, hub_id, body)
        html = created["bodyHtml"]
        assert_safe(html)
        lowered = html.lower()
        assert "<script" not in lowered and "<iframe" not in lowered and "<svg" not in lowered, html
        assert "<style" not in lowered and "<img" not in lowered, html
        # The source is kept as written; only the HTML is sanitised.
        assert created["body"] == body
    # Raw HTML is shown as text, never passed through.
    shown = await post(owner, hub_id, "<script>alert(1)</script>")
    assert "&lt;script&gt;" in shown["bodyHtml"]


async def test_hostile_comment_and_bio_are_sanitised(api: Api) -> None:
    owner, hub_id, _ = await make_hub(api)
    target = await post(owner, hub_id, "Hej")
    for body in HOSTILE:
        comment = (await owner.ok(COMMENT, {"t": target["id"], "b": body}))["createComment"]["comment"]
        assert_safe(comment["bodyHtml"])
        assert "<script" not in comment["bodyHtml"].lower()
    for bio in HOSTILE:
        member = (await owner.ok(PROFILE, {"bio": bio}))["updateProfile"]["member"]
        assert_safe(member["bioHtml"])
        assert "<script" not in member["bioHtml"].lower()
        assert "javascript:" not in "".join(v or "" for _, a in assert_safe(member["bioHtml"]) for _, v in a).lower()
    member = (await owner.ok(PROFILE, {"bio": "Se [min sida](https://example.se) **nu**"}))["updateProfile"]["member"]
    tags = assert_safe(member["bioHtml"])
    assert ("strong", []) in tags
    assert dict(next(a for t, a in tags if t == "a"))["href"] == "https://example.se"


async def test_body_limit_is_exactly_ten_thousand_characters(api: Api) -> None:
    owner, hub_id, _ = await make_hub(api)
    over = await owner.gql(POST, {"i": {"hubId": hub_id, "body": "å" * 10_001}})
    assert "errors" not in over, over
    payload = over["data"]["createPost"]
    assert payload["post"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [("body", "BAD_USER_INPUT")]
    assert await hub_posts(owner) == []

    exact = await post(owner, hub_id, "å" * 10_000)
    assert len(exact["body"]) == 10_000
    assert [p["id"] for p in await hub_posts(owner)] == [exact["id"]]

    refused = await owner.gql(COMMENT, {"t": exact["id"], "b": "x" * 10_001})
    assert refused["data"]["createComment"]["comment"] is None
    assert refused["data"]["createComment"]["userErrors"][0]["field"] == "body"
    assert refused["data"]["createComment"]["userErrors"][0]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize("body", ["", "   ", "\n\t \n", "\u200b\u200b", " \u202e\u2066 "])
async def test_empty_bodies_are_refused(api: Api, body: str) -> None:
    owner, hub_id, _ = await make_hub(api)
    result = await owner.gql(POST, {"i": {"hubId": hub_id, "body": body}})
    assert "errors" not in result, result
    assert result["data"]["createPost"]["post"] is None
    assert [(e["field"], e["code"]) for e in result["data"]["createPost"]["userErrors"]] == [("body", "BAD_USER_INPUT")]
    assert await hub_posts(owner) == []


async def test_control_characters_are_removed_before_storage(api: Api) -> None:
    owner, hub_id, _ = await make_hub(api)
    body = "\u200bHej\u202e gnissap\u202c \u2066värld\u2069\u200e\u200f\ufeff!\x00\x07"
    created = await post(owner, hub_id, body)
    assert created["body"] == "Hej gnissap värld!"
    stored = await hub_posts(owner)
    assert stored == [{"id": created["id"], "body": "Hej gnissap värld!"}]
    for ch in ("\u200b", "\u202e", "\u202c", "\u2066", "\u2069", "\u200e", "\u200f", "\ufeff", "\x00", "\x07"):
        assert ch not in created["bodyHtml"]

    comment = (await owner.ok(COMMENT, {"t": created["id"], "b": "ok\u202eay\u200b"}))["createComment"]["comment"]
    assert comment["body"] == "okay"
    member = (await owner.ok(PROFILE, {"bio": "\u202eBio\u200b text"}))["updateProfile"]["member"]
    assert member["bio"] == "Bio text"


async def test_links_are_nofollow_ugc(api: Api) -> None:
    owner, hub_id, _ = await make_hub(api)
    created = await post(owner, hub_id, "Läs [rapporten](https://ai.se/rapport) eller https://example.se/x")
    anchors = [dict(a) for t, a in assert_safe(created["bodyHtml"]) if t == "a"]
    assert [a["href"] for a in anchors] == ["https://ai.se/rapport", "https://example.se/x"]
    for a in anchors:
        rel = (a.get("rel") or "").split()
        assert "nofollow" in rel and "ugc" in rel, a


async def test_unknown_mention_is_not_linked(api: Api) -> None:
    owner, hub_id, _ = await make_hub(api)
    await api.sign_up("known_one")
    created = await post(owner, hub_id, "Hej @nobody_here och @known_one")
    assert created["mentions"] == [{"handle": "known_one"}]
    html = created["bodyHtml"]
    assert 'href="/members/known_one"' in html
    assert "/members/nobody_here" not in html and "@nobody_here" in html


async def test_tags_are_lowercase_and_feed_the_tag_feed(api: Api) -> None:
    owner, hub_id, _ = await make_hub(api)
    created = await post(owner, hub_id, "Om #AI-Etik och #Öppenhet, igen #ai-etik")
    assert created["tags"] == ["ai-etik", "öppenhet"]
    other = await post(owner, hub_id, "Inget här")
    for tag in ("ai-etik", "AI-Etik", "#ai-etik"):
        nodes = (await owner.ok(TAG_FEED, {"tag": tag}))["tagFeed"]["nodes"]
        assert [n["id"] for n in nodes] == [created["id"]], tag
    nodes = (await api.ok(TAG_FEED, {"tag": "öppenhet"}))["tagFeed"]["nodes"]
    assert [n["id"] for n in nodes] == [created["id"]]
    assert other["tags"] == []
