"""Type stubs of sverka's native module (Rust, PyO3). Use the functions of the `sverka`
package: they take paths, tables and mappings in every form and return typed results;
these take resolved paths only."""

from os import PathLike
from typing import Any, Optional, Sequence

import pyarrow

VERSION: str

class SverkaError(Exception): ...
class InputError(SverkaError): ...
class OutputError(SverkaError): ...
class InternalError(SverkaError): ...

_Run = tuple[str, str, list[str], list[str], list[tuple[str, float]]]

def reconcile(
    instructions: Sequence[PathLike[str]],
    settlements: Sequence[PathLike[str]],
    out: PathLike[str],
    providers: Optional[PathLike[str]],
    decisions: Sequence[PathLike[str]],
    csv: bool,
    threads: Optional[int],
    late_days: int,
    fallback_days: int,
    shared_account_min: int,
    outlier_factor: str,
    control_totals: str,
    report: bool,
) -> _Run: ...
def verify(out: PathLike[str], inputs: Sequence[PathLike[str]], threads: Optional[int]) -> tuple[str, str]: ...
def disburse(
    payroll: Sequence[PathLike[str]],
    out: PathLike[str],
    ledger: PathLike[str],
    providers: Optional[PathLike[str]],
    execution_date: Optional[str],
    max_batch_rows: Optional[int],
    retry_from: Optional[PathLike[str]],
    threads: Optional[int],
) -> tuple[_Run, int, list[str]]: ...
def write_arrow_file(table: Any, path: PathLike[str]) -> int: ...
def read_parquet(
    paths: Sequence[PathLike[str]], columns: Sequence[Optional[Sequence[str]]], dictionary: Sequence[str]
) -> list[pyarrow.RecordBatchReader]: ...
