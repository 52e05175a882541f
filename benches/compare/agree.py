#!/usr/bin/env python3
"""Check that reconciliation results agree, key by key.

    agree.py [--truth DIR] LABEL=RESULTS_DIR LABEL=RESULTS_DIR [...]

The first LABEL=DIR is the reference; every other one is compared with it. Each DIR is a
results folder (instructions.parquet, settlements.parquet, rejects.parquet, as written by
`sverka reconcile`, duckdb_reconcile.py or reconcile_polars.py) or a truth folder of a
reference data set (docs/REFERENCE-DATA.md), which has the same keys.

"Agree" means, with the keys of `sverka score`:
  instructions by instruction_id:          same set of ids; the same status, flags and, when
                                           both sides have them, paid_amount, difference (as
                                           exact decimals), settlement_count, and (v2) file,
                                           row and decision_ids;
  settlements by (provider, provider_ref): same set of keys; the same match_method,
                                           matched_instruction_id and flags and, when both
                                           sides have them, account, amount, fee, currency
                                           (v2: may be empty), file, row, format and
                                           decision_ids;
  rejects by (side, file, row):            same set of rejected rows, the same reason and,
                                           when both sides have them, column and value.
Flags are compared as written (`;`-separated, alphabetical); empty text equals null.
`file` is the path as given (CONTRACT section 5), compared as text; when one side gives
bare file names (a truth folder), both sides are compared by file name.
When both folders have summary.json, its counts and the contract's ten totals fields per
currency (totals, totals_by_provider, totals_by_program) must be equal too.

--truth DIR additionally compares the reference with a truth folder; differences are printed
but are informational only (they do not change the exit status).
Exit status: 0 when all agree, 1 on any disagreement, 2 on unusable arguments or files.
"""
import argparse
import json
import os
import sys

import polars as pl

SHOW = 10
AMT = pl.Decimal(38, 4)


INSTRUCTION_FIELDS = {"status": "text", "flags": "text", "paid_amount": "amount",
                      "difference": "amount", "settlement_count": "int", "file": "text",
                      "row": "int", "decision_ids": "text"}
SETTLEMENT_FIELDS = {"match_method": "text", "matched_instruction_id": "text",
                     "flags": "text", "account": "text", "amount": "amount", "fee": "amount",
                     "currency": "text", "file": "text", "row": "int", "format": "text",
                     "decision_ids": "text"}
REJECT_FIELDS = {"reason": "text", "column": "text", "value": "text"}
TOTAL_FIELDS = ["instructed_count", "instructed_amount", "settled_count", "settled_amount",
                "returned_amount", "fees", "unpaid_count", "unpaid_amount",
                "unexpected_count", "unexpected_amount"]
COUNT_KEYS = ["instructions_in", "instructions_accepted", "settlements_in",
              "settlements_accepted", "rejects", "by_status", "by_flag", "by_match"]


def column(df, c, kind):
    """A column as comparable text: empty text is null; amounts as exact decimals."""
    e = pl.col(c)
    if kind == "amount":
        e = e.cast(AMT).cast(pl.Utf8)
    elif kind == "int":
        e = e.cast(pl.Int64).cast(pl.Utf8)
    else:
        e = e.cast(pl.Utf8)
        e = pl.when(e == "").then(None).otherwise(e)
    return e.alias(c)


def load(d):
    def read(name):
        p = os.path.join(d, name)
        if not os.path.isfile(p):
            print(f"error: {p}: missing", file=sys.stderr)
            sys.exit(2)
        return pl.read_parquet(p)

    def pick(df, keys, fields):
        return df.select([column(df, k, "int" if k == "row" else "text") for k in keys]
                         + [column(df, c, kind) for c, kind in fields.items()
                            if c in df.columns])

    summary = None
    p = os.path.join(d, "summary.json")
    if os.path.isfile(p):
        with open(p, encoding="utf-8") as f:
            summary = json.load(f)
    return {"instructions": (pick(read("instructions.parquet"), ["instruction_id"],
                                  INSTRUCTION_FIELDS), ["instruction_id"]),
            "settlements": (pick(read("settlements.parquet"), ["provider", "provider_ref"],
                                 SETTLEMENT_FIELDS), ["provider", "provider_ref"]),
            "rejects": (pick(read("rejects.parquet"), ["side", "file", "row"], REJECT_FIELDS),
                        ["side", "file", "row"]),
            "summary": summary}


def bare_names(df):
    """Whether a `file` column holds file names only (a truth folder's rejects)."""
    return "file" in df.columns and not df.select(
        pl.col("file").str.contains(r"[/\\]").any()).item()


