#!/usr/bin/env python3
"""Check that reconciliation results agree, key by key.

    agree.py [--truth DIR] LABEL=RESULTS_DIR LABEL=RESULTS_DIR [...]

The first LABEL=DIR is the reference; every other one is compared with it. Each DIR is a
results folder (instructions.parquet, settlements.parquet, rejects.parquet, as written by
`sverka reconcile`, duckdb_reconcile.py or reconcile_polars.py) or a truth folder of a
reference data set (docs/REFERENCE-DATA.md), which has the same keys.

"Agree" means, with the keys of `sverka score`:
  instructions by instruction_id:          same set of ids, same status, same flags, and the
                                           same paid_amount (as an exact decimal) when both
                                           sides have that column;
  settlements by (provider, provider_ref): same set of keys, same match_method, same
                                           matched_instruction_id (empty = null), same flags;
  rejects by (side, file name, row):       same set of rejected rows, same reason.
Flags are compared as written (`;`-separated, alphabetical; empty = null).

--truth DIR additionally compares the reference with a truth folder; differences are printed
but are informational only (they do not change the exit status).
Exit status: 0 when all agree, 1 on any disagreement, 2 on unusable arguments or files.
"""
import argparse
import os
import sys

import polars as pl

SHOW = 10
AMT = pl.Decimal(38, 4)


def load(d):
    def read(name):
        p = os.path.join(d, name)
        if not os.path.isfile(p):
            print(f"error: {p}: missing", file=sys.stderr)
            sys.exit(2)
        return pl.read_parquet(p)

    def text(c, empty_is_null):
        e = pl.col(c).cast(pl.Utf8)
        return (pl.when(e == "").then(None).otherwise(e) if empty_is_null
                else e.fill_null("")).alias(c)

    i = read("instructions.parquet")
    cols = [text("instruction_id", False), text("status", False), text("flags", False)]
    if "paid_amount" in i.columns:
        cols.append(pl.col("paid_amount").cast(AMT).cast(pl.Utf8).alias("paid_amount"))
    i = i.select(cols)
    s = read("settlements.parquet").select(
        text("provider", False), text("provider_ref", False), text("match_method", False),
        text("matched_instruction_id", True), text("flags", False))
    r = read("rejects.parquet").select(
        text("side", False),
        pl.col("file").cast(pl.Utf8).str.replace(r"^.*[/\\]", "").alias("file"),
        pl.col("row").cast(pl.Int64), text("reason", False))
    return {"instructions": (i, ["instruction_id"]),
            "settlements": (s, ["provider", "provider_ref"]),
            "rejects": (r, ["side", "file", "row"])}


def compare(ref_label, ref, label, other):
    """Prints disagreements; returns their number."""
    total = 0
    for part in ("instructions", "settlements", "rejects"):
        a, keys = ref[part]
        b, _ = other[part]
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
