"""Telegram's HTML subset: check a text the way the Bot API would, and measure it.

Telegram accepts only a few tags, requires them to be closed and properly nested, and counts
the 4096-character limit on the text *after* the tags are removed and entities decoded.
"""

from __future__ import annotations

import html
from html.parser import HTMLParser

from bot.errors import HipbotError

ALLOWED_TAGS: dict[str, frozenset[str]] = {
    "b": frozenset(),
    "strong": frozenset(),
    "i": frozenset(),
    "em": frozenset(),
    "u": frozenset(),
    "ins": frozenset(),
    "s": frozenset(),
    "strike": frozenset(),
    "del": frozenset(),
    "span": frozenset({"class"}),
    "tg-spoiler": frozenset(),
    "a": frozenset({"href"}),
    "code": frozenset({"class"}),
    "pre": frozenset(),
    "blockquote": frozenset({"expandable"}),
    "tg-emoji": frozenset({"emoji-id"}),
}
MAX_TEXT = 4096
MAX_CAPTION = 1024
_NAMED_ENTITIES = {"lt", "gt", "amp", "quot"}


class HtmlProblem(HipbotError, ValueError):
    """The text is not valid Telegram HTML; the message says why."""


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.visible: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            raise HtmlProblem(f"tag <{tag}> is not allowed by Telegram")
        for name, _ in attrs:
            if name not in ALLOWED_TAGS[tag]:
                raise HtmlProblem(f"attribute '{name}' is not allowed on <{tag}>")
        if tag == "span" and dict(attrs).get("class") != "tg-spoiler":
            raise HtmlProblem('<span> needs class="tg-spoiler"')
        if tag == "a" and not dict(attrs).get("href"):
            raise HtmlProblem("<a> needs an href")
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise HtmlProblem(f"self-closing <{tag}/> is not allowed; use <{tag}>...</{tag}>")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack:
            raise HtmlProblem(f"</{tag}> closes a tag that was never opened")
        if self.stack[-1] != tag:
            raise HtmlProblem(f"</{tag}> found where </{self.stack[-1]}> was expected")
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if "<" in data or ">" in data:
            raise HtmlProblem("a bare '<' or '>' must be written as &lt; or &gt;")
        self.visible.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in _NAMED_ENTITIES:
            raise HtmlProblem(f"&{name}; is not supported; use &lt; &gt; &amp; &quot; only")
        self.visible.append(html.unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self.visible.append(html.unescape(f"&#{name};"))

    def unknown_decl(self, data: str) -> None:
        raise HtmlProblem("declarations are not allowed")

    def handle_comment(self, data: str) -> None:
        raise HtmlProblem("HTML comments are not allowed")


def check_html(text: str) -> str:
    """Return the visible text of ``text``; raise HtmlProblem if Telegram would reject it."""
    checker = _Checker()
    if "&" in text:
        _check_ampersands(text)
    checker.feed(text)
    checker.close()
    if checker.rawdata:
        raise HtmlProblem(f"unfinished markup near {checker.rawdata[:20]!r}")
    if checker.stack:
        raise HtmlProblem(f"<{checker.stack[-1]}> is never closed")
    return "".join(checker.visible)


def _check_ampersands(text: str) -> None:
    index = text.find("&")
    while index != -1:
        end = text.find(";", index)
        entity = text[index + 1 : end] if end != -1 else ""
        if end == -1 or not entity or len(entity) > 10 or " " in entity:
            raise HtmlProblem("a bare '&' must be written as &amp;")
        index = text.find("&", index + 1)


def visible_length(text: str) -> int:
    """Length Telegram counts against the 4096 limit (UTF-16 code units are not needed here:
    Telegram counts characters of the parsed text)."""
    return len(check_html(text))


def escape(value: object) -> str:
    """Escape a value that comes from a person before it goes into an HTML message."""
    return html.escape(str(value), quote=False)


def split_html(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split a message Telegram would find too long, at paragraph, line or word breaks,
    never inside a tag: each part is valid on its own."""
    if len(check_html(text)) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for piece in _pieces(text, limit):
        candidate = f"{current}{piece}" if current else piece.lstrip()
        if current and len(check_html(candidate)) > limit:
            parts.append(current.rstrip())
            current = piece.lstrip()
        else:
            current = candidate
    if current.strip():
        parts.append(current.rstrip())
    return parts


def _pieces(text: str, limit: int) -> list[str]:
    """Chunks that end at a break where no tag is open, each short enough on its own."""
    for separator in ("\n\n", "\n", " "):
        chunks = text.split(separator)
        pieces = [c + separator for c in chunks[:-1]] + [chunks[-1]]
        if _all_balanced(pieces) and all(len(check_html(p)) <= limit for p in pieces if p.strip()):
            return pieces
    plain = escape(check_html(text))  # last resort: drop the markup rather than fail
    return [plain[i : i + limit] for i in range(0, len(plain), limit)]


def _all_balanced(pieces: list[str]) -> bool:
    try:
        for piece in pieces:
            check_html(piece)
    except HtmlProblem:
        return False
    return True
