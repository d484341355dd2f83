"""``BulkUpsertResource``: django-import-export's ``ModelResource``, chunk by chunk.

Subclass it exactly like ``ModelResource``. Rows are processed in chunks of
``Meta.batch_size`` (:mod:`.engine.import_run`): per chunk, one query finds
the stored records of every row by ``import_id_fields`` (:mod:`.engine.lookup`),
one query per foreign-key column resolves natural keys (:mod:`.engine.prefetch`),
the rows go through DIE's hooks in stock order (:mod:`.engine.planning`) and the
chunk is written in bulk (:mod:`.engine.bulk_write`), with ``pre_save`` and
``post_save`` sent per row around the write for a model with receivers
(:mod:`.engine.save_signals`), or, for a model whose ``save()`` does real work,
saved row by row with ``save()`` (:mod:`.engine.per_row_save`). The outcome (database state,
totals, failed rows and their messages) is the one stock DIE reaches row by row.

Where a resource customises what the bulk path cannot reproduce (its own
``import_row``, ``get_instance``, ``save_instance``, ``do_instance_save``,
``for_delete``, ``use_bulk``, a multi-table model), the import runs the stock
row-by-row path instead and logs why (:mod:`.engine.stock_fallback`).

This module is the public face: the class DIE calls and its options. The
machinery lives in :mod:`admin_bulk_upsert.engine`, whose modules take the
resource as an argument and may change between releases.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from django.db.models import Model
from import_export.resources import ModelResource
from import_export.results import Result, RowResult
from import_export.utils import atomic_if_using_transaction
from import_export.widgets import ManyToManyWidget

from .conf import UNDECLARED, declared_option, get_config
from .engine import import_lock, stock_fallback, validation
from .engine.chunk_changes import ChunkWrittenCallback
from .engine.import_run import import_chunks
from .engine.instances import import_instance_keeping_pk
from .engine.keys import KeySpec
from .engine.results import LazyDiffRowResult, RowConsumer, streaming_result_class
from .engine.write_mode import WritePath, write_path

__all__ = ["BulkUpsertResource", "bulk_resource_factory"]

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


class BulkUpsertResource(ModelResource):
    """A ``ModelResource`` that looks up and saves rows in bulk, with stock's outcome.

    Extra options:

    * ``Meta.batch_size``: rows per chunk (default: the ``BATCH_SIZE`` setting, 1000);
    * ``Meta.allowed_import_id_fields``: fields a user may choose as the key of
      one import (default: every field mapped to a plain model column);
    * ``Meta.bulk_writes``: ``"auto"`` (default), ``"always"`` or ``"never"``:
      whether rows are written in bulk or through ``Model.save()`` per row
      (:mod:`.engine.write_mode`).

    The key of one import can be chosen with ``unique_fields=[...]``, given to
    the constructor or to :meth:`import_data`.
    """

    # Class-level defaults: DIE's documentation shows resources whose
    # ``__init__`` does not call ``super().__init__()``, and stock imports
    # with them.
    _unique_fields: list[str] | None = None
    _progress: Progress | None = None
    _store_instance: bool = False
    _row_consumer: RowConsumer | None = None
    _on_chunk_written: ChunkWrittenCallback | None = None
    _lock_timeout: float | None = None

    def __init__(self, unique_fields: Sequence[str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if unique_fields:
            self.set_unique_fields(unique_fields)

    # -- key and chunk configuration -------------------------------------------------

    def get_allowed_import_id_fields(self) -> list[str]:
        """Fields the key may be chosen among for one import."""
        declared = getattr(self._meta, "allowed_import_id_fields", None)
        if declared is not None:
            return list(declared)
        model = self._meta.model
        columns = {f.name for f in model._meta.concrete_fields} | {"pk", "id"}
        allowed = [
            name
            for name, field in self.fields.items()
            if field.attribute in columns and not isinstance(field.widget, ManyToManyWidget)
        ]
        for name in self._meta.import_id_fields:
            if name not in allowed:
                allowed.append(name)
        return allowed

    def set_unique_fields(self, unique_fields: Sequence[str]) -> None:
        """Choose the key of the next imports among :meth:`get_allowed_import_id_fields`."""
        allowed = self.get_allowed_import_id_fields()
        chosen = list(unique_fields)
        unknown = [name for name in chosen if name not in allowed]
        if not chosen or unknown:
            raise ValueError(
                f"unique_fields {chosen!r} must be a non-empty choice among {allowed!r}"
            )
        self._unique_fields = chosen

    def get_import_id_fields(self) -> list[str]:
        if self._unique_fields:
            return list(self._unique_fields)
        return list(self._meta.import_id_fields)

    def get_batch_size(self) -> int:
        """Rows per chunk: ``Meta.batch_size`` if declared, else the setting."""
        declared = declared_option(type(self), "batch_size")
        return get_config().BATCH_SIZE if declared is UNDECLARED else int(declared)

    @classmethod
    def stock_path_reason(cls) -> str | None:
        """Why this resource must be imported row by row by stock DIE, or ``None``.

        See :mod:`.engine.stock_fallback`.
        """
        return stock_fallback.stock_path_reason(cls, BulkUpsertResource)

    #: Stock's, except that a blank ``id`` cell leaves a found record its pk.
    import_instance = import_instance_keeping_pk

    def write_path(self) -> WritePath:
        """How this import writes rows (bulk, bulk with the save signals, ``save()``), and why.

        Read once per import: see :mod:`.engine.write_mode` and ``Meta.bulk_writes``.
        """
        return write_path(type(self), self._meta.model)

    @classmethod
    def get_row_result_class(cls) -> type[RowResult]:
        return LazyDiffRowResult

    # -- validation ------------------------------------------------------------------

    def validate_instance(
        self,
        instance: Model,
        import_validation_errors: dict[str, Any] | None = None,
        validate_unique: bool = True,
    ) -> None:
        """Stock's validation; with ``validate_unique=False`` no per-row query at all.

        The bulk path passes ``validate_unique=False``: uniqueness and
        constraints are then enforced by the database at write time, and a
        chunk it refuses is replayed row by row with full stock validation,
        so the failing row gets stock's message. Foreign keys that were just
        fetched are not fetched again to check they exist (:mod:`.engine.validation`).
        """
        validation.validate_instance(self, instance, import_validation_errors, validate_unique)

    # -- import ----------------------------------------------------------------------

    def import_data(  # type: ignore[override]
        self,
        dataset: Any,
        dry_run: bool = False,
        raise_errors: bool = False,
        use_transactions: bool | None = None,
        collect_failed_rows: bool = False,
        rollback_on_validation_errors: bool = False,
        *,
        unique_fields: Sequence[str] | None = None,
        progress: Progress | None = None,
        row_consumer: RowConsumer | None = None,
        on_chunk_written: ChunkWrittenCallback | None = None,
        lock_timeout: float | None = None,
        before_transaction_end: Callable[[Result], None] | None = None,
        **kwargs: Any,
    ) -> Result:
        """Stock ``import_data``, plus ``unique_fields`` and a ``progress(done, total)`` callback.

        With ``row_consumer``, the result is a :class:`~.engine.results.StreamingResult`:
        each row's result goes to the consumer as its chunk is recorded and is
        not kept, so that memory does not grow with the file. ``dataset`` may
        then be a :class:`~.files.streaming.StreamedDataset`, read chunk by
        chunk. Without it, the result is stock's, with every row.

        With ``on_chunk_written``, a real import (not a dry run) calls it after
        each chunk's write, inside the import's transaction, with a
        :class:`~.engine.chunk_changes.ChunkWritten`: the pks the chunk created, the values
        it overwrote and wrote, the many-to-many links it changed. Resources
        imported row by row by stock DIE (:meth:`stock_path_reason`) never
        call it.

        With ``before_transaction_end``, it is called with the result once every
        row and ``after_import`` are done, inside the import's transaction,
        before stock commits it or rolls it back: what must be kept only if
        the import is (a job's report, say) is written there, and an
        exception it raises rolls the import back and propagates.

        The import holds a per-model lock (:mod:`.engine.import_lock`), so that two
        imports of the same model run one after the other; it waits for another
        import's lock up to ``lock_timeout`` seconds (default: the ``LOCK_TIMEOUT``
        setting), then raises :class:`~.engine.import_lock.ImportLockTimeout`.
        On PostgreSQL the lock is taken inside the import's transaction (and so
        released with it, which a pooler in transaction mode needs); on
        MariaDB/MySQL around it.
        """
        if unique_fields:
            self.set_unique_fields(unique_fields)
        self._progress = progress
        self._row_consumer = row_consumer
        self._on_chunk_written = on_chunk_written
        self._lock_timeout = get_config().LOCK_TIMEOUT if lock_timeout is None else lock_timeout

        self._before_transaction_end = before_transaction_end
        using = self.get_db_connection_name()
        with import_lock.lock_around_transaction(self._meta.model, using, self._lock_timeout):
            return super().import_data(  # type: ignore[no-any-return]
                dataset,
                dry_run=dry_run,
                raise_errors=raise_errors,
                use_transactions=use_transactions,
                collect_failed_rows=collect_failed_rows,
                rollback_on_validation_errors=rollback_on_validation_errors,
                **kwargs,
            )

    def import_data_inner(
        self,
        dataset: Any,
        dry_run: bool,
        raise_errors: bool,
        using_transactions: bool,
        collect_failed_rows: bool,
        **kwargs: Any,
    ) -> Result:
        """Stock's, chunk by chunk; first thing in the import's transaction, the model's lock."""
        using = self.get_db_connection_name()
        timeout = get_config().LOCK_TIMEOUT if self._lock_timeout is None else self._lock_timeout
        with import_lock.lock_in_transaction(self._meta.model, using, timeout):
            return self._import_inner(
                dataset, dry_run, raise_errors, using_transactions, collect_failed_rows, **kwargs
            )

    def _import_inner(
        self,
        dataset: Any,
        dry_run: bool,
        raise_errors: bool,
        using_transactions: bool,
        collect_failed_rows: bool,
        **kwargs: Any,
    ) -> Result:
        reason = self.stock_path_reason()
        if reason is not None:
            logger.info("Importing %s row by row: %s", self._meta.model.__name__, reason)
            return self._import_row_by_row(
                dataset, dry_run, raise_errors, using_transactions, collect_failed_rows, **kwargs
            )

        path = self.write_path()
        logger.info("Importing %s with %s", self._meta.model.__name__, path.describe())
        with streaming_result_class(self, self._row_consumer):
            result = self.get_result_class()()
        result.diff_headers = self.get_diff_headers()
        result.total_rows = len(dataset)
        using = self.get_db_connection_name()
        try:
            with atomic_if_using_transaction(using_transactions, using=using):
                self.before_import(dataset, **kwargs)
            self._check_import_id_fields(dataset.headers)
        except Exception as exc:
            self.handle_import_error(result, exc, raise_errors)
        result.total_rows = total = len(dataset)
        if collect_failed_rows:
            result.add_dataset_headers(dataset.headers)
        # Stock sets Meta.store_instance for good when the admin asks to retain
        # instances, and every later import of the resource keeps them all in
        # memory; here the request holds for this import only.
        self._store_instance = bool(
            self._meta.store_instance or kwargs.get("retain_instance_in_row_result", False)
        )

        kwargs.update({"dry_run": dry_run, "using_transactions": using_transactions})
        spec = self._key_spec(dataset.headers, using)
        write = using_transactions or not dry_run
        import_chunks(
            self,
            dataset,
            result,
            spec,
            kwargs,
            write=write,
            using=using,
            raise_errors=raise_errors,
            collect_failed_rows=collect_failed_rows,
            write_how=path.how,
            progress=lambda done: self._report_progress(done, total),
        )

        try:
            with atomic_if_using_transaction(using_transactions, using=using):
                self.after_import(dataset, result, **kwargs)
        except Exception as exc:
            self.handle_import_error(result, exc, raise_errors)
        self._transaction_ends(result)
        return result

    def _transaction_ends(self, result: Result) -> None:
        callback = getattr(self, "_before_transaction_end", None)
        if callback is not None:
            callback(result)

    # -- the stages ------------------------------------------------------------------

    def _import_row_by_row(
        self,
        dataset: Any,
        dry_run: bool,
        raise_errors: bool,
        using_transactions: bool,
        collect_failed_rows: bool,
        **kwargs: Any,
    ) -> Result:
        """Stock's ``import_data_inner``, for a resource of :mod:`.engine.stock_fallback`."""
        with streaming_result_class(self, self._row_consumer):
            result = super().import_data_inner(
                dataset,
                dry_run,
                raise_errors,
                using_transactions,
                collect_failed_rows,
                **kwargs,
            )
        self._report_progress(len(dataset), len(dataset))
        self._transaction_ends(result)
        return result  # type: ignore[no-any-return]

    def _key_spec(self, headers: Sequence[str] | None, using: str) -> KeySpec | None:
        """The key used for lookups, or ``None`` when every row is new.

        Stock initialises a new instance without lookup when
        ``force_init_instance`` is set or a key column is missing from the file.
        """
        if self._meta.force_init_instance:
            return None
        names = self.get_import_id_fields()
        present = set(headers or ())
        for name in names:
            field = self.fields.get(name)
            if field is None or field.column_name not in present:
                return None
        return KeySpec.build(self, names, using)

    def _report_progress(self, done: int, total: int) -> None:
        progress = self._progress
        if progress is not None:
            progress(done, total)


def bulk_resource_factory(
    model: type[Model],
    unique_fields: Sequence[str] | None = None,
    fields: Sequence[str] | None = None,
    batch_size: int | None = None,
    resource_class: type[BulkUpsertResource] = BulkUpsertResource,
) -> type[BulkUpsertResource]:
    """A ``BulkUpsertResource`` subclass for ``model``, keyed on ``unique_fields``."""
    meta_attrs: dict[str, Any] = {"model": model}
    if fields is not None:
        meta_attrs["fields"] = tuple(fields)
    if unique_fields:
        meta_attrs["import_id_fields"] = list(unique_fields)
    if batch_size is not None:
        meta_attrs["batch_size"] = batch_size
    meta = type("Meta", (), meta_attrs)
    name = f"{model.__name__}BulkUpsertResource"
    return type(resource_class)(
        name, (resource_class,), {"Meta": meta, "__module__": resource_class.__module__}
    )
