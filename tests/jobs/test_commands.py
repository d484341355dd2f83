"""``bulk_import --background [--wait]`` and ``import_jobs``: jobs from the command line."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError, OutputWrapper
from django.utils import timezone

from admin_bulk_upsert import BulkUpsertResource
from admin_bulk_upsert.jobs import transitions
from admin_bulk_upsert.jobs.compat import DUMMY_BACKEND, IMMEDIATE_BACKEND
from admin_bulk_upsert.jobs.models import ImportJob
from admin_bulk_upsert.management import job_waiting
from tests.testapp.models import Product

pytestmark = pytest.mark.django_db(transaction=True)

IMMEDIATE = {"default": {"BACKEND": IMMEDIATE_BACKEND}}
QUEUE_ONLY = {"default": {"BACKEND": DUMMY_BACKEND}}


class ProductResource(BulkUpsertResource):
    class Meta:
        model = Product
        fields = ("sku", "name", "price")
        import_id_fields = ("sku",)


@pytest.fixture(autouse=True)
def job_folder(settings, tmp_path):
    settings.ADMIN_BULK_UPSERT = {"STAGING_DIR": str(tmp_path / "jobs"), "BATCH_SIZE": 2}
    settings.TASKS = IMMEDIATE
    return tmp_path / "jobs"


def stored_files(folder):
    return sorted(path.name for path in folder.rglob("*") if path.is_file())


def write_csv(tmp_path, *rows, name="products.csv"):
    path = tmp_path / name
    path.write_text("sku,name,price\n" + "".join(f"{row}\n" for row in rows), encoding="utf-8")
    return path


def run(*args):
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command(*map(str, args), stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def run_failing(*args):
    stdout = io.StringIO()
    with pytest.raises(CommandError) as info:
        call_command(*map(str, args), stdout=stdout, stderr=io.StringIO())
    return info.value, stdout.getvalue()


# --- bulk_import --background ---------------------------------------------------------


def test_background_queues_a_job_and_prints_its_id(settings, tmp_path, job_folder):
    settings.TASKS = QUEUE_ONLY  # no worker: the job stays queued
    path = write_csv(tmp_path, "A,a,1.00", "B,b,2.00")

    stdout, _ = run(
        "bulk_import", "testapp.Product", path, "--background", "--unique-fields", "sku"
    )

    job = ImportJob.objects.get()
    assert stdout == f"Queued import job {job.pk} for {path}.\n"
    assert (job.state, job.model_label, job.resource_path) == ("confirmed", "testapp.Product", "")
    assert (job.file_name, job.input_format, job.unique_fields) == ("products.csv", "csv", ["sku"])
    assert job.file.open("rb").read() == path.read_bytes()
    assert (job.user_pk, job.admin_site) == ("", "")
    assert Product.objects.count() == 0


def test_background_quiet_prints_the_id_alone_and_dry_run_previews(settings, tmp_path):
    settings.TASKS = QUEUE_ONLY
    path = write_csv(tmp_path, "A,a,1.00", name="rows.txt")

    stdout, _ = run(
        "bulk_import",
        "tests.jobs.test_commands.ProductResource",
        path,
        "--background",
        "--dry-run",
        "--format",
        "csv",
        "--verbosity",
        "0",
    )

    job = ImportJob.objects.get()
    assert stdout == f"{job.pk}\n"
    assert (job.state, job.resource_path, job.input_format) == (
        "queued",
        "tests.jobs.test_commands.ProductResource",
        "csv",
    )
    assert job.unique_fields == []  # the resource's own key


def test_background_wait_prints_the_final_counts(tmp_path):
    Product.objects.create(sku="A", name="old", price="1.00")
    path = write_csv(tmp_path, "A,new,1.00", "B,b,2.00", "C,c,3.00")

    stdout, _ = run(
        "bulk_import", "testapp.Product", path, "--unique-fields", "sku", "--background", "--wait"
    )

    job = ImportJob.objects.get()
    assert stdout.splitlines()[-2:] == [
        f"Import job {job.pk}, done: 3 rows from products.csv in {job.import_seconds:.1f} s: "
        "2 new, 1 updated, 0 skipped, 0 invalid, 0 errors.",
        "Import complete.",
    ]
    assert sorted(Product.objects.values_list("sku", "name")) == [
        ("A", "new"),
        ("B", "b"),
        ("C", "c"),
    ]


def test_background_dry_run_wait_saves_nothing(tmp_path):
    path = write_csv(tmp_path, "A,a,1.00")

    stdout, _ = run(
        "bulk_import", "testapp.Product", path, "--unique-fields", "sku", "--background",
        "--wait", "--dry-run",
    )  # fmt: skip

    assert "previewed: 1 rows from products.csv" in stdout
    assert stdout.endswith(
        "1 new, 0 updated, 0 skipped, 0 invalid, 0 errors.\nDry run: nothing was saved.\n"
    )
    assert Product.objects.count() == 0


def test_failed_rows_exit_with_status_2_and_save_nothing(tmp_path):
    path = write_csv(tmp_path, "A,a,1.00", "B,b,not a price", "C,c,3.00")

    error, stdout = run_failing(
        "bulk_import", "testapp.Product", path, "--unique-fields", "sku", "--background", "--wait"
    )

    job = ImportJob.objects.get()
    assert job.state == "failed"
    assert error.returncode == job_waiting.ROWS_FAILED
    assert str(error).endswith(f"1 row failed (import job {job.pk}).")
    assert "  row 2, column “price” ('not a price'): " in stdout
    assert Product.objects.count() == 0  # a job imports all or nothing


def test_a_job_that_cannot_run_exits_with_status_1(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("sku,name,price\n", encoding="utf-8")

    error, _ = run_failing(
        "bulk_import", "testapp.Product", path, "--unique-fields", "sku", "--background", "--wait"
    )

    assert error.returncode == 1
    assert str(error) == "The file has a header row but no data rows."


def test_wait_needs_background_and_batch_size_is_refused(tmp_path):
    path = write_csv(tmp_path, "A,a,1.00")
    error, _ = run_failing("bulk_import", "testapp.Product", path, "--wait")
    assert str(error) == "--wait follows a background job: add --background."
    error, _ = run_failing(
        "bulk_import", "testapp.Product", path, "--background", "--batch-size", "10"
    )
    assert str(error).startswith("--batch-size cannot be used with --background")
    assert not ImportJob.objects.exists()


def test_ctrl_c_stops_waiting_only(settings, tmp_path, monkeypatch):
    settings.TASKS = QUEUE_ONLY

    def interrupt(seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr(job_waiting.time, "sleep", interrupt)
    path = write_csv(tmp_path, "A,a,1.00")

    error, stdout = run_failing(
        "bulk_import", "testapp.Product", path, "--unique-fields", "sku", "--background", "--wait"
    )

    job = ImportJob.objects.get()
    assert f"Import job {job.pk} is queued: waiting for a worker" in stdout
    assert error.returncode == job_waiting.INTERRUPTED
    assert str(error) == (
        f"Stopped waiting; import job {job.pk} goes on. Follow it again with "
        f"“manage.py import_jobs wait {job.pk}”, or cancel it with "
        f"“manage.py import_jobs cancel {job.pk}”."
    )
    assert job.state == "confirmed"


# --- import_jobs ------------------------------------------------------------------------


def queued_job(data=b"sku,name,price\nA,a,1.00\n", **kwargs):
    return transitions.create_job(
        data,
        user=None,
        model_label="testapp.Product",
        file_name="products.csv",
        input_format="csv",
        unique_fields=["sku"],
        **kwargs,
    )


def test_wait_draws_the_jobs_progress_as_lines_off_a_terminal(settings):
    settings.TASKS = QUEUE_ONLY
    job = queued_job()
    now = timezone.now()
    steps = iter(
        [
            {"state": "importing", "step_started_at": now, "rows_total": 4, "rows_done": 0},
            {"rows_done": 2},
            {"state": "done", "rows_done": 4, "new_rows": 4, "import_seconds": 1.0},
        ]
    )

    def worker_moves_on(seconds):
        ImportJob.objects.filter(pk=job.pk).update(**next(steps))

    stdout, stderr = io.StringIO(), io.StringIO()
    ended = job_waiting.follow(
        job.pk, stdout=OutputWrapper(stdout), stderr=OutputWrapper(stderr), sleep=worker_moves_on
    )

    assert ended.state == "done"
    assert stdout.getvalue().splitlines() == [
        f"Import job {job.pk} is queued: waiting for a worker (is one running for the task "
        "backend?).",
        f"Import job {job.pk}: importing.",
        f"Import job {job.pk}: done.",
    ]
    lines = stderr.getvalue().splitlines()
    assert [line.split(" rows (")[0] for line in lines] == [
        "[------------------------------] 0/4",
        "[###############---------------] 2/4",
    ]
    assert lines[1].endswith(" left")


def test_cancel_a_queued_job(settings):
    settings.TASKS = QUEUE_ONLY
    job = queued_job()

    stdout, _ = run("import_jobs", "cancel", job.pk)

    assert stdout == f"Import job {job.pk} cancelled.\n"
    job.refresh_from_db()
    assert job.state == "cancelled"
    error, _ = run_failing("import_jobs", "cancel", job.pk)
    assert str(error) == "This import has ended already."


def test_list_shows_the_latest_jobs(settings):
    settings.TASKS = QUEUE_ONLY
    first, second = queued_job(), queued_job(preview=False)

    stdout, _ = run("import_jobs", "list")

    lines = stdout.splitlines()
    assert [int(line.split()[0]) for line in lines] == [second.pk, first.pk]
    assert "queued for import" in lines[0]
    assert lines[0].endswith("testapp.Product  products.csv  -")


def test_cleanup(settings, job_folder):
    settings.TASKS = QUEUE_ONLY
    now = timezone.now()
    long_ago = now - datetime.timedelta(days=31)
    # A preview nobody confirmed within STAGING_MAX_AGE: cancelled, its upload deleted.
    unconfirmed = queued_job()
    ImportJob.objects.filter(pk=unconfirmed.pk).update(
        state="previewed", created_at=now - datetime.timedelta(hours=2)
    )
    # A worker that went silent mid-import: declared failed (its upload kept for a re-run).
    silent = queued_job(preview=False)
    ImportJob.objects.filter(pk=silent.pk).update(
        state="importing", heartbeat_at=now - datetime.timedelta(minutes=5)
    )
    # A job that ended 31 days ago, with its report: deleted with the report.
    old = queued_job()
    report = "jobs/old.report.csv"
    (job_folder / report).write_text("row,outcome,changed_columns,error\n")
    ImportJob.objects.filter(pk=old.pk).update(
        state="done", finished_at=long_ago, created_at=long_ago, report=report
    )
    recent = queued_job()  # waiting for a worker: untouched
    assert len(stored_files(job_folder)) == 5
    # Undo data older than UNDO_MAX_AGE_DAYS goes; younger is kept.
    from admin_bulk_upsert.jobs.undo import UndoChunk

    for number, created_at in enumerate((long_ago, now), start=1):
        UndoChunk.objects.create(
            job_id=old.pk, number=number, model_label="x.y", created_at=created_at, data=b""
        )

    stdout, _ = run("import_jobs", "cleanup")

    assert stdout == (
        "1 previews expired, 1 silent jobs declared failed, 1 old jobs deleted, "
        "3 stored files deleted, 1 chunks of expired undo data deleted.\n"
    )
    assert list(UndoChunk.objects.values_list("number", flat=True)) == [2]
    states = dict(ImportJob.objects.values_list("pk", "state"))
    assert states == {unconfirmed.pk: "cancelled", silent.pk: "failed", recent.pk: "queued"}
    silent.refresh_from_db()
    recent.refresh_from_db()
    assert "stopped responding" in silent.failure
    assert stored_files(job_folder) == sorted(
        name.rsplit("/", 1)[-1] for name in (silent.file.name, recent.file.name)
    )


def test_the_cleanup_task_runs_on_the_task_backend(job_folder):
    from admin_bulk_upsert.jobs.tasks import delete_expired_jobs

    result = delete_expired_jobs.enqueue()

    assert result.return_value == {
        "expired": 0,
        "failed": 0,
        "deleted": 0,
        "files": 0,
        "undo_chunks": 0,
    }
