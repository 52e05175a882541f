#!/usr/bin/env python3
"""sverka reconciliation contract v2, sections 2-5 (the contract's own CSV/Parquet/Arrow
layout; no provider files, no decisions), as a Polars (lazy) script.

    reconcile_polars.py --instructions PATH... --settlements [CODE=]PATH... --out OUT
                        [--late-days 3] [--fallback-days 7] [--shared-account-min 4]
                        [--outlier-factor 3]

Writes OUT/instructions.parquet, OUT/settlements.parquet, OUT/rejects.parquet and
OUT/summary.json. Benchmark comparison only (benches/compare/README.md).

Amounts are exact: the text is validated first, then (fraction normalised to 4 digits, the
largest minor units in the ISO table) cast to Decimal(38, 4). No floating point anywhere.
"""
import argparse
import os
import sys

import polars as pl

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (COLUMNS, add_common_args, list_inputs, load_currencies,  # noqa: E402
                    parquet_all_text, read_as_table, settings, write_summary)

AMT = pl.Decimal(38, 4)
AMOUNT_RE = r"^-?[0-9]+(\.[0-9]+)?$"
DATE_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
a = pl.col
RAW = {side: [f"raw_{c}" for c in cols] for side, cols in COLUMNS.items()}


def tx(c):
    """Trim spaces and tabs; empty -> null ("missing")."""
    s = a(c).cast(pl.Utf8).str.strip_chars(" \t")
    return pl.when(s == "").then(None).otherwise(s).alias(c)


def int_part(c):
    return a(c).str.strip_chars_start("-").str.split_exact(".", 1).struct.field("field_0")


def frac_part(c):
    return a(c).str.split_exact(".", 1).struct.field("field_1").fill_null("")


def amt_ok(c):
    return a(c).str.contains(AMOUNT_RE) & (int_part(c).str.len_chars() <= 15)


def amt_val(c):
    """Exact value at scale 4 of a text that passed amt_ok (null otherwise)."""
    sign = pl.when(a(c).str.starts_with("-")).then(pl.lit("-")).otherwise(pl.lit(""))
    frac4 = frac_part(c).str.slice(0, 4).str.pad_end(4, "0")
    txt = pl.concat_str([sign, int_part(c), pl.lit("."), frac4])
    return pl.when(amt_ok(c)).then(txt).otherwise(None).cast(AMT)


def prec_ok(c):
    """No non-zero digit beyond the currency's minor units (column mu)."""
    beyond = frac_part(c).str.slice(a("mu").cast(pl.Int64))
    return beyond.str.strip_chars_end("0") == ""


def dt_val(c):
    """YYYY-MM-DD and a real calendar date (years 0001-9999: there is no year 0)."""
    ok = a(c).str.contains(DATE_RE) & ~a(c).str.starts_with("0000")
    return pl.when(ok).then(a(c).str.to_date("%Y-%m-%d", strict=False)).otherwise(None)


def missing(c):
    return a(c).is_null()


def has(c):
    return a(c).is_not_null()


def first_failing(rules):
    """rules = [(condition, reason, column or None)] in contract order -> reason, column,
    value. A null condition does not hold. The value is the cell's original (untrimmed)
    text; a malformed row's is its raw record."""
    def value_of(c):
        return a("malformed") if c is None else a(f"raw_{c}")

    def col_of(c):
        return pl.lit(c, pl.Utf8)

    cond, r, c = rules[0]
    reason = pl.when(cond.fill_null(False)).then(pl.lit(r))
    col = pl.when(cond.fill_null(False)).then(col_of(c))
    value = pl.when(cond.fill_null(False)).then(value_of(c))
    for cond, r, c in rules[1:]:
        reason = reason.when(cond.fill_null(False)).then(pl.lit(r))
        col = col.when(cond.fill_null(False)).then(col_of(c))
        value = value.when(cond.fill_null(False)).then(value_of(c))
    return (reason.otherwise(None).alias("reason"), col.otherwise(None).alias("column"),
            value.otherwise(None).alias("value"))


