"""Shared input and output handling for the DuckDB and Polars comparison scripts.

What both scripts need and what is not the reconciliation itself (CONTRACT.md v2):
- the column lists, the settings, and the input order (section 1: each path in the order
  given, a directory standing for its .csv/.parquet/.arrow files sorted by name; a
  settlement path may be CODE=PATH, section 7.2);
- reading inputs to text columns: CSV is tokenised here (RFC 4180, with the section 1
  file-level errors and `malformed_row` records), an Arrow IPC file and a Parquet file
  with typed columns are read with pyarrow and their columns turned into text. A Parquet
  file whose columns are all text is left to each engine's own reader (the fast path the
  benchmark times);
- the ISO 4217 table and amount text (decimal text with exactly the currency's minor
  units), and writing summary.json from the figures each engine computed.
The matching, statuses, flags and totals are each engine's own work.
"""
import csv
import decimal
import hashlib
import io
import json
import os
import re
import sys
from dataclasses import dataclass

HERE = os.path.dirname(os.path.abspath(__file__))
ISO_TABLE = os.path.join(HERE, "..", "..", "schemas", "iso4217.json")
CONTRACT = 2

INSTRUCTION_COLUMNS = ["instruction_id", "beneficiary_id", "program", "cycle", "provider",
                       "account", "amount", "currency", "due_date"]
SETTLEMENT_COLUMNS = ["provider", "provider_ref", "instruction_id", "account", "amount", "fee",
                      "currency", "status", "value_date"]
COLUMNS = {"instructions": INSTRUCTION_COLUMNS, "settlements": SETTLEMENT_COLUMNS}
# (v2) settlement account is optional; amount and currency columns must be present (their
# values are required unless the row is FAILED, which validation decides per row).
OPTIONAL = {"settlements": {"instruction_id", "account", "fee"}, "instructions": set()}
KIND = {"amount": "amount", "fee": "amount", "due_date": "date", "value_date": "date",
        "currency": "code", "status": "code"}
EXTENSIONS = {".csv": "csv", ".parquet": "parquet", ".arrow": "arrow"}
CODE_PATH = re.compile(r"^([A-Za-z0-9_-]{1,32})=(.+)$", re.S)
# Field order of each totals cell in summary.json (sverka's order; the contract's ten
# fields plus returned_count and failed_count).
TOTAL_FIELDS = ["instructed_count", "instructed_amount", "settled_count", "settled_amount",
                "returned_count", "returned_amount", "failed_count", "fees", "unpaid_count",
                "unpaid_amount", "unexpected_count", "unexpected_amount"]
STATUSES = ["UNPAID", "CURRENCY_MISMATCH", "DOUBLE_PAID", "RETURNED", "FAILED", "PAID",
            "UNDERPAID", "OVERPAID"]
METHODS = ["REFERENCE", "FALLBACK", "NONE"]


def fail(msg):
    print(f"error: {msg}", file=sys.stderr)
    sys.exit(2)


# ---------------------------------------------------------------- arguments and settings
def add_common_args(ap):
    ap.add_argument("--instructions", required=True, nargs="+", metavar="PATH")
    ap.add_argument("--settlements", required=True, nargs="+", metavar="PATH",
                    help="file or directory; CODE=PATH gives every row of PATH provider CODE")
    ap.add_argument("--out", required=True)
    ap.add_argument("--late-days", type=int, default=3)
    ap.add_argument("--fallback-days", type=int, default=7)
    ap.add_argument("--shared-account-min", type=int, default=4)
    ap.add_argument("--outlier-factor", default="3")


def settings(args):
    """The section 4 settings, checked; the outlier factor as an exact Decimal."""
    for name in ("late_days", "fallback_days"):
        if getattr(args, name) < 0:
            fail(f"--{name.replace('_', '-')} must be 0 or more")
    if args.shared_account_min < 1:
        fail("--shared-account-min must be 1 or more")
    f = args.outlier_factor.strip()
    if not re.fullmatch(r"[0-9]+(\.[0-9]{1,4})?", f) or decimal.Decimal(f) <= 0:
        fail(f"--outlier-factor {args.outlier_factor!r}: give a positive number such as 3 "
             f"or 2.5 (at most 4 decimals)")
    return {"late_days": args.late_days, "fallback_days": args.fallback_days,
            "shared_account_min": args.shared_account_min,
            "outlier_factor": decimal.Decimal(f)}


