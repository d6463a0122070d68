"""Raw HTML from a bank -> a safe subset (no scripts, handlers, styles or javascript: URLs)."""

from __future__ import annotations

import html
from collections.abc import Callable
from html.parser import HTMLParser

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "center", "code", "dd", "del", "details",
    "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span",
    "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u",
    "ul", "var",
}
VOID_TAGS = {"br", "hr", "img"}
# Elements dropped together with everything inside them.
DROP_CONTENT = {"script", "style", "iframe", "object", "embed", "noscript", "template", "svg",
                "math", "form", "textarea", "select", "button", "head", "title"}
ALLOWED_ATTRS = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align"},
    "ol": {"start"},
    "*": {"class"},
}
SAFE_SCHEMES = ("http://", "https://", "mailto:", "#")

ImageResolver = Callable[[str], "str | None"]


class _Sanitizer(HTMLParser):
    def __init__(self, resolve_image: ImageResolver | None) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0
        self.resolve_image = resolve_image

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, self_closing=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, self_closing=True)

    def _start(self, tag: str, attrs: list[tuple[str, str | None]], self_closing: bool) -> None:
        if tag in DROP_CONTENT:
            if not self_closing and tag not in VOID_TAGS:
                self.skip += 1
            return
        if self.skip or tag not in ALLOWED_TAGS:
            return
        allowed = ALLOWED_ATTRS.get(tag, set()) | ALLOWED_ATTRS["*"]
        kept = []
        for name, value in attrs:
            value = value or ""
            if name not in allowed:
                continue
            if name == "href" and not value.strip().lower().startswith(SAFE_SCHEMES):
                continue
            if name == "src":
                resolved = self.resolve_image(value) if self.resolve_image else None
                if resolved is None:
                    return  # an image we cannot (or may not) show is left out
                value = resolved
            kept.append(f' {name}="{html.escape(value, quote=True)}"')
        self.out.append(f"<{tag}{''.join(kept)}>")

    def handle_endtag(self, tag: str) -> None:
        if tag in DROP_CONTENT:
            self.skip = max(0, self.skip - 1)
            return
        if not self.skip and tag in ALLOWED_TAGS and tag not in VOID_TAGS:
            self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.out.append(html.escape(data, quote=False))


def sanitize(fragment: str, resolve_image: ImageResolver | None = None) -> str:
    """Keep only allow-listed tags and attributes; text is re-escaped.

    ``resolve_image`` maps an ``<img src>`` to the name to use (or None to drop the image).
    """
    s = _Sanitizer(resolve_image)
    s.feed(fragment)
    s.close()
    return "".join(s.out)
