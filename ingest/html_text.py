"""Turn the HTML fragments that survive in exported documents (table cells with <p>, <ul>, <li>, inline
■/• bullets) into clean text: words kept, paragraphs as lines, list items as "- " bullets, entities unescaped.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(\s[^<>]*)?/?>")
# Bullet glyphs used inline ("■ one ■ two") by the exporter; each starts a new list item.
_INLINE_BULLET = re.compile(r"\s*[■•▪●◦]\s*")
_BLOCK_TAGS = {"p", "div", "ul", "ol", "table", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "section"}


def has_html(text: str) -> bool:
    return bool(_TAG.search(text))


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "li":
            self.parts.append("\n- ")
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCK_TAGS or tag in {"td", "th"}:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in _BLOCK_TAGS or tag in {"li", "td", "th"}:
            self.parts.append("\n")

    def handle_data(self, data):
        self.parts.append(data)


def html_to_text(fragment: str) -> str:
    """Clean text for an HTML fragment (or plain text with inline bullets); no tag survives."""
    collector = _TextCollector()
    collector.feed(fragment)
    collector.close()
    text = "".join(collector.parts)
    text = _TAG.sub(" ", text)  # anything the lenient parser passed through as data
    text = _INLINE_BULLET.sub("\n- ", text)
    lines = []
    for line in text.split("\n"):
        line = re.sub(r"[ \t\xa0]+", " ", line).strip()
        if line in {"", "-"}:
            continue
        lines.append(line)
    return "\n".join(lines)


def first_paragraph(fragment: str) -> str:
    """Text of the first <p>…</p> in a fragment ('' if none) — the row title in exported offer tables."""
    match = re.search(r"<p\b[^>]*>(.*?)</p>", fragment, flags=re.S | re.I)
    return html_to_text(match.group(1)).replace("\n", " ") if match else ""
