"""SVG images from a bank, made inert: no scripts, event handlers or outside references.

An SVG is a document that can run scripts and load other files when a card shows it. Only the
drawing is kept: ``<script>``, ``<foreignObject>``, ``on*`` attributes, ``href``s that point
anywhere but into the same file (or to an embedded raster image), and ``url(...)`` references
to other files are removed. Files with a DOCTYPE (entities can expand without bound) are
refused rather than parsed.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

_DROP = {"script", "foreignobject", "iframe", "object", "embed", "audio", "video", "handler",
         "listener"}
_HREF = {"href", "{http://www.w3.org/1999/xlink}href"}
_SAFE_HREF = re.compile(r"^\s*(#|data:image/(png|jpe?g|gif|webp);base64,)", re.IGNORECASE)
_URL = re.compile(r"url\(\s*['\"]?\s*(?!#)[^)]*\)", re.IGNORECASE)
_ANIMATE = {"set", "animate"}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].lower()


def sanitize_svg(data: bytes) -> tuple[bytes | None, list[str]]:
    """(clean SVG bytes, what was removed); (None, [why]) when the file cannot be made safe."""
    head = data[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in data.lower():
        return None, ["has a DOCTYPE or entities, which deckgen does not read"]
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        return None, [f"is not well-formed XML ({exc})"]
    if _local(root.tag) != "svg":
        return None, ["is not an SVG file"]
    removed: list[str] = []
    for parent in list(root.iter()):
        for child in list(parent):
            name = _local(child.tag) if isinstance(child.tag, str) else ""
            attrs = {k.lower() for k in child.attrib}
            if name in _DROP or (name in _ANIMATE and "attributename" in attrs and
                                 child.attrib.get("attributeName", "").lower() in
                                 ("href", "xlink:href")):
                parent.remove(child)
                removed.append(f"<{name}>")
    for element in root.iter():
        for key in list(element.attrib):
            value = element.attrib[key]
            low = _local(key)
            if low.startswith("on"):
                del element.attrib[key]
                removed.append("event handlers")
            elif key in _HREF or low == "href":
                if not _SAFE_HREF.match(value):
                    del element.attrib[key]
                    removed.append("outside references")
            elif _URL.search(value):
                element.attrib[key] = _URL.sub("none", value)
                removed.append("outside references")
        if _local(element.tag) == "style" and element.text and (
                "@import" in element.text.lower() or _URL.search(element.text)):
            element.text = _URL.sub("none", re.sub(r"@import[^;]*;?", "", element.text,
                                                   flags=re.IGNORECASE))
            removed.append("outside references")
    if not removed:
        return data, []
    ET.register_namespace("", "http://www.w3.org/2000/svg")
    ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True), removed
