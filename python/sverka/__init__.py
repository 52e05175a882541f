"""sverka: reconcile payment instructions with provider settlements, exactly.

The engine of the ``sverka`` command line, in-process: the same rules
(``CONTRACT.md`` version 2), the same output folder, byte for byte, and the same
messages. The engine runs with the GIL released; Arrow data crosses the C data
interface without copies.

- :func:`reconcile` a payroll's instructions with what providers sent back, into an
  output folder; returns the run's :class:`Summary` (``summary.json``).
- :func:`read_results` of a folder as ``pyarrow.Table`` objects.
- :func:`verify` a folder the way an auditor does (``sverka verify``).
- :func:`disburse` an approved payroll into provider payment files.

Inputs are paths (files or folders, as on the command line) or tables: any object with
``__arrow_c_stream__`` (a ``pyarrow.Table`` or ``RecordBatchReader``, a Polars or
pandas >= 2.2 ``DataFrame``, ...). A pandas frame without it is converted with
``pyarrow.Table.from_pandas``, and a list of row mappings (a Django queryset's
``.values()``, with ``Decimal`` amounts and ``date`` due dates) with
``pyarrow.Table.from_pylist``. A table is written as an Arrow IPC file (into
``inputs_dir``, or a temporary folder removed after the run) and read from there, so
that ``summary.json`` records its SHA-256 like any input's.

Amounts are never floats: a table's amounts must be text, decimals or integer whole
units, as in a Parquet input (a float column is refused with :class:`InputError`), and
``summary.json``'s amounts are exact decimal strings (use :class:`decimal.Decimal`).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional, Sequence, Union

from . import _native
from ._native import InputError, InternalError, OutputError, SverkaError

__version__: str = _native.VERSION

__all__ = [
    "reconcile",
    "read_results",
    "verify",
    "disburse",
    "Summary",
    "DisbursementSummary",
    "Results",
    "Verification",
    "SverkaError",
    "InputError",
    "OutputError",
    "InternalError",
    "__version__",
]

PathLike = Union[str, "os.PathLike[str]"]

# Text columns of the row outputs with few distinct values: `read_results(...,
# categories=True)` reads them as dictionaries (pandas categoricals).
_CATEGORIES = (
    "currency",
    "status",
    "flags",
    "match_method",
    "program",
    "cycle",
    "provider",
    "side",
    "reason",
    "file",
    "format",
    "action",
    "outcome",
    "status_before",
    "status_after",
)


class _JsonMapping(Mapping):
    """A read-only mapping over a JSON object sverka wrote."""

    __slots__ = ("_data",)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


class Summary(_JsonMapping):
    """A run's ``summary.json`` as a read-only mapping: ``summary == json.load(f)``.

    Besides the mapping (``summary["counts"]["by_status"]``), a few typed views:
    :attr:`counts`, :attr:`totals`, :meth:`count`; and what the run did, which is not
    in the file: :attr:`out_dir`, :attr:`written` (file names), :attr:`warnings` and
    :attr:`timings` (seconds per stage). Amounts are exact decimal strings.
    """

    __slots__ = ("out_dir", "written", "warnings", "timings")

    def __init__(
        self,
        data: Mapping[str, Any],
        *,
        out_dir: PathLike,
        written: Sequence[str] = (),
        warnings: Sequence[str] = (),
        timings: Iterable[tuple[str, float]] = (),
    ) -> None:
        self._data = dict(data)
        self.out_dir = Path(out_dir)
        self.written = tuple(written)
        self.warnings = tuple(warnings)
        self.timings = dict(timings)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(out_dir={str(self.out_dir)!r}, keys={list(self._data)!r})"

    def to_dict(self) -> dict[str, Any]:
        """A deep copy as plain dicts and lists (what ``json.load`` gives)."""
        return json.loads(json.dumps(self._data))

    @property
    def counts(self) -> dict[str, Any]:
        """Row counts: read, accepted, rejected, and by status, flag and match."""
        return self._data["counts"]

    @property
    def totals(self) -> dict[str, dict[str, Any]]:
        """Per currency code: counts and exact amounts (decimal strings)."""
        return self._data["totals"]

    def count(self, name: str) -> int:
        """Instructions with status ``name``, rows with flag ``name``, or, for
        ``"rejects"``, rejected rows: what ``sverka reconcile --fail-on`` counts."""
        c = self._data["counts"]
        if name == "rejects":
            return c["rejects"]["instructions"] + c["rejects"]["settlements"]
        return c["by_status"].get(name) or c["by_flag"].get(name, 0)


class DisbursementSummary(Summary):
    """A disbursement's ``summary.json``, with :attr:`issued` (instructions issued by
    this run) and :attr:`notes` (what the operator must read, as the CLI prints them)."""

    __slots__ = ("issued", "notes")

    def __init__(self, data: Mapping[str, Any], *, issued: int, notes: Sequence[str], **kw: Any):
        super().__init__(data, **kw)
        self.issued = issued
        self.notes = tuple(notes)


class Results:
    """A reconciliation folder read back (:func:`read_results`).

    ``instructions``, ``settlements`` and ``rejects`` are ``pyarrow.Table`` objects with
    the contract's columns; ``decisions`` is one too when the run had decisions, else
    ``None``; ``summary`` is the folder's :class:`Summary`, ``manifest`` its
    ``manifest.json``.
    """

    __slots__ = ("out_dir", "instructions", "settlements", "rejects", "decisions", "summary", "manifest")

    def __init__(self, out_dir: Path, tables: dict[str, Any], summary: Summary, manifest: Optional[dict]):
        self.out_dir = out_dir
        self.instructions = tables["instructions"]
        self.settlements = tables["settlements"]
        self.rejects = tables["rejects"]
        self.decisions = tables.get("decisions")
        self.summary = summary
        self.manifest = manifest

    def __repr__(self) -> str:
        d = "" if self.decisions is None else f", decisions={self.decisions.num_rows}"
        return (
            f"Results({str(self.out_dir)!r}, instructions={self.instructions.num_rows}, "
            f"settlements={self.settlements.num_rows}, rejects={self.rejects.num_rows}{d})"
        )


class Verification(_JsonMapping):
    """What :func:`verify` found, as the mapping ``sverka verify --json`` prints.

    :attr:`ok` is true when everything holds (the CLI's exit 0);
    :attr:`discrepancies` lists what does not; :meth:`check` raises
    :class:`VerificationError` when something does not hold.
    """

    __slots__ = ("_text",)

    def __init__(self, data: Mapping[str, Any], text: str = ""):
        self._data = dict(data)
        self._text = text

    @property
    def discrepancies(self) -> list[dict[str, Any]]:
        return self._data.get("discrepancies", [])

    @property
    def ok(self) -> bool:
        return bool(self._data.get("ok")) and not self.discrepancies

    @property
    def text(self) -> str:
        """The report as ``sverka verify`` prints it."""
        return self._text

    def check(self) -> "Verification":
        """Returns self when everything holds, else raises :class:`VerificationError`."""
        if not self.ok:
            lines = [
                f"{d['file']}: {d['field']}: expected {d['expected']}, found {d['found']}"
                for d in self.discrepancies[:20]
            ]
            raise VerificationError(
                f"{len(self.discrepancies)} discrepancies:\n" + "\n".join(lines), self
            )
        return self

    def __repr__(self) -> str:
        return f"Verification(ok={self.ok}, discrepancies={len(self.discrepancies)})"


class VerificationError(SverkaError):
    """A folder that :func:`verify` found discrepancies in (the CLI's exit 1)."""

    def __init__(self, message: str, verification: Verification):
        super().__init__(message)
        self.verification = verification


__all__.append("VerificationError")


def _is_table(x: Any) -> bool:
    return hasattr(x, "__arrow_c_stream__") or _is_pandas(x)


def _is_rows(x: Any) -> bool:
    """A list of row mappings (a Django queryset's ``.values()``, say): the first row
    decides, as it does for ``pyarrow.Table.from_pylist``."""
    return isinstance(x, (list, tuple)) and len(x) > 0 and isinstance(x[0], Mapping)


def _is_pandas(x: Any) -> bool:
    return type(x).__module__.startswith("pandas") and hasattr(x, "to_dict")


class _Inputs:
    """Paths for the engine: paths as given, tables written as Arrow IPC files into
    ``inputs_dir`` (or a temporary folder, removed by :meth:`close`)."""

    def __init__(self, inputs_dir: Optional[PathLike]):
        self._given = inputs_dir
        self._dir: Optional[Path] = None
        self._temp = False
        self._n = 0

    def _folder(self) -> Path:
        if self._dir is None:
            if self._given is None:
                self._dir = Path(tempfile.mkdtemp(prefix="sverka-inputs-"))
                self._temp = True
            else:
                self._dir = Path(self._given)
                self._dir.mkdir(parents=True, exist_ok=True)
        return self._dir

    def one(self, x: Any, side: str, provider: Optional[str] = None) -> Path:
        if isinstance(x, (str, os.PathLike)):
            p = Path(x)
        elif _is_table(x):
            if not hasattr(x, "__arrow_c_stream__"):
                import pyarrow as pa

                x = pa.Table.from_pandas(x, preserve_index=False)
            self._n += 1
            p = self._folder() / f"{side}-{self._n}.arrow"
            _native.write_arrow_file(x, p)
        else:
            raise TypeError(
                f"{side}: expected a path or a table with __arrow_c_stream__, got {type(x).__name__}"
            )
        return Path(f"{provider}={p}") if provider is not None else p

    def many(self, xs: Any, side: str) -> list[Path]:
        if xs is None:
            return []
        if _is_rows(xs):
            import pyarrow as pa

            return [self.one(pa.Table.from_pylist(list(xs)), side)]
        if isinstance(xs, Mapping):
            return [self.one(v, side, provider=str(k)) for k, v in xs.items()]
        if isinstance(xs, (str, os.PathLike)) or _is_table(xs):
            return [self.one(xs, side)]
        return [self.one(x, side) for x in xs]

    def close(self) -> None:
        if self._temp and self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)


def _opt_path(p: Optional[PathLike]) -> Optional[Path]:
    return None if p is None else Path(p)


def reconcile(
    instructions: Any,
    settlements: Any,
    out: PathLike,
    *,
    providers: Optional[PathLike] = None,
    decisions: Any = None,
    csv: bool = False,
    threads: Optional[int] = None,
    late_days: int = 3,
    fallback_days: int = 7,
    shared_account_min: int = 4,
    outlier_factor: Union[str, int] = "3",
    control_totals: str = "fail",
    report: bool = True,
    inputs_dir: Optional[PathLike] = None,
) -> Summary:
    """Reconciles instructions with settlements into the folder ``out``, as
    ``sverka reconcile`` does, and returns the run's :class:`Summary`.

    ``instructions``, ``settlements`` and ``decisions``: a path (a file or a folder of
    files), a table (anything with ``__arrow_c_stream__``, or a pandas frame), a list
    of them, or a list of row mappings (``queryset.values(...)``). ``settlements`` may also be a mapping ``{provider_code: path or table}``,
    the CLI's ``CODE=PATH``. ``providers``: the providers file (statement accounts,
    profiles). ``control_totals``: ``"fail"`` or ``"warn"`` on a failed control check of
    a bank file. ``threads``: worker threads (None: one per core); results are identical
    for any value. ``report=False`` skips ``report.html``. ``inputs_dir``: where table
    inputs are written as Arrow IPC files and kept (for :func:`verify` with
    ``inputs=``); by default they go to a temporary folder removed after the run.

    The output folder gets a whole set of outputs or, on any error, stays as it was.
    Raises :class:`InputError` for inputs or settings that cannot be used (the CLI's
    exit 2, with its message), :class:`OutputError` when writing fails,
    :class:`InternalError` for a bug. Rejected rows are not errors: they are in
    ``rejects.parquet`` and counted in the summary.
    """
    inputs = _Inputs(inputs_dir)
    try:
        ins = inputs.many(instructions, "instructions")
        sets = inputs.many(settlements, "settlements")
        decs = inputs.many(decisions, "decisions")
        text, out_dir, written, warnings, timings = _native.reconcile(
            ins,
            sets,
            Path(out),
            _opt_path(providers),
            decs,
            bool(csv),
            threads,
            late_days,
            fallback_days,
            shared_account_min,
            str(outlier_factor),
            control_totals,
            bool(report),
        )
    finally:
        inputs.close()
    return Summary(json.loads(text), out_dir=out_dir, written=written, warnings=warnings, timings=timings)


def read_results(
    out: PathLike,
    *,
    columns: Optional[Mapping[str, Sequence[str]]] = None,
    categories: bool = False,
) -> Results:
    """Reads a reconciliation folder's row outputs as ``pyarrow.Table`` objects.

    The Parquet files are decoded by sverka (row groups in parallel, GIL released) and
    handed to pyarrow through the Arrow C data interface, without copies.
    ``columns``: per table (``"instructions"``, ``"settlements"``, ``"rejects"``,
    ``"decisions"``), only these columns. ``categories=True`` reads the few-valued text
    columns (status, flags, currency, provider, ...) as dictionaries, which pandas
    turns into categoricals: faster and smaller than one string per row.
    """
    import pyarrow  # noqa: F401  (the tables are pyarrow's)

    d = Path(out)
    if not (d / "summary.json").is_file():
        raise InputError(f"{d}: no summary.json here; give the folder `reconcile` wrote into")
    names = ["instructions", "settlements", "rejects"]
    if (d / "decisions.parquet").is_file():
        names.append("decisions")
    cols = dict(columns or {})
    unknown = set(cols) - set(names)
    if unknown:
        raise InputError(f"columns: no table {sorted(unknown)} in {d}; tables: {names}")
    dictionary = list(_CATEGORIES) if categories else []
    readers = _native.read_parquet(
        [d / f"{n}.parquet" for n in names],
        [None if cols.get(n) is None else list(cols[n]) for n in names],
        dictionary,
    )
    tables = {n: r.read_all() for n, r in zip(names, readers)}
    summary = Summary(json.loads((d / "summary.json").read_text("utf-8")), out_dir=d)
    manifest_path = d / "manifest.json"
    manifest = json.loads(manifest_path.read_text("utf-8")) if manifest_path.is_file() else None
    return Results(d, tables, summary, manifest)


def verify(
    out: PathLike,
    inputs: Union[PathLike, Sequence[PathLike]] = (),
    *,
    threads: Optional[int] = None,
) -> Verification:
    """Verifies an output folder as ``sverka verify`` does: hashes, every figure of
    ``summary.json`` re-derived from the rows, conservation of every input row, and, with
    ``inputs`` (the input files or folders), their SHA-256 against the recorded ones.

    Returns a :class:`Verification` (``.ok``; ``.check()`` raises
    :class:`VerificationError` on a discrepancy). A folder that cannot be verified at all
    raises :class:`InputError`.
    """
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    data, text = _native.verify(Path(out), [Path(p) for p in inputs], threads)
    return Verification(json.loads(data), text)


def disburse(
    payroll: Any,
    out: PathLike,
    *,
    ledger: PathLike,
    providers: Optional[PathLike] = None,
    execution_date: Optional[str] = None,
    max_batch_rows: Optional[int] = None,
    retry_from: Optional[PathLike] = None,
    threads: Optional[int] = None,
    inputs_dir: Optional[PathLike] = None,
) -> DisbursementSummary:
    """Turns an approved payroll into provider payment files in ``out``, as
    ``sverka disburse`` does, and returns its :class:`DisbursementSummary`.

    ``payroll``: a path, a table or a list of them (see :func:`reconcile`). ``ledger``:
    the issuing ledger (SQLite) that makes a payment issued once. ``providers``: the
    providers file (formats, accounts, caps). ``execution_date``: ``YYYY-MM-DD`` (None:
    the payroll's earliest due date). ``retry_from``: an earlier reconciliation's
    ``instructions.parquet`` to re-issue what was not paid. Errors as for
    :func:`reconcile`.
    """
    inputs = _Inputs(inputs_dir)
    try:
        files = inputs.many(payroll, "payroll")
        (text, out_dir, written, warnings, timings), issued, notes = _native.disburse(
            files,
            Path(out),
            Path(ledger),
            _opt_path(providers),
            execution_date,
            max_batch_rows,
            _opt_path(retry_from),
            threads,
        )
    finally:
        inputs.close()
    return DisbursementSummary(
        json.loads(text),
        issued=issued,
        notes=notes,
        out_dir=out_dir,
        written=written,
        warnings=warnings,
        timings=timings,
    )
