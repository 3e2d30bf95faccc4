"""Words, stems and highlights, the same for every engine.

Queries and documents are split into words the way Tantivy's simple tokenizer does
(runs of letters and digits), lower-cased, with å, ä and ö kept as letters. Stems come
from the Snowball stemmers (Swedish or English by the document's language) through
Tantivy's analyzers, so the Meilisearch engine can index the same stems. Highlights are
computed here from the stored text, so both engines mark the same words: the exact
word, its stem, a word within the typo budget, or (for the last word) a word it begins."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache

import tantivy
from rapidfuzz import process
from rapidfuzz.distance import OSA

from services.search.contracts import Snippet
from services.search.engine import MAX_QUERY_WORDS, typo_budget

WORD = re.compile(r"[^\W_]+")
STEMMERS = {"sv": "swedish", "en": "english"}
SNIPPET_CHARS = 200
# Highlighting reads at most this much of a long text (the snippet comes from its start).
SCAN_CHARS = 20_000
# Above this many distinct matching words, one pass over the words beats a str.find per word.
FIND_WORDS = 12
MAX_WORD_CHARS = 40  # longer "words" (hashes, URLs' leftovers) are cut, as Tantivy's remove_long would


def words(text: str) -> list[str]:
    return [w[:MAX_WORD_CHARS] for w in WORD.findall(text.lower())]


def query_words(query: str) -> tuple[str, ...]:
    """The words a search looks for: parser syntax a user typed (`title:x`, `"`, `*`,
    `AND`, `~2`) is nothing but more words here."""
    return tuple(words(query)[:MAX_QUERY_WORDS])


@lru_cache(maxsize=4)
def analyzer(kind: str) -> tantivy.TextAnalyzer:
    """`words`: lower-cased words; `sv`/`en`: their Snowball stems."""
    builder = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple()).filter(
        tantivy.Filter.remove_long(MAX_WORD_CHARS + 1)
    )
    builder = builder.filter(tantivy.Filter.lowercase())
    if kind in STEMMERS:
        builder = builder.filter(tantivy.Filter.stemmer(STEMMERS[kind]))
    return builder.build()


@lru_cache(maxsize=50_000)
def stem(word: str, language: str) -> str:
    out = analyzer(language).analyze(word)
    return out[0] if out else word


def stems(text: str, language: str) -> list[str]:
    return list(analyzer(language).analyze(text))


@dataclass(frozen=True)
class Wanted:
    word: str
    budget: int  # typos allowed
    prefix: bool  # may begin a longer word


def wanted(query: Sequence[str], *, all_prefix: bool = False) -> list[Wanted]:
    last = len(query) - 1
    return [Wanted(w, typo_budget(w), all_prefix or i == last) for i, w in enumerate(query)]


def _judge(tokens: list[str], want: Sequence[Wanted], language: str) -> list[bool]:
    """Whether each token matches any wanted word: the word itself, a longer word it begins
    (a prefix word), a word with the same stem, or one within the typo budget (for a prefix
    word, also one whose beginning is). The typo checks run over all the tokens at once in
    RapidFuzz's C loop, not a call per token."""
    ok = [False] * len(tokens)
    for w in want:
        word, first, root = w.word, w.word[0], stem(w.word, language)
        # The word itself, words it begins and words of its stem all begin with its first letter.
        for i in [i for i, t in enumerate(tokens) if t.startswith(first)]:
            t = tokens[i]
            if t == word or (w.prefix and t.startswith(word)) or stem(t, language) == root:
                ok[i] = True
        if w.budget:
            n = len(word)
            heads = [t[:n] if len(t) > n else None for t in tokens] if w.prefix else []
            for choices in (tokens, heads):
                for _, _, i in process.extract(word, choices, scorer=OSA.distance, score_cutoff=w.budget, limit=None):
                    ok[i] = True
    return ok


def _distinct_words(text: str) -> set[str]:
    """The words of a text as written, each once. Most space-separated pieces are a word
    whole; only the rest (punctuation, other spaces) need the regular expression."""
    pieces = set(text.split(" "))
    words = {p for p in pieces if p.isalnum()}  # [^\W_] is exactly str.isalnum
    for piece in pieces - words:
        words.update(WORD.findall(piece))
    return words


