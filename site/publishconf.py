"""Pelican settings for production: the development settings with the public origin."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pelicanconf import *  # noqa: F403 (the documented Pelican pattern)

# The public address, used for canonical URLs, hreflang alternates and the sitemap.
SITE_ORIGIN = os.environ.get("SITE_ORIGIN", "https://abduction.example.org").rstrip("/")
DELETE_OUTPUT_DIRECTORY = True
