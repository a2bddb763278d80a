"""The bot's markup subset (Telegram's HTML: b, i, u, s, a href, ...) as plain data.

The page never sets ``innerHTML`` from a bot text: the server parses the text here into a
tree of strings and ``{"tag", "children"[, "href"]}`` nodes with only the allowed tags, and
the browser builds DOM nodes from it (text through ``createTextNode``). Anything else in the
text (an unknown tag, a ``<script>``, an attribute) never becomes markup: unknown tags are
dropped, their words kept as words.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any, TypeAlias

Node: TypeAlias = "str | dict[str, Any]"
TAGS = {
    "b": "b",
    "strong": "b",
    "i": "i",
    "em": "i",
    "u": "u",
    "ins": "u",
    "s": "s",
    "strike": "s",
    "del": "s",
    "code": "code",
    "pre": "code",
    "a": "a",
}
SAFE_SCHEMES = ("https://", "http://", "mailto:", "tel:")


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root: list[Node] = []
        self.stack: list[tuple[str, list[Node]]] = [("", self.root)]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        kept = TAGS.get(tag)
        if kept is None:
            return
        node: dict[str, Any] = {"tag": kept, "children": []}
        if kept == "a":
            href = (dict(attrs).get("href") or "").strip()
            if href.lower().startswith(SAFE_SCHEMES):
                node["href"] = href
        self.stack[-1][1].append(node)
        self.stack.append((tag, node["children"]))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth][0] == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        children = self.stack[-1][1]
        if children and isinstance(children[-1], str):
            children[-1] += data
        else:
            children.append(data)


def markup_tree(text: str) -> list[Node]:
    """``"Hi <b>there</b>"`` -> ``["Hi ", {"tag": "b", "children": ["there"]}]``."""
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    return builder.root


def plain_text(nodes: list[Node]) -> str:
    """The words of a tree, without markup (for tests and logs of shape)."""
    return "".join(n if isinstance(n, str) else plain_text(n["children"]) for n in nodes)
