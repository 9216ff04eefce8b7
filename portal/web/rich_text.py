"""Text practitioners write in Markdown (their bio), made into HTML a visitor may safely see.

Markdown may carry HTML; the result goes through nh3 (an allow-list sanitiser), so no tag,
attribute or URL scheme outside the list survives, whatever the parser does, and a <script> or
<style> goes with its content rather than showing as text. Links leave with
rel="noopener nofollow": the page vouches for no one.
"""

from __future__ import annotations

from html import unescape

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_markdown = MarkdownIt("commonmark", {"html": True, "linkify": False}).disable("image")

ALLOWED_TAGS = {"p", "br", "em", "strong", "a", "ul", "ol", "li", "blockquote", "code"}
ALLOWED_ATTRIBUTES = {"a": {"href"}}
LINK_REL = "noopener nofollow"


def markdown_to_html(text: str) -> Markup:
    html = _markdown.render(text or "")
    return Markup(
        nh3.clean(
            html,
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            url_schemes={"http", "https", "mailto"},
            link_rel=LINK_REL,
        )
    )


def plain_text(text: str) -> str:
    """The same text without any markup: for meta descriptions and structured data."""
    return unescape(nh3.clean(_markdown.render(text or ""), tags=set())).strip()
