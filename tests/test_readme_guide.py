"""The README's five-minute guide, followed as a new user follows it.

A throwaway project is made with ``django-admin startproject``; the guide's code
blocks are pasted where their first line says (``# ledger/models.py``; the
settings block is added at the end of the settings), its ``python manage.py``
commands run (but ``createsuperuser`` and ``runserver``, which wait for a person),
its CSV files are saved, and then the first upload goes through the admin (upload,
preview, confirm, with the test Client) and the "from code" block runs in
``manage.py shell``. If the guide stops working as pasted, this fails.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

pytestmark = pytest.mark.skipif(
    settings.TEST_DB != "sqlite",
    reason="the guide's project runs on its own SQLite file; covered by the sqlite run",
)

#: Runs inside the throwaway project: the guide's first upload, through the admin.
UPLOAD_SCRIPT = r"""
import re
import sys

import django

django.setup()

from django.test.utils import setup_test_environment

setup_test_environment()  # the test Client's host, as under the test runner

from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from ledger.models import Account

User.objects.create_superuser("admin", "admin@example.com", "pw")
client = Client()
client.force_login(User.objects.get(username="admin"))
url = reverse("admin:ledger_account_import")
page = client.get(url).content.decode()
csv_choice = re.search(r'<option value="(\d+)"[^>]*>csv</option>', page).group(1)
keys = re.findall(r'name="import_id_fields" value="([^"]+)"[^>]*checked', page)
assert keys == ["number"], keys
with open("accounts.csv", "rb") as file:
    upload = SimpleUploadedFile("accounts.csv", file.read(), "text/csv")
preview = client.post(
    url, {"resource": "0", "format": csv_choice, "import_id_fields": keys, "import_file": upload}
)
token = re.search(r'name="token" value="([^"]+)"', preview.content.decode())
assert token, preview.content.decode()[:2000]
confirm = client.post(url.replace("/import/", "/process_import/"), {"token": token.group(1)})
assert confirm.status_code == 302, confirm.status_code
print(sorted(Account.objects.values_list("number", flat=True)))
"""


def _guide() -> str:
    text = README.read_text()
    start = text.index("## Five-minute guide")
    return text[start : text.index("\n## ", start + 1)]


def _blocks(guide: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", guide, re.S)


def _files(guide: str) -> dict[str, str]:
    """The guide's Python blocks that open with ``# path``, by path."""
    files = {}
    for block in _blocks(guide, "python"):
        first, _, rest = block.partition("\n")
        if re.fullmatch(r"# [\w/]+\.py", first):
            files[first[2:]] = rest
    return files


def _csv_files(guide: str) -> dict[str, str]:
    """``Save this as `name`:`` (or ``these rows``) followed by a ``text`` block."""
    found = re.findall(r"as `([\w.]+)`[^`]*?:\s*\n\n```text\n(.*?)```", guide, re.S)
    return dict(found)


def _run(project: Path, *args: str, stdin: str | None = None) -> str:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(project), str(ROOT)]),
        "DJANGO_SETTINGS_MODULE": "mysite.settings",
    }
    completed = subprocess.run(
        [sys.executable, *args],
        cwd=project,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


def test_the_guide_names_its_files():
    guide = _guide()
    assert set(_files(guide)) == {
        "ledger/models.py",
        "mysite/settings.py",
        "ledger/resources.py",
        "ledger/admin.py",
    }
    assert set(_csv_files(guide)) == {"accounts.csv", "transactions.csv"}


def test_the_guide_runs_as_pasted(tmp_path):
    guide = _guide()
    _run(tmp_path, "-m", "django", "startproject", "mysite", ".")
    _run(tmp_path, "manage.py", "startapp", "ledger")
    for path, code in _files(guide).items():
        target = tmp_path / path
        if path.endswith("settings.py"):
            target.write_text(target.read_text() + "\n" + code)
        else:
            target.write_text(code)
    for name, content in _csv_files(guide).items():
        (tmp_path / name).write_text(content)

    commands = [
        line.split()
        for block in _blocks(guide, "sh")
        for line in block.splitlines()
        if line.startswith("python manage.py")
    ]
    assert [command[2] for command in commands] == [
        "makemigrations",
        "migrate",
        "check",
        "createsuperuser",
        "runserver",
    ]
    for command in commands:
        if command[2] not in ("createsuperuser", "runserver"):
            _run(tmp_path, *command[1:])

    accounts = _run(tmp_path, "-c", UPLOAD_SCRIPT)
    assert accounts.strip() == "['ACC-1', 'ACC-2']"

    (from_code,) = [block for block in _blocks(guide, "python") if "import_data(dataset" in block]
    totals = _run(tmp_path, "manage.py", "shell", stdin=from_code)
    # OrderedDict's repr: [('new', 2), ...] before Python 3.12, {'new': 2, ...} since.
    assert "('new', 2)" in totals or "'new': 2" in totals, totals

    command = re.search(r"`(python manage\.py bulk_import [^`]+)`", guide.replace("\n", " "))
    output = _run(tmp_path, *command.group(1).split()[1:])
    assert "2 new" in output, output