# ---------------------------------------------------------------- input files
@dataclass
class Input:
    idx: int            # position in input order
    side: str
    path: str           # as given; a directory's file: the directory joined with its name
    fmt: str            # csv, parquet, arrow
    provider: str       # CODE of CODE=PATH, else None


def list_inputs(args, side):
    """[Input] in input order: each path as given (a file, or a directory's files by name)."""
    out = []
    for arg in args:
        provider, path = None, arg
        m = CODE_PATH.match(arg)
        # A path that exists as written is a path, even with '=' in its name (as sverka).
        if side == "settlements" and m and not os.path.exists(arg):
            provider, path = m.group(1), m.group(2)
        if os.path.isdir(path):
            names = sorted(e for e in os.listdir(path)
                           if os.path.splitext(e)[1] in EXTENSIONS)
            if not names:
                fail(f"{side}: {path}: directory has no .csv, .parquet or .arrow files")
            files = [os.path.join(path, n) for n in names]
        elif os.path.isfile(path):
            files = [path]
        else:
            fail(f"{side}: {path}: no such file or directory; check the path")
        for f in files:
            fmt = EXTENSIONS.get(os.path.splitext(f)[1])
            if fmt is None:
                fail(f"{side}: {f}: unknown file type: the comparison scripts read .csv, "
                     f".parquet and .arrow (provider files of CONTRACT section 7 are not "
                     f"supported here)")
            out.append(Input(len(out), side, f, fmt, provider))
    return out


def check_header(inp, names):
    """File-level errors of a header (section 1); returns the optional columns absent."""
    for i, n in enumerate(names):
        if n == "":
            fail(f"{inp.side}: {inp.path}: column {i + 1} of the header has an empty name")
        if n in names[:i]:
            fail(f"{inp.side}: {inp.path}: column {n} appears twice in the header")
    absent = []
    for col in COLUMNS[inp.side]:
        if col in names:
            continue
        if col in OPTIONAL[inp.side] or (col == "provider" and inp.provider):
            absent.append(col)
        else:
            fail(f"{inp.side}: {inp.path}: missing required column {col}; the header has: "
                 f"{', '.join(names)}")
    return absent


def _text_type(t, pa):
    return (pa.types.is_string(t) or pa.types.is_large_string(t)
            or pa.types.is_string_view(t) or pa.types.is_null(t)
            or (pa.types.is_dictionary(t) and _text_type(t.value_type, pa)))


def check_types(inp, schema):
    """File-level error for a column whose Arrow type cannot hold its field (section 1).
    Returns whether every contract column present is text (the engines' fast path)."""
    import pyarrow as pa
    all_text = True
    for col in COLUMNS[inp.side]:
        if col not in schema.names:
            continue
        t = schema.field(col).type
        if _text_type(t, pa):
            continue
        all_text = False
        kind = KIND.get(col, "text")
        ok = {"amount": pa.types.is_decimal(t) or pa.types.is_integer(t),
              "date": pa.types.is_date32(t) or pa.types.is_date64(t),
              "code": False,
              "text": pa.types.is_integer(t)}[kind]
        if kind == "amount" and pa.types.is_floating(t):
            fail(f"{inp.side}: {inp.path}: column {col} has type {t}, which is floating point: "
                 f"floats are not exact (CONTRACT.md section 1); write amounts as text or "
                 f"Decimal128")
        if not ok:
            fail(f"{inp.side}: {inp.path}: column {col} has type {t}, which cannot hold "
                 f"{'an amount' if kind == 'amount' else 'a date' if kind == 'date' else 'text'}")
    return all_text