def read_side(side, files):
    """Every input row as text with file_idx, row and malformed. The file's path and format
    are looked up from file_idx only in the outputs (a long text in every row would cost
    memory on the way)."""
    frames = []
    for inp in files:
        all_text, absent = (parquet_all_text(inp) if inp.fmt == "parquet" else (False, []))
        if all_text:
            lf = (pl.scan_parquet(inp.path).with_row_index("row", offset=1)
                  .with_columns(a("row").cast(pl.Int64), pl.lit(None, pl.Utf8).alias("malformed")))
        else:
            lf, absent = pl.from_arrow(read_as_table(inp)).lazy(), []
        raw = []
        for c in COLUMNS[side]:
            if c == "provider" and inp.provider:
                v = pl.lit(inp.provider, pl.Utf8)      # CODE=PATH wins (7.2)
            elif c in absent:
                v = pl.lit(None, pl.Utf8)
            else:
                v = a(c).cast(pl.Utf8)
            raw.append(v.alias(f"raw_{c}"))
        # raw_<column>: the original text, shown by a reject; <column>: trimmed.
        frames.append(lf.select(
            pl.lit(inp.idx, pl.Int32).alias("file_idx"), a("row").cast(pl.Int64),
            a("malformed").cast(pl.Utf8), *raw)
            .with_columns(tx(f"raw_{c}").alias(c) for c in COLUMNS[side]))
    return pl.concat(frames, how="vertical")


def dedupe(df, keys, reason, column):
    """Among field-valid rows the first in input order wins; later ones are rejects."""
    df = df.with_columns(
        dup=pl.when(a("reason").is_null())
        .then(pl.int_range(pl.len()).over(a("reason").is_null(), *keys) > 0)
        .otherwise(False))
    return df.with_columns(
        reason=pl.when(a("dup")).then(pl.lit(reason)).otherwise(a("reason")),
        column=pl.when(a("dup")).then(pl.lit(column)).otherwise(a("column")),
        value=pl.when(a("dup")).then(a(column)).otherwise(a("value")),
    )


def validate_instructions(files, mu):
    i_v = read_side("instructions", files).with_columns(
        mu.alias("mu"), amt_val("amount").alias("amt"), dt_val("due_date").alias("due"))
    rules = [(has("malformed"), "malformed_row", None)]
    rules += [(missing(c), "missing_field", c) for c in
              ["instruction_id", "beneficiary_id", "program", "cycle", "provider", "account",
               "amount"]]
    rules += [
        (~amt_ok("amount"), "invalid_amount", "amount"),
        (a("amt") <= 0, "non_positive_amount", "amount"),
        (missing("currency"), "missing_field", "currency"),
        (a("mu").is_null(), "unknown_currency", "currency"),
        (~prec_ok("amount"), "amount_precision", "amount"),
        (missing("due_date"), "missing_field", "due_date"),
        (a("due").is_null(), "invalid_date", "due_date"),
    ]
    i_v = i_v.with_columns(*first_failing(rules)).drop(RAW["instructions"], "malformed")
    return dedupe(i_v, ["instruction_id"], "duplicate_instruction_id", "instruction_id").collect()


