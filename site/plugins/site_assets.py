"""What pages need to know about the site's own files at build time: version and size."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from form_service.languages import fingerprint

__all__ = ["fingerprint", "image_size", "svg_size"]

# A length in an SVG's width/height attribute that is a plain CSS pixel count.
PIXELS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:px)?\s*$")


def image_size(path: Path) -> tuple[int, int]:
    """Return an image's intrinsic width and height, for width/height on its <img>."""
    if path.suffix.lower() == ".svg":
        return svg_size(path)
    from PIL import Image  # only raster images need it

    with Image.open(path) as image:
        return image.size


def svg_size(path: Path) -> tuple[int, int]:
    """Return an SVG's size from its width/height attributes, else from its viewBox."""
    root = ET.parse(path).getroot()  # noqa: S314 (the site's own content files)
    width, height = (PIXELS.match(root.get(name, "")) for name in ("width", "height"))
    if width and height:
        return round(float(width[1])), round(float(height[1]))
    box = (root.get("viewBox") or "").replace(",", " ").split()
    if len(box) == 4:
        return round(float(box[2])), round(float(box[3]))
    raise ValueError(f"{path}: give the SVG width and height (or a viewBox) in pixels")
