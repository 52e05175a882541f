#!/usr/bin/env python3
"""Run reconcile_duckdb.sql (sverka contract v1, sections 2-4) on Parquet text inputs.

    duckdb_reconcile.py --instructions DIR --settlements DIR --out OUT [--threads N]

Writes OUT/instructions.parquet, OUT/settlements.parquet, OUT/rejects.parquet.
Benchmark comparison only (benches/compare/README.md).
"""
import argparse
import os
import sys

import duckdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import COLUMNS, check_columns, list_inputs, load_currencies  # noqa: E402

SQL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reconcile_duckdb.sql")


def q(s):
    return "'" + s.replace("'", "''") + "'"


def input_view(con, side, files):
    parts = []
    for idx, path in files:
        present = {r[0] for r in con.execute(
            "SELECT name FROM parquet_schema(?)", [path]).fetchall()}
        absent = check_columns(side, path, present)
        cols = ", ".join(
            f"NULL::VARCHAR AS {c}" if c in absent else f'CAST("{c}" AS VARCHAR) AS {c}'
            for c in COLUMNS[side])
        parts.append(
            f"SELECT {idx} AS file_idx, {q(path)} AS file, file_row_number + 1 AS row, {cols} "
            f"FROM read_parquet({q(path)}, file_row_number = true)")
    con.execute(f"CREATE OR REPLACE TEMP VIEW raw_{side} AS " + "\nUNION ALL\n".join(parts))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instructions", required=True)
    ap.add_argument("--settlements", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()

    instr = list_inputs(args.instructions, "instructions")
    settl = list_inputs(args.settlements, "settlements")

    con = duckdb.connect()
    if args.threads:
        con.execute(f"SET threads = {int(args.threads)}")
    con.execute("SET preserve_insertion_order = true")
    con.execute("CREATE TEMP TABLE currencies (code VARCHAR, minor_units INTEGER)")
    con.executemany("INSERT INTO currencies VALUES (?, ?)",
                    sorted(load_currencies().items()))
    input_view(con, "instructions", instr)
    input_view(con, "settlements", settl)

    with open(SQL, encoding="utf-8") as f:
        con.execute(f.read())

    os.makedirs(args.out, exist_ok=True)
    counts = {}
    for name in ("instructions", "settlements", "rejects"):
        final = os.path.join(args.out, f"{name}.parquet")
        tmp = final + ".tmp"
        counts[name] = con.execute(f"COPY out_{name} TO {q(tmp)} (FORMAT parquet)").fetchone()[0]
        os.replace(tmp, final)
    # Conservation (CONTRACT.md section 2): every input row is in exactly one output row.
    for side, t in (("instructions", "i_d"), ("settlements", "s_d")):
        n_in = con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        n_rej = con.execute("SELECT count(*) FROM read_parquet(?) WHERE side = ?",
                            [os.path.join(args.out, "rejects.parquet"), side]).fetchone()[0]
        if n_in != counts[side] + n_rej:
            print(f"internal error: {side}: {n_in} rows in, {counts[side]} accepted + "
                  f"{n_rej} rejected", file=sys.stderr)
            sys.exit(1)
    print(f"duckdb: {counts['instructions']} instructions, {counts['settlements']} "
          f"settlements, {counts['rejects']} rejects -> {args.out}")


if __name__ == "__main__":
    main()
