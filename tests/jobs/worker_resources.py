"""Resources the worker tests import with (by dotted path, as a job names its resource)."""

from __future__ import annotations

import time

from import_export.fields import Field
from import_export.widgets import ForeignKeyWidget

from admin_bulk_upsert import BulkUpsertResource
from tests.testapp.models import Account, LooseTransaction


class LooseTransactionResource(BulkUpsertResource):
    """``LooseTransaction`` by account number; no database constraint guards its key.

    ``pause_per_chunk`` (seconds, a resource argument of the job) waits after
    each chunk, inside the import's transaction, so that an import of a few
    thousand rows lasts seconds on any machine: long enough for a test to watch
    its progress, cancel it or kill its worker mid-way.
    """

    account = Field(
        attribute="account", column_name="account", widget=ForeignKeyWidget(Account, "number")
    )

    class Meta:
        model = LooseTransaction
        fields = ("account", "datetime", "amount", "description")
        import_id_fields = ("account", "datetime", "amount")

    def __init__(self, pause_per_chunk: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.pause_per_chunk = pause_per_chunk

    def import_data(self, dataset, *args, progress=None, **kwargs):
        if progress is not None and self.pause_per_chunk:
            report = progress

            def progress(done, total):
                time.sleep(self.pause_per_chunk)
                report(done, total)

        return super().import_data(dataset, *args, progress=progress, **kwargs)
