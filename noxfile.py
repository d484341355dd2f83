"""The test matrix as named nox sessions: ``nox -l`` lists them, ``nox -s NAME`` runs one.

- ``lint``: ruff check and ruff format --check.
- ``package``: build the sdist and wheel, ``twine check --strict`` them, and install the
  wheel in a new virtual environment, where tests/check_installed.py imports it and finds its
  templates, static files, French catalog and migrations.
- ``docs``: the documentation site, warnings as errors (once docs/conf.py exists).
- ``tests(db=...)``: pytest on one database: ``sqlite`` (with the browser tests),
  ``sqlite-files`` (the tests that start real worker processes, with the test database in files
  a worker can open), ``postgresql`` and ``mariadb`` (without the browser tests).
- ``conformance(db=...)``: django-import-export's own test suite on one database, on stock DIE,
  with ``BulkUpsertResource`` and with ``BulkUpsertAdminMixin``, compared per test with stock
  (tests/upstream/run.py). Skipped when arguments are given, or with
  ``ADMIN_BULK_UPSERT_CONFORMANCE=0``.
- ``tests-django6``/``conformance-django6``: on Python >= 3.12 with the newest Django 6;
  ``tests-oldest``/``conformance-oldest``: on Python 3.10 with Django 5.2 and
  django-import-export 4.3. These two passes leave to the main one what their versions do not
  change (see ``PASSES``): the readers' tests, the comparisons with stock on the servers, DIE's
  suite on the servers, and for the oldest pass the servers altogether. Skipped when no such
  Python is found (see ``_find_python``);
  ``ADMIN_BULK_UPSERT_PYTHON_DJANGO6`` and ``ADMIN_BULK_UPSERT_PYTHON_OLDEST`` name an
  interpreter to try first.

Arguments after ``--`` go to pytest: ``nox -s "tests(db='postgresql')" -- -k concurrency``.

Each pass's sessions share one environment, ``.venv``, ``.venv-django6`` or ``.venv-oldest``,
into which the first of them to run installs the package with its ``test`` and ``conformance``
extras (nox's own environments would install them once per session: eleven times a pass). The
``lint`` and ``package`` sessions have nox's own environments, with only their tools.

Each test session writes its report in test-artifacts/ under its own name (``tests(db='sqlite')``
writes ``tests-db-sqlite.xml``, a conformance session a ``.txt`` log), from which
``bash tests/run.sh``, which runs every session, sums the counts (tests/summary.py). The
database servers are those of tests/settings.py (127.0.0.1, or
``ADMIN_BULK_UPSERT_TEST_DB_HOST``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
ARTIFACTS = ROOT / "test-artifacts"
#: Seconds each pytest or conformance run may take, so that the whole matrix stays well inside
#: CI's 90 minutes.
RUN_TIMEOUT = os.environ.get("ADMIN_BULK_UPSERT_RUN_TIMEOUT", "1200")
DATABASES = ["sqlite", "sqlite-files", "postgresql", "mariadb"]
CONFORMANCE_DATABASES = ["sqlite", "postgresql", "mariadb"]
#: The worker tests run again with the SQLite test database in files (see tests/settings.py);
#: the browser tests with a real db_worker run only there.
SQLITE_FILES_TESTS = [
    "tests/jobs/test_workers*.py",
    "tests/drf/test_jobs_worker.py",
    "tests/browser/test_job_worker.py",
    "tests/browser/test_revert_worker.py",
]

nox.options.reuse_venv = "yes"


@dataclass(frozen=True)
class Pass:
    """One environment the suite runs in."""

    venv: str
    #: Python versions accepted, from ``min_python`` to below ``max_python``; None: ``python3``.
    min_python: str | None = None
    max_python: str | None = None
    #: Names an interpreter to try first.
    python_variable: str = ""
    #: Requirements installed beside the package and its extras.
    specs: tuple[str, ...] = ()
    #: The ``tests(db)`` and ``conformance(db)`` sessions of the pass.
    databases: tuple[str, ...] = tuple(DATABASES)
    conformance_databases: tuple[str, ...] = tuple(CONFORMANCE_DATABASES)
    #: Left out of the pass's runs on a server (PostgreSQL, MariaDB) and on SQLite.
    server_ignores: tuple[str, ...] = ()
    sqlite_ignores: tuple[str, ...] = ()


#: What the passes at the ends of the range leave to the main pass, which runs everything on
#: every database: the readers' tests (no database, no Django version in them), and on the
#: servers the comparisons with stock DIE (tests/differential), which each pass still runs on
#: SQLite, where the version of Django and DIE is what differs.
VERSION_PASS_SQLITE_IGNORES = ("tests/files",)
VERSION_PASS_SERVER_IGNORES = ("tests/files", "tests/differential")

PASSES = {
    "": Pass(".venv"),
    # Django 6 changes the database backends too: its pass runs on the servers as well.
    "django6": Pass(
        ".venv-django6",
        "3.12",
        "4",
        "ADMIN_BULK_UPSERT_PYTHON_DJANGO6",
        ("django>=6,<7",),
        conformance_databases=("sqlite",),
        server_ignores=VERSION_PASS_SERVER_IGNORES,
        sqlite_ignores=VERSION_PASS_SQLITE_IGNORES,
    ),
    # The oldest pass has the main pass's Django: what it adds (Python 3.10, DIE 4.3) is not
    # the database's business, so it runs on SQLite only.
    "oldest": Pass(
        ".venv-oldest",
        "3.10",
        "3.11",
        "ADMIN_BULK_UPSERT_PYTHON_OLDEST",
        ("django>=5.2,<5.3", "django-import-export>=4.3,<4.4"),
        databases=("sqlite", "sqlite-files"),
        conformance_databases=("sqlite",),
        sqlite_ignores=VERSION_PASS_SQLITE_IGNORES,
    ),
}
#: The passes whose environment is ready in this run of nox.
_prepared: set[str] = set()


def artifact(session: nox.Session, suffix: str) -> Path:
    """``test-artifacts/tests-db-sqlite.xml`` for ``tests(db='sqlite')``: see tests/summary.py."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / (re.sub(r"[^A-Za-z0-9.]+", "-", session.name).strip("-") + suffix)
    path.unlink(missing_ok=True)
    return path