def _as_text(arr, pa, pc):
    """An Arrow column of a checked type as text (decimals exact, dates YYYY-MM-DD)."""
    t = arr.type
    if pa.types.is_decimal(t) and t.scale < 0:
        # pyarrow writes 1.23E+4 for a negative scale: make it whole units first.
        arr = pc.cast(arr, pa.decimal256(76, 0))
    return pc.cast(arr, pa.string())


def parquet_all_text(inp):
    """Checks a Parquet file's columns: (whether the engine may read it itself, because
    every contract column is text; the optional columns absent)."""
    import pyarrow.parquet as pq
    try:
        schema = pq.read_schema(inp.path)
    except Exception as e:  # noqa: BLE001 - any unreadable file is a file-level error
        fail(f"{inp.side}: {inp.path}: cannot read as Parquet: {e}")
    absent = check_header(inp, schema.names)
    return check_types(inp, schema), absent


def read_as_table(inp):
    """The file as an Arrow table of text: `row` (1-based data row), `malformed` (the raw
    record of a malformed CSV row, else null) and the side's columns (null when absent)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    if inp.fmt == "csv":
        return _read_csv(inp, pa)
    try:
        if inp.fmt == "arrow":
            with pa.memory_map(inp.path) as src:
                table = pa.ipc.open_file(src).read_all()
        else:
            import pyarrow.parquet as pq
            table = pq.read_table(inp.path)
    except Exception as e:  # noqa: BLE001
        fail(f"{inp.side}: {inp.path}: cannot read as {inp.fmt}: {e}")
    absent = check_header(inp, table.schema.names)
    check_types(inp, table.schema)
    n = table.num_rows
    cols = {"row": pa.array(range(1, n + 1), pa.int64()),
            "malformed": pa.nulls(n, pa.string())}
    for c in COLUMNS[inp.side]:
        cols[c] = (pa.nulls(n, pa.string()) if c in absent
                   else _as_text(table.column(c).combine_chunks(), pa, pc))
    return pa.table(cols)


# A field longer than this is a file-level error (Python's csv default is 128 KiB).
csv.field_size_limit(64 << 20)


def _read_csv(inp, pa):
    """RFC 4180 CSV (section 1): UTF-8 (a BOM ignored), header, blank lines skipped and not
    counted, a record with another number of fields than the header is `malformed`."""
    with open(inp.path, "rb") as f:
        data = f.read()
    where = f"{inp.side}: {inp.path}"
    if not data:
        fail(f"{where}: file is empty: no header row")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        fail(f"{where}: starts with a UTF-16 byte-order mark; save it as UTF-8")
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    try:
        text = data[bom:].decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[:bom + e.start].count(b"\n") + 1
        fail(f"{where}: not valid UTF-8 at byte {bom + e.start} (line {line}); save it as UTF-8")

    def records(strict):
        r = csv.reader(io.StringIO(text, newline=""), strict=strict)
        try:
            return [rec for rec in r if rec]
        except csv.Error as e:
            return e, r.line_num

    got = records(strict=True)
    if isinstance(got, tuple):
        err, line = got
        if "unexpected end of data" in str(err):
            fail(f"{where}: unterminated quote near line {line} (a truncated file?)")
        # Otherwise a stray quote inside a field: read leniently, as sverka's reader does.
        got = records(strict=False)
        if isinstance(got, tuple):
            fail(f"{where}: cannot parse CSV near line {got[1]}: {got[0]}")
    if not got:
        fail(f"{where}: file is empty: no header row")
    names, rows = got[0], got[1:]
    absent = check_header(inp, names)
    width = len(names)
    pos = {c: names.index(c) for c in COLUMNS[inp.side] if c not in absent}
    cols = {"row": pa.array(range(1, len(rows) + 1), pa.int64()),
            "malformed": pa.array([",".join(r) if len(r) != width else None for r in rows],
                                  pa.string())}
    for c in COLUMNS[inp.side]:
        if c in absent:
            cols[c] = pa.nulls(len(rows), pa.string())
        else:
            k = pos[c]
            cols[c] = pa.array([r[k] if len(r) == width else None for r in rows], pa.string())
    return pa.table(cols)


# ---------------------------------------------------------------- currencies and amounts
def load_currencies(path=ISO_TABLE):
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    return {c["code"]: int(c["minor_units"]) for c in data["currencies"]}


def amount_text(value, mu):
    """Exact decimal text with exactly `mu` minor units; zero is never negative. The value
    has no non-zero digits beyond `mu` (validation made sure), so nothing is rounded."""
    # Inexact trapped: a value that would need rounding is an error, never rounded.
    ctx = decimal.Context(prec=80, traps=[decimal.Inexact, decimal.InvalidOperation])
    q = decimal.Decimal(value).quantize(decimal.Decimal(1).scaleb(-mu), context=ctx)
    if q == 0:
        q = abs(q)
    return f"{q:f}"


# ---------------------------------------------------------------- summary.json
def file_facts(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return os.path.getsize(path), h.hexdigest()


def write_summary(out, engine, version, counts, totals, inputs, rows_per_input, cfg):
    """summary.json (section 5) from an engine's figures.

    counts: dict with instructions_in/_accepted, settlements_in/_accepted, rejects
            {side: n}, by_status, by_flag, by_match, rejects_by_reason {side: {reason: n}};
    totals: rows (kind, group, currency, *TOTAL_FIELDS) with kind currency/provider/program
            (group None for currency), amounts as Decimal;
    rows_per_input: {input idx: data rows read}.
    """
    mus = load_currencies()

    def cell(values, ccy):
        return {f: (amount_text(v, mus[ccy]) if f.endswith(("_amount", "fees")) else int(v))
                for f, v in zip(TOTAL_FIELDS, values)}

    by_ccy, by_provider, by_program = {}, {}, {}
    for kind, group, ccy, *values in totals:
        if kind == "currency":
            by_ccy[ccy] = cell(values, ccy)
        else:
            target = by_provider if kind == "provider" else by_program
            target.setdefault(group, {})[ccy] = cell(values, ccy)
    ins = []
    for inp in inputs:
        size, sha = file_facts(inp.path)
        d = {"side": inp.side, "path": inp.path, "format": inp.fmt,
             "rows": int(rows_per_input.get(inp.idx, 0)), "bytes": size, "sha256": sha}
        if inp.provider:
            d["provider"] = inp.provider
        ins.append(d)

    def ordered(d, order):
        return {k: int(d[k]) for k in order if d.get(k)}

    c = counts
    summary = {
        "counts": {
            "instructions_in": int(c["instructions_in"]),
            "instructions_accepted": int(c["instructions_accepted"]),
            "settlements_in": int(c["settlements_in"]),
            "settlements_accepted": int(c["settlements_accepted"]),
            "rejects": {s: int(c["rejects"].get(s, 0)) for s in ("instructions", "settlements")},
            "by_status": ordered(c["by_status"], STATUSES),
            "by_flag": {k: int(v) for k, v in sorted(c["by_flag"].items()) if v},
            "by_match": ordered(c["by_match"], METHODS),
            "rejects_by_reason": {s: {k: int(v) for k, v in sorted(
                c["rejects_by_reason"].get(s, {}).items())} for s in
                ("instructions", "settlements")},
        },
        "totals": dict(sorted(by_ccy.items())),
        "totals_by_provider": {g: dict(sorted(v.items())) for g, v in sorted(by_provider.items())},
        "totals_by_program": {g: dict(sorted(v.items())) for g, v in sorted(by_program.items())},
        "inputs": ins,
        "engine": {"name": engine, "version": version, "contract": CONTRACT},
        "settings": {k: (str(v) if isinstance(v, decimal.Decimal) else v)
                     for k, v in cfg.items()},
    }
    final = os.path.join(out, "summary.json")
    with open(final + ".tmp", "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    os.replace(final + ".tmp", final)
