#!/usr/bin/env python3
"""Run reconcile_duckdb.sql (sverka contract v2, sections 2-5) on the contract's layout.

    duckdb_reconcile.py --instructions PATH... --settlements [CODE=]PATH... --out OUT
                        [--threads N] [--late-days 3] [--fallback-days 7]
                        [--shared-account-min 4] [--outlier-factor 3]

Inputs are .csv, .parquet and .arrow files or directories of them. Writes
OUT/instructions.parquet, OUT/settlements.parquet, OUT/rejects.parquet and
OUT/summary.json. Benchmark comparison only (benches/compare/README.md).
"""
import argparse
import os
import sys

import duckdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (COLUMNS, add_common_args, list_inputs, load_currencies,  # noqa: E402
                    parquet_all_text, read_as_table, settings, write_summary)

SQL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reconcile_duckdb.sql")


def q(s):
    return "'" + s.replace("'", "''") + "'"


def input_view(con, side, files):
    """raw_<side>: every input row as text, with file_idx, row and malformed; each file's
    path and format go to the `files` table. Text-only Parquet is read by DuckDB itself;
    CSV, Arrow and typed Parquet come as Arrow tables of text from common.read_as_table."""
    parts = []
    con.executemany("INSERT INTO files VALUES (?, ?, ?, ?)",
                    [(side, inp.idx, inp.path, inp.fmt) for inp in files])
    for inp in files:
        all_text, absent = (parquet_all_text(inp) if inp.fmt == "parquet" else (False, []))
        if all_text:
            src = f"read_parquet({q(inp.path)}, file_row_number = true)"
            row = "file_row_number + 1 AS row, NULL::VARCHAR AS malformed"
        else:
            name = f"in_{side}_{inp.idx}"
            con.register(name, read_as_table(inp))
            absent = []
            src, row = name, "row, malformed"
        cols = []
        for c in COLUMNS[side]:
            if c == "provider" and inp.provider:
                cols.append(f"{q(inp.provider)} AS provider")    # CODE=PATH wins (7.2)
            elif c in absent:
                cols.append(f"NULL::VARCHAR AS {c}")
            else:
                cols.append(f'CAST("{c}" AS VARCHAR) AS {c}')
        parts.append(f"SELECT {inp.idx} AS file_idx, {row}, {', '.join(cols)} FROM {src}")
    con.execute(f"CREATE OR REPLACE TEMP VIEW raw_{side} AS " + "\nUNION ALL\n".join(parts))


def write_parquet(con, out, name):
    final = os.path.join(out, f"{name}.parquet")
    tmp = final + ".tmp"
    n = con.execute(f"COPY out_{name} TO {q(tmp)} (FORMAT parquet)").fetchone()[0]
    os.replace(tmp, final)
    return n


def tally(con, sql):
    return dict(con.execute(sql).fetchall())


def summary_counts(con):
    c = {
        "instructions_in": con.execute("SELECT count(*) FROM i_d").fetchone()[0],
        "settlements_in": con.execute("SELECT count(*) FROM s_d").fetchone()[0],
        "instructions_accepted": con.execute("SELECT count(*) FROM out_instructions").fetchone()[0],
        "settlements_accepted": con.execute("SELECT count(*) FROM out_settlements").fetchone()[0],
        "rejects": tally(con, "SELECT side, count(*) FROM out_rejects GROUP BY side"),
        "by_status": tally(con, "SELECT status, count(*) FROM out_instructions GROUP BY status"),
        "by_match": tally(con, "SELECT match_method, count(*) FROM out_settlements GROUP BY 1"),
        "by_flag": tally(con, """
            SELECT f, count(*) FROM (
                SELECT unnest(string_split(flags, ';')) AS f FROM out_instructions
                UNION ALL SELECT flags FROM out_settlements)
            WHERE f <> '' GROUP BY f"""),
    }
    by_reason = {}
    for side, reason, n in con.execute(
            "SELECT side, reason, count(*) FROM out_rejects GROUP BY side, reason").fetchall():
        by_reason.setdefault(side, {})[reason] = n
    c["rejects_by_reason"] = by_reason
    return c


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(ap)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    cfg = settings(args)

    instr = list_inputs(args.instructions, "instructions")
    settl = list_inputs(args.settlements, "settlements")

    con = duckdb.connect()
    if args.threads:
        con.execute(f"SET threads = {int(args.threads)}")
    con.execute("SET preserve_insertion_order = true")
    for k in ("late_days", "fallback_days", "shared_account_min"):
        con.execute(f"SET VARIABLE {k} = {int(cfg[k])}")
    con.execute(f"SET VARIABLE outlier_factor = CAST({q(str(cfg['outlier_factor']))} "
                f"AS DECIMAL(18, 4))")
    con.execute("CREATE TEMP TABLE currencies (code VARCHAR, minor_units INTEGER)")
    con.executemany("INSERT INTO currencies VALUES (?, ?)",
                    sorted(load_currencies().items()))
    con.execute("CREATE TEMP TABLE files (side VARCHAR, file_idx INTEGER, file VARCHAR, "
                "format VARCHAR)")
    input_view(con, "instructions", instr)
    input_view(con, "settlements", settl)

    with open(SQL, encoding="utf-8") as f:
        con.execute(f.read())

    os.makedirs(args.out, exist_ok=True)
    counts = {name: write_parquet(con, args.out, name)
              for name in ("instructions", "settlements", "rejects")}
    # Conservation (CONTRACT.md section 2): every input row is in exactly one output row.
    for side, t in (("instructions", "i_d"), ("settlements", "s_d")):
        n_in = con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        n_rej = con.execute("SELECT count(*) FROM out_rejects WHERE side = ?",
                            [side]).fetchone()[0]
        if n_in != counts[side] + n_rej:
            print(f"internal error: {side}: {n_in} rows in, {counts[side]} accepted + "
                  f"{n_rej} rejected", file=sys.stderr)
            sys.exit(1)
    rows = {}
    for t in ("i_d", "s_d"):
        base = 0 if t == "i_d" else len(instr)
        for idx, n in con.execute(f"SELECT file_idx, count(*) FROM {t} GROUP BY 1").fetchall():
            rows[base + idx] = n
    # Settlement inputs are numbered after the instruction inputs for the summary.
    inputs = instr + [type(s)(len(instr) + s.idx, s.side, s.path, s.fmt, s.provider)
                      for s in settl]
    write_summary(args.out, "duckdb-compare", duckdb.__version__, summary_counts(con),
                  con.execute("SELECT * FROM out_totals").fetchall(), inputs, rows, cfg)
    print(f"duckdb: {counts['instructions']} instructions, {counts['settlements']} "
          f"settlements, {counts['rejects']} rejects -> {args.out}")


if __name__ == "__main__":
    main()