def _find_python(spec: Pass) -> str | None:
    """The first interpreter whose version is in the pass's range.

    The one named by the pass's variable, then python3.13 down to python3.10 on the PATH, then
    the versions pyenv has installed, newest first (pyenv's shims run only the versions it is
    told to, so its versions are asked for by path).
    """
    if spec.min_python is None:
        return shutil.which("python3")
    candidates = [os.environ.get(spec.python_variable, "")]
    candidates += [f"python3.{minor}" for minor in range(13, 9, -1)]
    if shutil.which("pyenv"):
        root = subprocess.run(["pyenv", "root"], capture_output=True, text=True).stdout.strip()
        installed = Path(root, "versions").glob("3.*/bin/python3")
        candidates += [str(path) for path in sorted(installed, key=_version_key, reverse=True)]
    check = (
        "import sys; v = sys.version_info[:2]; "
        f"sys.exit(not ({_version_tuple(spec.min_python)} <= v < "
        f"{_version_tuple(spec.max_python or '4')}))"
    )
    for candidate in filter(None, candidates):
        found = shutil.which(candidate)
        if found and subprocess.run([found, "-c", check], capture_output=True).returncode == 0:
            return found
    return None


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.parent.name)[:3])


def _environment(session: nox.Session, pass_name: str) -> str:
    """The pass's Python, its environment created and the package installed on first use."""
    spec = PASSES[pass_name]
    python = ROOT / spec.venv / "bin" / "python"
    if pass_name in _prepared:
        return str(python)
    if not python.exists():
        base = _find_python(spec)
        if base is None:
            session.skip(f"no Python >= {spec.min_python} and < {spec.max_python} found")
        session.run(base, "-m", "venv", str(ROOT / spec.venv), external=True)
    session.run(
        str(python),
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "-e",
        ".[test,conformance]",
        *spec.specs,
        external=True,
    )
    _prepared.add(pass_name)
    return str(python)


def _versions(session: nox.Session, python: str) -> None:
    session.run(
        python,
        "-c",
        "import sys, django, import_export as ie; print(f'Python {sys.version.split()[0]}, "
        "Django {django.get_version()}, django-import-export {ie.__version__}')",
        external=True,
    )


def _pytest(session: nox.Session, pass_name: str, db: str) -> None:
    python = _environment(session, pass_name)
    _versions(session, python)
    report = artifact(session, ".xml")
    env = {"ADMIN_BULK_UPSERT_TEST_DB": db.removesuffix("-files")}
    selection = list(session.posargs)
    spec = PASSES[pass_name]
    if db == "postgresql" or db == "mariadb":
        # The caller's arguments come last, so that a caller's own -m wins over ours.
        selection = ["-m", "not browser", *_ignored(spec.server_ignores), *selection]
    elif db == "sqlite":
        selection = [*_ignored(spec.sqlite_ignores), *selection]
    sqlite_dir = None
    if db == "sqlite-files":
        sqlite_dir = tempfile.mkdtemp(prefix="admin-bulk-upsert-sqlite-")
        env["ADMIN_BULK_UPSERT_TEST_SQLITE_DIR"] = sqlite_dir
        selection = [*_expand(SQLITE_FILES_TESTS), *selection]
    try:
        # SIGINT first, so that pytest still writes its report and shows where it was.
        session.run(
            *("timeout", "--signal=INT", "--kill-after=60", RUN_TIMEOUT),
            *(python, "-m", "pytest", "-p", "no:cacheprovider", f"--junitxml={report}"),
            *selection,
            env=env,
            external=True,
            success_codes=[0, 5],  # 5: no test selected (e.g. -k matching browser tests only)
        )
    finally:
        if sqlite_dir:
            shutil.rmtree(sqlite_dir, ignore_errors=True)


