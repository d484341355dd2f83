"""Checks an installed admin-bulk-upsert: run by the noxfile's ``package`` session.

The session installs the wheel just built into a new virtual environment and runs
this file there, from a folder outside the checkout, so that what is imported is
the wheel's: its modules, templates, static files, compiled French catalog and
migrations. Not a pytest module (its name does not start with ``test_``).
"""

from __future__ import annotations

import sys
from importlib.metadata import version
from pathlib import Path

import django
from django.conf import settings

settings.configure(
    INSTALLED_APPS=[
        "django.contrib.admin",
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "django.contrib.messages",
        "django.contrib.staticfiles",
        "import_export",
        "admin_bulk_upsert",
    ],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}],
    STATIC_URL="/static/",
    USE_TZ=True,
)
django.setup()

from django.contrib.staticfiles import finders  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.template.loader import get_template  # noqa: E402
from django.utils import translation  # noqa: E402

import admin_bulk_upsert  # noqa: E402

package = Path(admin_bulk_upsert.__file__).parent
assert "site-packages" in package.parts, f"imported from {package}, not the installed wheel"
assert version("admin-bulk-upsert") == admin_bulk_upsert.__version__

templates = sorted(package.glob("templates/**/*.html"))
assert templates, "no template installed"
for template in templates:
    get_template(str(template.relative_to(package / "templates")))
assert finders.find("admin_bulk_upsert/job.js"), "static files not found"
with translation.override("fr"):
    assert translation.gettext("Dry run: nothing was saved.") != "Dry run: nothing was saved."
call_command("migrate", verbosity=0)
assert "admin_bulk_upsert_importjob" in connection.introspection.table_names()
assert admin_bulk_upsert.BulkUpsertResource and admin_bulk_upsert.BulkUpsertAdminMixin
assert (package / "py.typed").exists()

print(
    f"admin-bulk-upsert {admin_bulk_upsert.__version__} installed in {sys.prefix}: "
    f"imports, {len(templates)} templates, static files, French catalog and migrations found."
)
