"""Pelican settings for development builds; publishconf.py overrides them for production."""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# The plugins live here, and read the site's languages with the service's own module
# (form_service/languages.py), which the site build needs even where nothing is installed.
sys.path.insert(0, str(HERE / "plugins"))
sys.path.insert(1, str(ROOT))

from site_markup import SiteMarkupExtension  # noqa: E402 (needs the plugin path above)

AUTHOR = "Headquarters for the Abduction Issue"
SITENAME = "The Abduction Issue"
# Links inside the site are root-relative, so the same build works on any host, port or
# onion address; absolute URLs (canonical, hreflang, sitemap) use SITE_ORIGIN.
SITEURL = ""
SITE_ORIGIN = os.environ.get("SITE_ORIGIN", "http://127.0.0.1:8000").rstrip("/")
RELATIVE_URLS = False

PATH = str(ROOT / "content")
OUTPUT_PATH = str(ROOT / "output")
THEME = str(ROOT / "theme")
THEME_STATIC_DIR = "theme"
THEME_STATIC_PATHS = ["static"]
PLUGIN_PATHS = [str(HERE / "plugins")]
PLUGINS = ["site_i18n"]

TIMEZONE = "Asia/Tokyo"
DEFAULT_LANG = "en"
DEFAULT_DATE = "fs"

# Pages only: no blog, feeds, authors, categories or tags.
ARTICLE_PATHS: list[str] = []
PAGE_PATHS = ["pages"]
STATIC_PATHS = ["images", "extra"]
EXTRA_PATH_METADATA = {"extra/favicon.svg": {"path": "favicon.svg"}}
PAGE_URL = PAGE_LANG_URL = "{lang}/{slug}/"
PAGE_SAVE_AS = PAGE_LANG_SAVE_AS = "{lang}/{slug}/index.html"
DIRECT_TEMPLATES = ["index", "sitemap", "robots"]
SITEMAP_SAVE_AS = "sitemap.xml"
ROBOTS_SAVE_AS = "robots.txt"
ARTICLE_SAVE_AS = ARTICLE_LANG_SAVE_AS = DRAFT_SAVE_AS = DRAFT_LANG_SAVE_AS = ""
AUTHOR_SAVE_AS = AUTHORS_SAVE_AS = CATEGORY_SAVE_AS = CATEGORIES_SAVE_AS = ""
TAG_SAVE_AS = TAGS_SAVE_AS = ARCHIVES_SAVE_AS = ""
FEED_ALL_ATOM = FEED_ALL_RSS = CATEGORY_FEED_ATOM = TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = AUTHOR_FEED_RSS = None
DEFAULT_PAGINATION = False
SLUGIFY_SOURCE = "basename"

# Autoescape as Flask does, so the shared templates are safe in both renderers.
JINJA_ENVIRONMENT = {
    "trim_blocks": True,
    "lstrip_blocks": True,
    "autoescape": True,
    "extensions": [],
}
MARKDOWN = {
    "extension_configs": {
        "markdown.extensions.extra": {},
        "markdown.extensions.toc": {"toc_depth": "2-3", "permalink": False},
    },
    "extensions": [SiteMarkupExtension(content_path=PATH)],
    "output_format": "html",
}
CACHE_CONTENT = False
LOAD_CONTENT_CACHE = False