def validate_settlements(files, mu):
    s_v = read_side("settlements", files).with_columns(
        mu.alias("mu"), amt_val("amount").alias("amt"), amt_val("fee").alias("fee_amt"),
        dt_val("value_date").alias("vdate"),
        (a("status") == "FAILED").fill_null(False).alias("is_failed"))
    # (v2) account is optional; amount and currency may be empty when the trimmed status
    # is exactly FAILED, but currency is required whenever amount or fee has a value.
    rules = [
        (has("malformed"), "malformed_row", None),
        (missing("provider"), "missing_field", "provider"),
        (missing("provider_ref"), "missing_field", "provider_ref"),
        (missing("amount") & ~a("is_failed"), "missing_field", "amount"),
        (has("amount") & ~amt_ok("amount"), "invalid_amount", "amount"),
        (has("amount") & (a("amt") < 0), "negative_amount", "amount"),
        (has("fee") & ~amt_ok("fee"), "invalid_amount", "fee"),
        (has("fee") & (a("fee_amt") < 0), "negative_amount", "fee"),
        (missing("currency") & (~a("is_failed") | has("amount") | has("fee")),
         "missing_field", "currency"),
        (has("currency") & a("mu").is_null(), "unknown_currency", "currency"),
        (has("amount") & ~prec_ok("amount"), "amount_precision", "amount"),
        (has("fee") & ~prec_ok("fee"), "amount_precision", "fee"),
        (missing("status"), "missing_field", "status"),
        (~a("status").is_in(["SETTLED", "FAILED", "RETURNED"]), "invalid_status", "status"),
        (missing("value_date"), "missing_field", "value_date"),
        (a("vdate").is_null(), "invalid_date", "value_date"),
    ]
    s_v = s_v.with_columns(*first_failing(rules)).drop(RAW["settlements"], "malformed")
    return (dedupe(s_v, ["provider", "provider_ref"], "duplicate_provider_ref", "provider_ref")
            .with_row_index("sid").collect())


def match(ia, sa, cfg):
    """Section 3: reference matches, then unique mutual fallback pairs; AMBIGUOUS rest."""
    ids = ia.select(a("instruction_id").alias("iid"))
    m_ref = (sa.lazy().select("sid", a("instruction_id").alias("iid"))
             .join(ids.lazy(), on="iid", how="semi")).collect()
    # (v2) A settlement without an account, amount or currency is never a candidate.
    fs = (sa.lazy().join(m_ref.lazy(), on="sid", how="anti")
          .filter(has("account") & has("amt") & has("currency")))
    fi = ia.lazy().join(m_ref.lazy().select(a("iid").alias("instruction_id")),
                        on="instruction_id", how="anti")
    cand = (fs.select("sid", "provider", "account", "currency", "amt", "vdate")
            .join(fi.select("instruction_id", "provider", "account", "currency", "amt", "due"),
                  on=["provider", "account", "currency", "amt"], how="inner")
            .filter((a("vdate") - a("due")).dt.total_days().abs() <= cfg["fallback_days"])
            .select("sid", a("instruction_id").alias("iid"))
            .with_columns(s_n=pl.len().over("sid"), i_n=pl.len().over("iid"))).collect()
    unique = (a("s_n") == 1) & (a("i_n") == 1)
    m_fb = cand.filter(unique).select("sid", "iid")
    ambiguous = cand.filter(~unique).select("sid").unique()
    m_all = pl.concat([m_ref.with_columns(method=pl.lit("REFERENCE")),
                       m_fb.with_columns(method=pl.lit("FALLBACK"))])
    return m_all, ambiguous


def lookup(files, what):
    """An input file's path or format, from its file_idx."""
    return a("file_idx").replace_strict({f.idx: getattr(f, what) for f in files},
                                        return_dtype=pl.Utf8)


