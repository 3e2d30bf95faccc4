"""shared.text: Markdown rendering must never emit an executable construct whatever the source,
clean_text strips invisible and direction-changing characters, and mentions and tags are
found (and linked) only where they should be."""

from __future__ import annotations

import re
import unicodedata
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.text import MAX_TAGS, clean_text, find_mentions, find_tags, render_markdown

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
SAFE_SCHEMES = {"http", "https", "mailto"}
# What a browser's URL parser does before reading the scheme (WHATWG URL): strip leading and
# trailing C0 controls and spaces, drop every tab and newline.
_URL_TRIM = re.compile(r"^[\x00-\x20]+|[\x00-\x20]+$")
_URL_DROP = re.compile(r"[\t\n\r]")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")


def url_scheme(href: str) -> str | None:
    """The scheme a browser would see in an href (already entity-decoded), or None if relative."""
    cleaned = _URL_DROP.sub("", _URL_TRIM.sub("", href))
    m = _SCHEME.match(cleaned)
    return m.group(1).lower() if m else None


class _Scan(HTMLParser):
    """Collects every start tag with its attributes (values entity-decoded, as a browser sees them)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def scan(html: str) -> list[tuple[str, dict[str, str]]]:
    parser = _Scan()
    parser.feed(html)
    parser.close()
    return parser.tags


def assert_inert(html: str) -> list[tuple[str, dict[str, str]]]:
    """No tag outside the allow-list, no event handler or style, no href beyond http(s), mailto or relative."""
    tags = scan(html)
    for tag, attrs in tags:
        assert tag in ALLOWED_TAGS, (tag, html)
        assert tag not in {"script", "style", "iframe", "object", "embed", "svg", "math", "img"}, html
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name, html)
            assert name != "style", html
            assert name in ALLOWED_ATTRS.get(tag, set()), (tag, name, html)
            if name == "href":
                scheme = url_scheme(value)
                assert scheme is None or scheme in SAFE_SCHEMES, (value, html)
        if tag == "a" and "href" in attrs:
            rel = attrs.get("rel", "").split()
            assert "nofollow" in rel and "ugc" in rel, html
    lowered = html.lower()
    for construct in ("<script", "<style", "<iframe", "<svg", "<img", "<object", "<embed"):
        assert construct not in lowered, html
    return tags


def anchors(html: str) -> list[dict[str, str]]:
    return [attrs for tag, attrs in scan(html) if tag == "a"]


# --- the checker itself -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("href", "scheme"),
    [
        ("https://ai.se", "https"),
        ("JaVaScRiPt:alert(1)", "javascript"),
        ("  javascript:alert(1)", "javascript"),
        ("java\tscript:alert(1)", "javascript"),
        ("java\nscript:alert(1)", "javascript"),
        ("\x01data:text/html,x", "data"),
        ("/members/anna", None),
        ("java%09script:alert(1)", None),
        ("#x", None),
    ],
)
def test_scheme_reading_matches_a_browser(href: str, scheme: str | None) -> None:
    assert url_scheme(href) == scheme


def test_checker_catches_executable_html() -> None:
    for bad in (
        "<script>alert(1)</script>",
        '<a href="javascript:alert(1)" rel="nofollow ugc">x</a>',
        '<a href="&#106;avascript:alert(1)" rel="nofollow ugc">x</a>',
        '<p onclick="x">x</p>',
        '<p style="color:red">x</p>',
        "<svg/onload=alert(1)>",
    ):
        with pytest.raises(AssertionError):
            assert_inert(bad)


# --- hostile input -------------------------------------------------------------------------------

HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    "<img src=x onerror=alert(1)//",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<iframe src="javascript:alert(1)"></iframe>',
    "<style>@import 'http://evil.example/x.css';</style>",
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<div onmouseover="alert(1)">hover</div>',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="https://ok.example" onclick="alert(1)">x</a>',
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x]( javascript:alert(1) )",
    "[x](<javascript:alert(1)>)",
    "[x](&#106;avascript:alert(1))",
    "[x](&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;:alert(1))",
    "[x](javascript&colon;alert(1))",
    "[x](java&#x09;script:alert(1))",
    "[x](java\tscript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](DATA:text/html,<script>alert(1)</script>)",
    "[x](vbscript:msgbox(1))",
    "[x](file:///etc/passwd)",
    "<javascript:alert(1)>",
    "<JAVASCRIPT:alert(1)>",
    "<data:text/html,<script>alert(1)</script>>",
    "<vbscript:msgbox(1)>",
    "![x](javascript:alert(1))",
    "![x](https://evil.example/track.png)",
    '[x](https://ok.example "title" onclick=alert(1))',
    '[x](https://ok.example "a\\" onmouseover=\\"alert(1)")',
    "[x]: javascript:alert(1)\n\n[x]",
    "[x][r]\n\n[r]: data:text/html,x",
    "```\n<script>alert(1)</script>",
    "```html\n<img src=x onerror=alert(1)>\n```",
    "`<script>alert(1)</script>`",
    "<!-- <script>alert(1)</script> -->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "<math><mi xlink:href='javascript:alert(1)'>x</mi></math>",
    "<object data='javascript:alert(1)'></object>",
    "<embed src='javascript:alert(1)'>",
    '<form action="javascript:alert(1)"><button>x</button></form>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "http://ok.example/?q=<script>alert(1)</script>",
    "www.ok.example/\"onmouseover='alert(1)'",
]


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_source_renders_inert(source: str) -> None:
    html = render_markdown(source)
    assert_inert(html)
    for a in anchors(html):
        assert url_scheme(a["href"]) in (None, *SAFE_SCHEMES)


@pytest.mark.parametrize(
    "source",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](&#106;avascript:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "[x](vbscript:msgbox(1))",
        "<javascript:alert(1)>",
        "<data:text/html,x>",
        "<vbscript:msgbox(1)>",
        "[x]: javascript:alert(1)\n\n[x]",
    ],
)
def test_dangerous_links_are_not_links(source: str) -> None:
    assert anchors(render_markdown(source)) == []


def test_raw_html_is_shown_as_text() -> None:
    html = render_markdown('<img src=x onerror="alert(1)"> and <b>bold</b>')
    assert scan(html) == [("p", {})]
    assert "&lt;img src=x onerror=" in html and "&lt;b&gt;bold&lt;/b&gt;" in html


def test_safe_links_keep_their_target_and_get_rel() -> None:
    html = render_markdown('[a](https://ai.se/x?y=1&z=2 "Rubrik") [b](/hubs/k) <mailto:anna@example.se> http://ok.se')
    found = anchors(html)
    assert [a["href"] for a in found] == [
        "https://ai.se/x?y=1&z=2",
        "/hubs/k",
        "mailto:anna@example.se",
        "http://ok.se",
    ]
    assert found[0]["title"] == "Rubrik"
    for a in found:
        assert set(a["rel"].split()) >= {"nofollow", "ugc", "noopener"}


def test_images_and_headings_outside_the_allow_list_are_dropped() -> None:
    html = render_markdown("# Stor\n\n### Mindre\n\n![bild](https://ok.example/a.png)")
    tags = [t for t, _ in assert_inert(html)]
    assert "h1" not in tags and "img" not in tags and "h3" in tags
    assert "Stor" in html and "Mindre" in html


def test_unclosed_code_fence_escapes_everything_after_it() -> None:
    html = render_markdown("före\n\n```\n<script>alert(1)</script>\n[x](javascript:alert(1))\n**inte fet**")
    assert_inert(html)
    assert "<pre><code>" in html and "&lt;script&gt;" in html
    assert "<strong>" not in html and anchors(html) == []


@pytest.mark.parametrize(
    "source",
    [
        ">" * 500 + " djupt",
        "- " * 300 + "lista",
        "*" * 5000 + "x" + "*" * 5000,
        "[" * 2000 + "x" + "](" * 2000,
        "**_~~`" * 500,
        "<" * 3000 + "script>",
        "[x](" + "(" * 1000 + "javascript:alert(1)" + ")" * 1000 + ")",
        "\n".join(f"{'  ' * i}- nivå {i}" for i in range(200)),
    ],
)
def test_malformed_and_deeply_nested_markdown(source: str) -> None:
    assert_inert(render_markdown(source))


# --- mentions and tags ---------------------------------------------------------------------------


def test_only_known_handles_are_linked() -> None:
    html = render_markdown("Hej @Anna och @okand_person", known_handles=["anna"])
    found = anchors(html)
    assert [(a["href"], a["class"]) for a in found] == [("/members/anna", "mention")]
    assert "@okand_person" in html


def test_mentions_and_tags_are_not_linked_in_code_or_links() -> None:
    html = render_markdown(
        "`@anna #kod`\n\n```\n@anna #block\n```\n\n[@anna #länk](https://ok.se) https://ok.se/#frag",
        known_handles=["anna"],
    )
    hrefs = [a["href"] for a in anchors(html)]
    assert hrefs == ["https://ok.se", "https://ok.se/#frag"]


def test_tags_are_linked_lowercase_and_url_quoted() -> None:
    html = render_markdown("Om #AI-Etik och #Öppenhet")
    assert [(a["href"], a["class"]) for a in anchors(html)] == [
        ("/tags/ai-etik", "hashtag"),
        ("/tags/%C3%B6ppenhet", "hashtag"),
    ]
    assert_inert(html)


def test_find_tags() -> None:
    assert find_tags("#AI #ai #Etik-x #_nej a#b &#123; #1abc x/#frag") == ["ai", "etik-x", "1abc"]
    assert find_tags("#" + "a" * 60) == ["a" * 40]
    many = " ".join(f"#tag{i}" for i in range(30))
    assert find_tags(many) == [f"tag{i}" for i in range(MAX_TAGS)]


def test_find_mentions() -> None:
    assert find_mentions("@Anna @anna anna@example.se @ab @bo_1 @@x @" + "a" * 31) == ["anna", "bo_1"]


# --- clean_text ----------------------------------------------------------------------------------

INVISIBLE = [
    "\u200b",  # zero width space
    "\ufeff",  # zero width no-break space / BOM
    "\u200e",  # left-to-right mark
    "\u200f",  # right-to-left mark
    "\u061c",  # arabic letter mark
    "\u202a",  # left-to-right embedding
    "\u202b",  # right-to-left embedding
    "\u202c",  # pop directional formatting
    "\u202d",  # left-to-right override
    "\u202e",  # right-to-left override
    "\u2066",  # left-to-right isolate
    "\u2067",  # right-to-left isolate
    "\u2068",  # first strong isolate
    "\u2069",  # pop directional isolate
    "\x00",
    "\x07",
    "\x1b",
    "\x7f",
    "\x85",
    "\x9b",
]


@pytest.mark.parametrize("char", INVISIBLE, ids=lambda c: f"U+{ord(c):04X}")
def test_clean_text_strips_invisible_and_bidi_characters(char: str) -> None:
    assert clean_text(f"{char}ab{char}c{char}") == "abc"


def test_clean_text_trojan_source() -> None:
    # The classic: an override makes "admin" display reversed text.
    assert clean_text("access\u202e\u2066 // check if admin\u2069\u2066") == "access // check if admin"


def test_clean_text_keeps_text_and_layout() -> None:
    assert clean_text("  Hej\tvärld\nrad två  ") == "Hej\tvärld\nrad två"
    assert clean_text("e\u0301") == "é"  # NFC
    assert clean_text("👩\u200d💻 and Persian نیم\u200cفاصله") == "👩\u200d💻 and Persian نیم\u200cفاصله"
    assert clean_text("\u200b \u202e ") == ""


# --- properties ----------------------------------------------------------------------------------

FRAGMENTS = [
    "<script>",
    "</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<iframe src=x>",
    "<style>",
    "javascript:",
    "JaVaScRiPt:",
    "&#106;avascript:",
    "&#x6A;",
    "java\tscript:",
    "data:text/html,",
    "vbscript:",
    "alert(1)",
    "onclick=",
    ' onmouseover="x"',
    'style="x"',
    "[x](",
    "](",
    ")",
    "<",
    ">",
    '"',
    "'",
    "`",
    "```",
    "\n",
    "\n\n",
    "    ",
    "*",
    "_",
    "~~",
    "#",
    "@anna",
    "#tagg",
    "> ",
    "- ",
    "1. ",
    "[r]: ",
    "[r]",
    "!",
    "\\",
    "&",
    ";",
    "http://",
    "https://ok.se/",
    "www.",
    "mailto:",
    "\u202e",
    "\u200b",
    "\x00",
]
hostile_text = st.lists(
    st.one_of(
        st.sampled_from(FRAGMENTS),
        st.text(alphabet="<>\"'`()[]!:;&#=/\\*_~-@ \n\tjavascript", max_size=12),
        st.text(max_size=8),
    ),
    max_size=14,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(source=hostile_text, known=st.lists(st.sampled_from(["anna", "bo_1", "x" * 3]), max_size=3))
def test_rendered_html_is_never_executable(source: str, known: list[str]) -> None:
    assert_inert(render_markdown(source, known_handles=known))


@settings(max_examples=300, deadline=None)
@given(source=hostile_text)
def test_rendering_cleaned_text_is_never_executable(source: str) -> None:
    assert_inert(render_markdown(clean_text(source)))


@settings(max_examples=300, deadline=None)
@given(value=st.one_of(hostile_text, st.text()))
def test_clean_text_properties(value: str) -> None:
    cleaned = clean_text(value)
    assert clean_text(cleaned) == cleaned
    assert cleaned == cleaned.strip()
    assert unicodedata.is_normalized("NFC", cleaned)
    for ch in cleaned:
        assert ch in "\t\n\r" or unicodedata.category(ch) != "Cc", repr(ch)
        assert ch not in "\u200b\u200e\u200f\u061c\ufeff" and not ("\u202a" <= ch <= "\u202e"), repr(ch)
        assert not ("\u2066" <= ch <= "\u2069"), repr(ch)


@settings(max_examples=300, deadline=None)
@given(source=hostile_text)
def test_tags_and_mentions_are_normalised(source: str) -> None:
    tags = find_tags(source)
    assert len(tags) <= MAX_TAGS and len(set(tags)) == len(tags)
    for tag in tags:
        assert tag == tag.lower() and 1 <= len(tag) <= 40 and not tag.startswith(("_", "-"))
    for handle in find_mentions(source):
        assert re.fullmatch(r"[a-z0-9_]{3,30}", handle)