def _verdicts(words: Collection[str], want: Sequence[Wanted], language: str) -> dict[str, bool]:
    """Each word (as written) and whether it matches, judged on its lower-cased form."""
    listed = list(words)
    return dict(zip(listed, _judge([w.lower()[:MAX_WORD_CHARS] for w in listed], want, language), strict=True))


def _find(text: str, words: Sequence[str]) -> list[tuple[int, int]]:
    """Where these words stand as words of the text (not inside longer ones), in order."""
    if len(words) > FIND_WORDS:
        wanted_words = set(words)
        return [m.span() for m in WORD.finditer(text) if m.group() in wanted_words]
    spans = []
    for word in words:
        i = text.find(word)
        while i >= 0:
            j = i + len(word)
            if (i == 0 or not text[i - 1].isalnum()) and (j == len(text) or not text[j].isalnum()):
                spans.append((i, j))
            i = text.find(word, j)
    spans.sort()
    return spans


def _spans(text: str, want: Sequence[Wanted], language: str) -> list[tuple[int, int]]:
    """Where the words that match are, in the text's first SCAN_CHARS characters: each
    distinct word is judged once, then found with str.find, not word by word in Python."""
    if not want:
        return []
    scan = text[:SCAN_CHARS]
    verdicts = _verdicts(_distinct_words(scan), want, language)
    return _find(scan, [w for w, ok in verdicts.items() if ok])


def _cut(text: str, spans: list[tuple[int, int]], width: int) -> Snippet:
    """About `width` characters of the (whitespace-normalised) text around where most of
    its matches (`spans`) are."""
    if len(text) <= width:
        return Snippet(text=text, highlights=spans)
    start = 0
    if spans:
        # The span that begins the window holding the most whole spans (the first such).
        # Spans do not overlap, so their ends rise: count each window by bisection.
        ends = [b for _, b in spans]
        best = max(range(len(spans)), key=lambda i: bisect_right(ends, spans[i][0] + width, i) - i)
        start = max(0, spans[best][0] - width // 5)
        if start:
            space = text.rfind(" ", 0, start + 1)
            start = space + 1 if space >= 0 else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    lead = "… " if start else ""
    tail = " …" if end < len(text) else ""
    shift = len(lead) - start
    kept = [(a + shift, b + shift) for a, b in spans if a >= start and b <= end]
    return Snippet(text=f"{lead}{text[start:end]}{tail}", highlights=kept)


def highlight(text: str, want: Sequence[Wanted], language: str) -> Snippet:
    """The whole (short) text with its matching words marked: for titles and names."""
    return Snippet(text=text, highlights=_spans(text, want, language))


def snippet(text: str, want: Sequence[Wanted], language: str, width: int = SNIPPET_CHARS) -> Snippet:
    """About `width` characters of the text around where most of its matches are (its
    beginning when nothing is to be marked)."""
    if not want:
        # Only the beginning is shown: normalise no more of a long text than that.
        return _cut(" ".join(text[: width * 4].split()) + (" …" if len(text) > width * 4 else ""), [], width)
    text = " ".join(text.split())
    return _cut(text, _spans(text, want, language), width)


def marks(hits: Sequence[tuple[str, str, str]], want: Sequence[Wanted]) -> list[tuple[Snippet, Snippet]]:
    """`highlight` of the title and `snippet` of the text of each (title, text, language),
    for the hits of one search: a word the hits share is judged once, all in one batch
    per language."""
    if not want:
        return [(highlight(title, want, lang), snippet(text, want, lang)) for title, text, lang in hits]
    texts = [(title, " ".join(text.split()), lang) for title, text, lang in hits]
    words = [(_distinct_words(title[:SCAN_CHARS]), _distinct_words(text[:SCAN_CHARS])) for title, text, _ in texts]
    pending: dict[str, set[str]] = {}
    for (title_words, text_words), (_, _, lang) in zip(words, texts, strict=True):
        pending.setdefault(lang, set()).update(title_words, text_words)
    verdicts = {lang: _verdicts(ws, want, lang) for lang, ws in pending.items()}
    out = []
    for (title_words, text_words), (title, text, lang) in zip(words, texts, strict=True):
        ok = verdicts[lang]
        title_spans = _find(title[:SCAN_CHARS], [w for w in title_words if ok[w]])
        text_spans = _find(text[:SCAN_CHARS], [w for w in text_words if ok[w]])
        out.append((Snippet(text=title, highlights=title_spans), _cut(text, text_spans, SNIPPET_CHARS)))
    return out