def _ignored(paths: tuple[str, ...]) -> list[str]:
    return [f"--ignore={path}" for path in paths]


def _expand(patterns: list[str]) -> list[str]:
    return sorted(str(path.relative_to(ROOT)) for p in patterns for path in ROOT.glob(p))


def _conformance(session: nox.Session, pass_name: str, db: str) -> None:
    if session.posargs:
        session.skip("arguments select some of our own tests: DIE's suite is left out")
    if os.environ.get("ADMIN_BULK_UPSERT_CONFORMANCE", "1") != "1":
        session.skip("ADMIN_BULK_UPSERT_CONFORMANCE is not 1")
    python = _environment(session, pass_name)
    _versions(session, python)
    log = artifact(session, ".txt")
    # Each line of the log is "ok", "FAILED" or "skipped" followed by one run's name.
    session.run(
        "bash",
        "-c",
        'set -o pipefail; timeout --kill-after=60 "$0" "$1" -m tests.upstream.run --db "$2" '
        '| tee "$3"',
        *(RUN_TIMEOUT, python, db, str(log)),
        external=True,
    )
    lines = log.read_text().splitlines()
    failed = sum(line.startswith("FAILED ") for line in lines)
    if failed:
        session.error(f"{failed} of the runs failed or differ from stock")
    if not any(line.startswith(("ok ", "skipped ")) for line in lines):
        session.error("no run reported")


def _register(pass_name: str) -> None:
    """``tests(db)`` and ``conformance(db)`` sessions for one pass (``tests-django6(db)`` ...)."""
    suffix = f"-{pass_name}" if pass_name else ""
    tags = [pass_name or "main"]
    about = f" ({pass_name} pass)" if pass_name else ""

    def tests(session: nox.Session, db: str) -> None:
        _pytest(session, pass_name, db)

    def conformance(session: nox.Session, db: str) -> None:
        _conformance(session, pass_name, db)

    tests.__doc__ = f"Our test suite on one database{about}."
    conformance.__doc__ = f"django-import-export's own tests, compared with stock{about}."
    spec = PASSES[pass_name]
    nox.session(name=f"tests{suffix}", venv_backend="none", tags=tags)(
        nox.parametrize("db", list(spec.databases))(tests)
    )
    nox.session(name=f"conformance{suffix}", venv_backend="none", tags=tags)(
        nox.parametrize("db", list(spec.conformance_databases))(conformance)
    )


@nox.session(tags=["main"])
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", "admin_bulk_upsert", "tests", "demo_site", "noxfile.py")
    session.run(
        "ruff", "format", "--check", "admin_bulk_upsert", "tests", "demo_site", "noxfile.py"
    )


@nox.session(tags=["main"])
def package(session: nox.Session) -> None:
    """Build, twine check --strict, and the wheel installed in a new environment."""
    session.install("build>=1.2", "twine>=6")
    workdir = Path(tempfile.mkdtemp(prefix="admin-bulk-upsert-package-"))
    try:
        dist = workdir / "dist"
        # Its output (every file added) is shown only if the build fails.
        session.run("python", "-m", "build", "--outdir", str(dist), str(ROOT), silent=True)
        built = sorted(str(path) for path in dist.iterdir())
        session.run("twine", "check", "--strict", *built)
        wheel = next(path for path in built if path.endswith(".whl"))
        clean = workdir / "venv"
        session.run("python", "-m", "venv", str(clean))
        pip = [str(clean / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
        session.run(*pip, "install", "--quiet", wheel, external=True)
        with session.chdir(workdir):  # outside the checkout: the wheel's package is imported
            session.run(
                str(clean / "bin" / "python"),
                str(ROOT / "tests" / "check_installed.py"),
                external=True,
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@nox.session(venv_backend="none", tags=["main"])
def docs(session: nox.Session) -> None:
    """The documentation site, built with warnings as errors."""
    if not (ROOT / "docs" / "conf.py").exists():
        session.skip("no docs/conf.py")
    python = _environment(session, "")
    with tempfile.TemporaryDirectory(prefix="admin-bulk-upsert-docs-") as out:
        session.run(python, "-m", "sphinx", "-W", "-q", "-b", "html", "docs", out, external=True)


for _pass_name in PASSES:
    _register(_pass_name)