def compare_summary(ref_label, ref, label, other):
    """Counts and the contract's totals fields of two summary.json (those parts both
    have: a truth folder's summary has fewer); returns the number of problems."""
    problems = []
    for k in COUNT_KEYS:
        if k not in ref.get("counts", {}) or k not in other.get("counts", {}):
            continue
        a, b = ref["counts"][k], other["counts"][k]
        if a != b:
            problems.append(f"counts.{k}: {a} vs {b}")
    for part in ("totals", "totals_by_provider", "totals_by_program"):
        if part not in ref or part not in other:
            continue

        def cells(s):
            t = s.get(part, {})
            if part == "totals":
                t = {"": t}
            return {(g, c, f): v.get(f) for g, by_c in t.items() for c, v in by_c.items()
                    for f in TOTAL_FIELDS}
        a, b = cells(ref), cells(other)
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                g, c, f = key
                problems.append(f"{part}{'.' + g if g else ''}.{c}.{f}: "
                                f"{a.get(key)} vs {b.get(key)}")
    for p in problems[:SHOW]:
        print(f"      {p}")
    print(f"  summary: {'agree' if not problems else f'{len(problems)} disagreements'} "
          f"({ref_label} vs {label})")
    return len(problems)


def compare(ref_label, ref, label, other):
    """Prints disagreements; returns their number."""
    total = 0
    for part in ("instructions", "settlements", "rejects"):
        a, keys = ref[part]
        b, _ = other[part]
        if bare_names(a) or bare_names(b):
            base = pl.col("file").str.replace(r"^.*[/\\]", "")
            a, b = ((df.with_columns(base) if "file" in df.columns else df) for df in (a, b))
        problems = 0
        for lab, df in ((ref_label, a), (label, b)):
            dups = df.filter(df.select(keys).is_duplicated())
            if dups.height:
                problems += dups.height
                print(f"  {part}: {lab} has {dups.height} rows with a repeated key "
                      f"{tuple(keys)}, e.g. {dups.row(0)}")
        fields = [c for c in a.columns if c not in keys and c in b.columns]
        j = a.with_columns(_a=pl.lit(True)).join(
            b.with_columns(_b=pl.lit(True)), on=keys, how="full", coalesce=True,
            suffix="__other")
        only_a = j.filter(pl.col("_b").is_null())
        only_b = j.filter(pl.col("_a").is_null())
        for df, has, lacks in ((only_a, ref_label, label), (only_b, label, ref_label)):
            if df.height:
                problems += df.height
                print(f"  {part}: {df.height} keys in {has} but not in {lacks}:")
                for row in df.select(keys + [c if has == ref_label else c + "__other"
                                             for c in fields]).head(SHOW).iter_rows():
                    print(f"      {row}")
        both = j.filter(pl.col("_a") & pl.col("_b"))
        for f in fields:
            diff = both.filter(pl.col(f).ne_missing(pl.col(f + "__other")))
            if diff.height:
                problems += diff.height
                print(f"  {part}: {diff.height} differ in {f} ({ref_label} -> {label}):")
                show = keys + [c for g in fields for c in (g, g + "__other")]
                for row in diff.select(show).head(SHOW).iter_rows(named=True):
                    k = ", ".join(str(row[c]) for c in keys)
                    d = "; ".join(f"{g}: {row[g]!r} vs {row[g + '__other']!r}"
                                  for g in fields if row[g] != row[g + "__other"])
                    print(f"      [{k}] {d}")
        missing = [c for c in a.columns if c not in keys and c not in b.columns]
        note = f" (not compared: {', '.join(missing)})" if missing else ""
        print(f"  {part}: {a.height} vs {b.height} rows, "
              f"{'agree' if not problems else f'{problems} disagreements'}{note}")
        total += problems
    if ref["summary"] is not None and other["summary"] is not None:
        total += compare_summary(ref_label, ref["summary"], label, other["summary"])
    return total


def main():
    ap = argparse.ArgumentParser(description="Check that reconciliation results agree.")
    ap.add_argument("--truth", help="truth folder to compare the reference with (informational)")
    ap.add_argument("results", nargs="+", metavar="LABEL=DIR")
    args = ap.parse_args()
    runs = []
    for spec in args.results:
        label, sep, d = spec.partition("=")
        if not sep or not d:
            print(f"error: expected LABEL=DIR, got {spec!r}", file=sys.stderr)
            sys.exit(2)
        runs.append((label, load(d)))
    if len(runs) < 2 and not args.truth:
        print("error: need at least two LABEL=DIR to compare", file=sys.stderr)
        sys.exit(2)
    ref_label, ref = runs[0]
    bad = 0
    for label, other in runs[1:]:
        print(f"{ref_label} vs {label}:")
        n = compare(ref_label, ref, label, other)
        bad += n
    if args.truth:
        print(f"{ref_label} vs truth (informational):")
        compare(ref_label, ref, "truth", load(args.truth))
    if bad:
        print(f"DISAGREE: {bad} disagreements")
        sys.exit(1)
    print("AGREE: all compared results agree")


if __name__ == "__main__":
    main()
