"""Markdown extension: mark external links, size and version images, make figures, label the TOC.

It runs inside Pelican's Markdown reader, after the metadata is read, so each page is
marked in its own language (`Lang:` metadata) with strings from the theme catalog.
"""

from __future__ import annotations

import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from markdown import Extension, Markdown
from markdown.treeprocessors import Treeprocessor
from site_assets import fingerprint, image_size
from site_languages import gettext

CONTENT = Path(__file__).resolve().parents[2] / "content"
# Pelican copies content/images/ as it is (STATIC_PATHS), so /images/x is content/images/x.
IMAGES_URL = "/images/"


def N_(message: str) -> str:
    """Mark a string for the theme catalog; it is translated per page later."""
    return message


# The source site marks every outbound link with the words "External link". The brackets
# belong to the translation: Japanese and Chinese write them full-width.
EXTERNAL_LABEL = N_("(External link)")
CONTENTS_LABEL = N_("Contents on this page")


def page_lang(md: Markdown) -> str:
    """Return the URL-segment language of the page being converted (default English)."""
    meta = getattr(md, "Meta", {}) or {}
    values = meta.get("lang") or ["en"]
    return str(values[0]).strip().lower()


class SiteMarkupProcessor(Treeprocessor):
    """Rewrite the element tree of one page."""

    def __init__(self, md: Markdown, content_path: Path) -> None:
        """Keep the content folder, where the pages' /images/ files are read from."""
        super().__init__(md)
        self.content_path = content_path

    def run(self, root: ET.Element) -> None:
        """Apply the four rewrites to the page's tree."""
        lang = page_lang(self.md)
        self.mark_external_links(root, lang)
        self.size_images(root, self.content_path)
        self.make_figures(root)
        self.label_contents(root, lang)

    @staticmethod
    def mark_external_links(root: ET.Element, lang: str) -> None:
        """Add rel=noreferrer and a visible "External link" label to links to other hosts."""
        for link in root.iter("a"):
            href = link.get("href", "")
            if urlsplit(href).scheme not in {"http", "https"}:
                continue
            link.set("rel", "noreferrer")
            link.set("class", "external")
            label = ET.SubElement(link, "span", {"class": "external-label"})
            label.text = spaced_label(gettext(lang, EXTERNAL_LABEL))

    @staticmethod
    def size_images(root: ET.Element, content_path: Path) -> None:
        """Give each site image its intrinsic width/height and a fingerprinted URL.

        The size lets the browser reserve the image's box before it loads (no layout shift);
        the `?v=` fingerprint lets nginx cache /images/ for a year, since a changed file gets
        a new URL. An image whose size cannot be read stops the build.
        """
        for image in root.iter("img"):
            src = image.get("src", "")
            parts = urlsplit(src)
            if parts.scheme or parts.netloc or not parts.path.startswith(IMAGES_URL):
                continue
            path = content_path / parts.path.lstrip("/")
            width, height = image_size(path)
            image.set("width", str(width))
            image.set("height", str(height))
            image.set("src", f"{parts.path}?v={fingerprint(path)}")

    @staticmethod
    def make_figures(root: ET.Element) -> None:
        """Turn a paragraph holding only an image with a title into figure + figcaption."""
        for paragraph in list(root.iter("p")):
            children = list(paragraph)
            if len(children) != 1 or children[0].tag != "img":
                continue
            image = children[0]
            caption = image.get("title")
            if not caption or (paragraph.text or "").strip() or (image.tail or "").strip():
                continue
            del image.attrib["title"]
            image.set("loading", "lazy")
            image.tail = None
            paragraph.tag = "figure"
            paragraph.text = None
            figcaption = ET.SubElement(paragraph, "figcaption")
            figcaption.text = caption

    @staticmethod
    def label_contents(root: ET.Element, lang: str) -> None:
        """Wrap the [TOC] list in a labelled navigation landmark."""
        for block in root.iter("div"):
            if block.get("class") != "toc":
                continue
            block.tag = "nav"
            block.set("class", "page-contents")
            block.set("aria-labelledby", "page-contents-title")
            title = ET.Element("h2", {"id": "page-contents-title"})
            title.text = gettext(lang, CONTENTS_LABEL)
            block.insert(0, title)


def spaced_label(label: str) -> str:
    """Return the external-link label with the space that separates it from the link text.

    A full-width bracket (U+FF08, as in Japanese and Chinese) carries its own spacing in the
    glyph, so that label follows the link text directly; a half-width "(" needs a space.
    """
    if label and unicodedata.east_asian_width(label[0]) in {"F", "W"}:
        return label
    return f" {label}"


class SiteMarkupExtension(Extension):
    """Register the processor after the table-of-contents builder has run."""

    def __init__(self, **kwargs: Any) -> None:
        """Accept `content_path`, the folder holding the pages' images (default content/)."""
        self.config = {"content_path": [str(CONTENT), "folder that /images/ URLs are read from"]}
        super().__init__(**kwargs)

    def extendMarkdown(self, md: Markdown) -> None:
        """Add the processor with a priority below toc (5) so it sees the built list."""
        processor = SiteMarkupProcessor(md, Path(self.getConfig("content_path")))
        md.treeprocessors.register(processor, "site_markup", 1)


def make_extension(**kwargs: Any) -> SiteMarkupExtension:
    """Build the extension (Markdown's entry-point convention)."""
    return SiteMarkupExtension(**kwargs)