def classify(ia, sa, m_all, cfg, files):
    """Section 4: each accepted instruction's status, flags, paid amount, count."""
    inst = ia.lazy().select(a("instruction_id").alias("iid"), a("currency").alias("i_currency"),
                            a("account").alias("i_account"), a("provider").alias("i_provider"),
                            "due")
    settled = a("status") == "SETTLED"
    returned = a("status") == "RETURNED"
    same_cur = a("currency") == a("i_currency")     # null (no currency): not the same
    zero = pl.lit(0).cast(AMT)
    # (v2) A settlement without a currency is no CURRENCY_MISMATCH and an empty account no
    # ACCOUNT_MISMATCH; paid counts only settlements in the instruction's currency.
    agg = (m_all.lazy().join(sa.lazy(), on="sid").join(inst, on="iid")
           .group_by("iid").agg(
               n=pl.len(),
               n_settled=settled.sum(),
               n_returned=returned.sum(),
               cur_mis=(has("currency") & (a("currency") != a("i_currency"))).any(),
               paid=pl.when(settled & same_cur).then(a("amt")).otherwise(zero).sum()
               - pl.when(returned & same_cur).then(a("amt")).otherwise(zero).sum(),
               acct_mis=(settled & has("account") & (a("account") != a("i_account"))).any(),
               late=(settled & ((a("vdate") - a("due")).dt.total_days() > cfg["late_days"]))
               .any(),
               prov_mis=(a("provider") != a("i_provider")).any(),
               fb=(a("method") == "FALLBACK").any(),
           ))
    grp = ["program", "cycle", "currency"]
    med = ia.lazy().group_by(grp).agg(med=a("amt").sort().get((pl.len() - 1) // 2))
    dup_ben = (ia.lazy().group_by("beneficiary_id", "program", "cycle").agg(n=pl.len())
               .filter(a("n") >= 2).select("beneficiary_id", "program", "cycle",
                                           dup_ben=pl.lit(True)))
    shared = (ia.lazy().group_by("provider", "account")
              .agg(nb=a("beneficiary_id").n_unique())
              .filter(a("nb") >= cfg["shared_account_min"])
              .select("provider", "account", shared=pl.lit(True)))

    status = (pl.when(a("n").is_null()).then(pl.lit("UNPAID"))
              .when(a("cur_mis")).then(pl.lit("CURRENCY_MISMATCH"))
              .when(a("n_settled") >= 2).then(pl.lit("DOUBLE_PAID"))
              .when((a("n_settled") == 0) & (a("n_returned") > 0)).then(pl.lit("RETURNED"))
              .when(a("n_settled") == 0).then(pl.lit("FAILED"))
              .when((a("paid") == 0) & (a("n_returned") > 0)).then(pl.lit("RETURNED"))
              .when(a("paid") == a("amt")).then(pl.lit("PAID"))
              .when(a("paid") < a("amt")).then(pl.lit("UNDERPAID"))
              .otherwise(pl.lit("OVERPAID")))

    def flag(cond, name):
        return pl.when(cond.fill_null(False)).then(pl.lit(name)).otherwise(None)

    # amount > factor x median, exactly: factor = num / 10^k, so amount x 10^k > num x
    # median (a Decimal times an integer is exact; a Decimal product would be rounded).
    f = cfg["outlier_factor"]
    k = max(0, -f.as_tuple().exponent)
    num = int(f.scaleb(k))
    flags = pl.concat_str([
        flag(a("acct_mis"), "ACCOUNT_MISMATCH"),
        flag(a("amt") * (10 ** k) > a("med") * num, "AMOUNT_OUTLIER"),
        flag(a("dup_ben"), "DUPLICATE_BENEFICIARY"),
        flag(a("fb"), "FALLBACK_MATCH"),
        flag(a("late"), "LATE"),
        flag(a("prov_mis"), "PROVIDER_MISMATCH"),
        flag(a("shared"), "SHARED_ACCOUNT"),
    ], separator=";", ignore_nulls=True)

    paid = a("paid").fill_null(zero).cast(AMT)
    return (ia.lazy()
            .join(agg, left_on="instruction_id", right_on="iid", how="left",
                  maintain_order="left")
            .join(med, on=grp, how="left", maintain_order="left")
            .join(dup_ben, on=["beneficiary_id", "program", "cycle"], how="left",
                  maintain_order="left")
            .join(shared, on=["provider", "account"], how="left", maintain_order="left")
            .sort("file_idx", "row")
            .select("instruction_id", "beneficiary_id", "program", "cycle", "provider",
                    "account", a("amt").alias("amount"), "currency",
                    a("due").alias("due_date"), status.alias("status"),
                    paid.alias("paid_amount"), (paid - a("amt")).cast(AMT).alias("difference"),
                    a("n").fill_null(0).cast(pl.Int64).alias("settlement_count"),
                    flags.alias("flags"), lookup(files, "path").alias("file"), "row",
                    pl.lit("").alias("decision_ids"))
            .collect())


def settlements_out(sa, m_all, ambiguous, files):
    return (sa.lazy()
            .join(m_all.lazy(), on="sid", how="left", maintain_order="left")
            .join(ambiguous.lazy().with_columns(amb=pl.lit(True)), on="sid", how="left",
                  maintain_order="left")
            .sort("sid")
            .select("provider", "provider_ref", "instruction_id", "account",
                    a("amt").alias("amount"), a("fee_amt").alias("fee"), "currency", "status",
                    a("vdate").alias("value_date"),
                    a("method").fill_null("NONE").alias("match_method"),
                    a("iid").alias("matched_instruction_id"),
                    pl.when(a("amb").fill_null(False)).then(pl.lit("AMBIGUOUS"))
                    .otherwise(pl.lit("")).alias("flags"),
                    lookup(files, "path").alias("file"), "row",
                    lookup(files, "fmt").alias("format"), pl.lit("").alias("decision_ids"))
            .collect())


def totals(out_i, out_s, ia):
    """Section 5 totals: rows (kind, group, currency, *TOTAL_FIELDS). (v2) A settlement
    without a currency counts in no currency's totals."""
    zero = pl.lit(0).cast(AMT)
    unpaid = a("status") == "UNPAID"
    ci = out_i.lazy().select(
        "currency", a("provider").alias("grp_provider"), a("program").alias("grp_program"),
        instructed_count=pl.lit(1), instructed_amount=a("amount"),
        settled_count=pl.lit(0), settled_amount=zero, returned_count=pl.lit(0),
        returned_amount=zero, failed_count=pl.lit(0), fees=zero,
        unpaid_count=unpaid.cast(pl.Int32),
        unpaid_amount=pl.when(unpaid).then(a("amount")).otherwise(zero),
        unexpected_count=pl.lit(0), unexpected_amount=zero)
    st = {s: a("status") == s for s in ("SETTLED", "RETURNED", "FAILED")}
    unexpected = st["SETTLED"] & (a("match_method") == "NONE")
    programme = ia.lazy().select(a("instruction_id").alias("matched_instruction_id"),
                                 a("program").alias("grp_program"))
    cs = (out_s.lazy().filter(has("currency"))
          .join(programme, on="matched_instruction_id", how="left")
          .select("currency", a("provider").alias("grp_provider"), "grp_program",
                  instructed_count=pl.lit(0), instructed_amount=zero,
                  settled_count=st["SETTLED"].cast(pl.Int32),
                  settled_amount=pl.when(st["SETTLED"]).then(a("amount")).otherwise(zero),
                  returned_count=st["RETURNED"].cast(pl.Int32),
                  returned_amount=pl.when(st["RETURNED"]).then(a("amount")).otherwise(zero),
                  failed_count=st["FAILED"].cast(pl.Int32), fees=a("fee"),
                  unpaid_count=pl.lit(0), unpaid_amount=zero,
                  unexpected_count=unexpected.cast(pl.Int32),
                  unexpected_amount=pl.when(unexpected).then(a("amount")).otherwise(zero)))
    both = pl.concat([ci, cs], how="vertical_relaxed").collect()
    fields = [c for c in both.columns if c not in ("currency", "grp_provider", "grp_program")]
    rows = []
    for kind, keys in (("currency", ["currency"]), ("provider", ["grp_provider", "currency"]),
                       ("program", ["grp_program", "currency"])):
        g = (both.filter(pl.all_horizontal(a(k).is_not_null() for k in keys))
             .group_by(keys).agg(*[a(f).sum() for f in fields]).sort(keys))
        for r in g.iter_rows(named=True):
            grp = None if kind == "currency" else r[keys[0]]
            rows.append((kind, grp, r["currency"], *[r[f] for f in fields]))
    return rows


def summary_counts(i_v, s_v, out_i, out_s, out_r):
    def tally(df, col):
        return dict(df.group_by(col).len().iter_rows())

    flags = pl.concat([out_i.select(a("flags").str.split(";").alias("f")).explode("f"),
                       out_s.select(a("flags").alias("f"))])
    by_reason = {}
    for side, reason, n in out_r.group_by("side", "reason").len().iter_rows():
        by_reason.setdefault(side, {})[reason] = n
    return {"instructions_in": i_v.height, "settlements_in": s_v.height,
            "instructions_accepted": out_i.height, "settlements_accepted": out_s.height,
            "rejects": tally(out_r, "side"), "by_status": tally(out_i, "status"),
            "by_match": tally(out_s, "match_method"),
            "by_flag": tally(flags.filter(a("f") != ""), "f"),
            "rejects_by_reason": by_reason}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(ap)
    args = ap.parse_args()
    cfg = settings(args)

    instr_files = list_inputs(args.instructions, "instructions")
    settl_files = list_inputs(args.settlements, "settlements")
    mu = a("currency").replace_strict(load_currencies(), default=None, return_dtype=pl.Int32)

    i_v = validate_instructions(instr_files, mu)
    s_v = validate_settlements(settl_files, mu)
    ia = i_v.filter(a("reason").is_null()).select(
        "file_idx", "row", "instruction_id", "beneficiary_id", "program", "cycle",
        "provider", "account", "currency", "amt", "due")
    sa = s_v.filter(a("reason").is_null()).select(
        "sid", "file_idx", "row", "provider", "provider_ref", "instruction_id",
        "account", "currency", "status", "amt", a("fee_amt").fill_null(pl.lit(0).cast(AMT)),
        "vdate")

    m_all, ambiguous = match(ia, sa, cfg)
    out_i = classify(ia, sa, m_all, cfg, instr_files)
    out_s = settlements_out(sa, m_all, ambiguous, settl_files)
    rej_cols = ["side", "file", "row", "column", "reason", "value"]
    out_r = pl.concat([
        df.lazy().filter(a("reason").is_not_null())
        .with_columns(side=pl.lit(side), value=a("value").str.slice(0, 200),
                      file=lookup(files, "path"))
        .sort("file_idx", "row").select(rej_cols)
        for side, df, files in (("instructions", i_v, instr_files),
                                ("settlements", s_v, settl_files))]).collect()

    os.makedirs(args.out, exist_ok=True)
    counts = {}
    for name, df in (("instructions", out_i), ("settlements", out_s), ("rejects", out_r)):
        counts[name] = df.height
        final = os.path.join(args.out, f"{name}.parquet")
        df.write_parquet(final + ".tmp")
        os.replace(final + ".tmp", final)
    # Conservation (CONTRACT.md section 2): every input row is in exactly one output row.
    for side, df in (("instructions", i_v), ("settlements", s_v)):
        n_rej = df.select(a("reason").is_not_null().sum()).item()
        if df.height != counts[side] + n_rej:
            print(f"internal error: {side}: {df.height} rows in, {counts[side]} accepted + "
                  f"{n_rej} rejected", file=sys.stderr)
            sys.exit(1)
    # Settlement inputs are numbered after the instruction inputs for the summary.
    rows = dict(i_v.group_by("file_idx").len().iter_rows())
    rows.update({len(instr_files) + k: n
                 for k, n in s_v.group_by("file_idx").len().iter_rows()})
    inputs = instr_files + [type(s)(len(instr_files) + s.idx, s.side, s.path, s.fmt,
                                    s.provider) for s in settl_files]
    write_summary(args.out, "polars-compare", pl.__version__,
                  summary_counts(i_v, s_v, out_i, out_s, out_r), totals(out_i, out_s, ia),
                  inputs, rows, cfg)
    print(f"polars: {counts['instructions']} instructions, {counts['settlements']} "
          f"settlements, {counts['rejects']} rejects -> {args.out}")


if __name__ == "__main__":
    main()
