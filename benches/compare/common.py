"""Shared input handling for the DuckDB and Polars comparison scripts (benches/compare).

Only what both scripts need: the contract's column lists, the input file order
(CONTRACT.md section 1: a directory stands for its files sorted by name) and the ISO 4217
table. Only Parquet inputs are supported here; this is a benchmark, not the product.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ISO_TABLE = os.path.join(HERE, "..", "..", "schemas", "iso4217.json")

INSTRUCTION_COLUMNS = ["instruction_id", "beneficiary_id", "program", "cycle", "provider",
                       "account", "amount", "currency", "due_date"]
SETTLEMENT_COLUMNS = ["provider", "provider_ref", "instruction_id", "account", "amount", "fee",
                      "currency", "status", "value_date"]
OPTIONAL = {"settlements": {"instruction_id", "fee"}, "instructions": set()}
COLUMNS = {"instructions": INSTRUCTION_COLUMNS, "settlements": SETTLEMENT_COLUMNS}


def fail(msg):
    print(f"error: {msg}", file=sys.stderr)
    sys.exit(2)


def list_inputs(arg, side):
    """[(file_idx, path)] in input order: a file as given, or a directory's files by name."""
    if os.path.isfile(arg):
        names = [arg]
    elif os.path.isdir(arg):
        entries = sorted(os.listdir(arg))
        others = [e for e in entries if e.endswith((".csv", ".arrow"))]
        if others:
            fail(f"{side}: {os.path.join(arg, others[0])}: only Parquet inputs are supported "
                 f"by the comparison scripts")
        names = [os.path.join(arg, e) for e in entries if e.endswith(".parquet")]
        if not names:
            fail(f"{side}: no .parquet files in directory {arg}")
    else:
        fail(f"{side}: {arg}: no such file or directory")
    for n in names:
        if not n.endswith(".parquet"):
            fail(f"{side}: {n}: only Parquet inputs are supported by the comparison scripts")
    return list(enumerate(names))


def check_columns(side, path, present):
    """File-level error for a missing required column; returns the optional ones absent."""
    missing_opt = []
    for col in COLUMNS[side]:
        if col not in present:
            if col in OPTIONAL[side]:
                missing_opt.append(col)
            else:
                fail(f"{side}: {path}: required column '{col}' is missing")
    return missing_opt


def load_currencies(path=ISO_TABLE):
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    return {c["code"]: int(c["minor_units"]) for c in data["currencies"]}
