"""Markdown to sanitised HTML, mentions and tags, and the input rules every string shares.

Rendering is markdown-it-py (CommonMark, raw HTML off, bare links linked) followed by
nh3 with a small allow-list, so whatever the source, the output holds no script, no
event handler and no URL scheme beyond http, https and mailto."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from functools import lru_cache
from urllib.parse import quote

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

_ALLOWED_TAGS = {
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
# Control characters other than tab and newline never belong in user text; neither do the
# bidirectional overrides and isolates that can make text read differently than it is.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u202a-\u202e\u2066-\u2069\u200b\u200e\u200f\ufeff]")
MENTION_RE = re.compile(r"(?<![\w@/])@([A-Za-z0-9_]{3,30})(?![\w@])")
TAG_RE = re.compile(r"(?<![\w#&/])#([^\W_][\w-]{0,39})", re.UNICODE)
MAX_TAGS = 20


def clean_text(value: str) -> str:
    return _CONTROL.sub("", unicodedata.normalize("NFC", value)).strip()


def find_mentions(source: str) -> list[str]:
    return list(dict.fromkeys(m.lower() for m in MENTION_RE.findall(source)))


def find_tags(source: str) -> list[str]:
    return list(dict.fromkeys(t.lower() for t in TAG_RE.findall(source)))[:MAX_TAGS]


def _link_tokens(text: str, state: StateCore, linker: Callable[[str], list[Token] | None]) -> list[Token] | None:
    return linker(text)


def _mentions_and_tags(known_handles: set[str]) -> Callable[[StateCore], None]:
    """A core rule: in text outside links and code, turn @handle (known members only) and
    #tag into links, as token surgery rather than string replacement."""

    pattern = re.compile(f"{MENTION_RE.pattern}|{TAG_RE.pattern}", re.UNICODE)

    def rule(state: StateCore) -> None:
        for block in state.tokens:
            if block.type != "inline" or not block.children:
                continue
            out: list[Token] = []
            in_link = 0
            for tok in block.children:
                if tok.type == "link_open":
                    in_link += 1
                elif tok.type == "link_close":
                    in_link -= 1
                if tok.type != "text" or in_link or not pattern.search(tok.content):
                    out.append(tok)
                    continue
                pos = 0
                for m in pattern.finditer(tok.content):
                    handle, tag = m.group(1), m.group(2)
                    if handle and handle.lower() not in known_handles:
                        continue
                    if m.start() > pos:
                        out.append(_text(tok.content[pos : m.start()]))
                    href = f"/members/{handle.lower()}" if handle else f"/tags/{quote(tag.lower())}"
                    link = Token("link_open", "a", 1)
                    link.attrs = {"href": href, "class": "mention" if handle else "hashtag"}
                    out.extend([link, _text(m.group(0)), Token("link_close", "a", -1)])
                    pos = m.end()
                if pos < len(tok.content):
                    out.append(_text(tok.content[pos:]))
            block.children = out

    return rule


def _text(content: str) -> Token:
    t = Token("text", "", 0)
    t.content = content
    return t


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    # html=False: raw HTML in the source is shown as text, never passed through.
    return MarkdownIt("commonmark", {"html": False, "linkify": True}).enable(["strikethrough", "linkify"])


def render_markdown(source: str, known_handles: Iterable[str] = ()) -> str:
    md = _markdown()
    handles = {h.lower() for h in known_handles}
    env: dict[str, object] = {}
    tokens = md.parse(source, env)
    state = StateCore(source, md, env, tokens)
    _mentions_and_tags(handles)(state)
    html = md.renderer.render(state.tokens, md.options, env)
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href", "title", "class"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow ugc noopener",
    )
