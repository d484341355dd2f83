"""Sphinx configuration: the documentation site, in MyST Markdown with the Furo theme.

Build it with ``sphinx-build -W -b html docs docs/_build`` (``pip install -e '.[docs]'``).
The API reference imports the package, so Django is configured here with a minimal
settings module of its own: nothing of a project's is needed to build the docs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import django
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

if not settings.configured:
    settings.configure(
        INSTALLED_APPS=[
            "django.contrib.admin",
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "django.contrib.messages",
            "import_export",
            "admin_bulk_upsert",
        ],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        USE_TZ=True,
    )
    django.setup()

project = "admin_bulk_upsert"
author = "admin_bulk_upsert contributors"
copyright = "admin_bulk_upsert contributors"

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
]

source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]
root_doc = "index"

myst_enable_extensions = ["deflist", "colon_fence"]
# Headings of level 1-3 get anchors, so pages link to each other's sections.
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}

html_theme = "furo"
html_title = "admin_bulk_upsert"
