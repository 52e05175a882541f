#!/usr/bin/env python3
"""sverka reconciliation contract v1, sections 2-4, as a Polars (lazy) script.

    reconcile_polars.py --instructions DIR --settlements DIR --out OUT

Writes OUT/instructions.parquet, OUT/settlements.parquet, OUT/rejects.parquet.
Benchmark comparison only (benches/compare/README.md): Parquet inputs with text columns.

Amounts are exact: the text is validated first, then (fraction normalised to 4 digits, the
largest minor units in the ISO table) cast to Decimal(38, 4). No floating point anywhere.
"""
import argparse
import os
import sys

import polars as pl

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import COLUMNS, check_columns, list_inputs, load_currencies  # noqa: E402

AMT = pl.Decimal(38, 4)
AMOUNT_RE = r"^-?[0-9]+(\.[0-9]+)?$"
DATE_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def tx(c):
    """Trim spaces and tabs; empty -> null ("missing")."""
    s = pl.col(c).cast(pl.Utf8).str.strip_chars(" \t")
    return pl.when(s == "").then(None).otherwise(s).alias(c)


def int_part(c):
    return pl.col(c).str.strip_chars_start("-").str.split_exact(".", 1).struct.field("field_0")


def frac_part(c):
    return pl.col(c).str.split_exact(".", 1).struct.field("field_1").fill_null("")


def amt_ok(c):
    return pl.col(c).str.contains(AMOUNT_RE) & (int_part(c).str.len_chars() <= 15)


def amt_val(c):
    """Exact value at scale 4 of a text that passed amt_ok (null otherwise)."""
    sign = pl.when(pl.col(c).str.starts_with("-")).then(pl.lit("-")).otherwise(pl.lit(""))
    frac4 = frac_part(c).str.slice(0, 4).str.pad_end(4, "0")
    txt = pl.concat_str([sign, int_part(c), pl.lit("."), frac4])
    return pl.when(amt_ok(c)).then(txt).otherwise(None).cast(AMT)


def prec_ok(c):
    """No non-zero digit beyond the currency's minor units (column mu)."""
    beyond = frac_part(c).str.slice(pl.col("mu").cast(pl.Int64))
    return beyond.str.strip_chars_end("0") == ""


def dt_val(c):
    """YYYY-MM-DD and a real calendar date (years 0001-9999: there is no year 0)."""
    ok = pl.col(c).str.contains(DATE_RE) & ~pl.col(c).str.starts_with("0000")
    return pl.when(ok).then(pl.col(c).str.to_date("%Y-%m-%d", strict=False)).otherwise(None)


def first_failing(rules):
    """rules = [(condition, reason, column)] in contract order -> reason, column exprs."""
    reason = pl.when(rules[0][0]).then(pl.lit(rules[0][1]))
    col = pl.when(rules[0][0]).then(pl.lit(rules[0][2]))
    value = pl.when(rules[0][0]).then(pl.col(rules[0][2]))
    for cond, r, c in rules[1:]:
        reason = reason.when(cond).then(pl.lit(r))
        col = col.when(cond).then(pl.lit(c))
        value = value.when(cond).then(pl.col(c))
    return (reason.otherwise(None).alias("reason"), col.otherwise(None).alias("column"),
            value.otherwise(None).alias("value"))


def read_side(side, files):
    frames = []
    for idx, path in files:
        present = set(pl.read_parquet_schema(path).keys())
        absent = check_columns(side, path, present)
        lf = pl.scan_parquet(path)
        cols = [pl.lit(None, pl.Utf8).alias(c) if c in absent else tx(c)
                for c in COLUMNS[side]]
        frames.append(lf.select(
            pl.lit(idx, pl.Int32).alias("file_idx"), pl.lit(path).alias("file"), *cols
        ).with_row_index("row", offset=1).with_columns(pl.col("row").cast(pl.Int64)))
    return pl.concat(frames, how="vertical")


def missing(c):
    return pl.col(c).is_null()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instructions", required=True)
    ap.add_argument("--settlements", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    instr_files = list_inputs(args.instructions, "instructions")
    settl_files = list_inputs(args.settlements, "settlements")
    currencies = load_currencies()
    mu = pl.col("currency").replace_strict(currencies, default=None, return_dtype=pl.Int32)

    # ---- 2. field validation: instructions ------------------------------------------
    i_raw = read_side("instructions", instr_files)
    i_v = i_raw.with_columns(mu.alias("mu"), amt_val("amount").alias("amt"),
                             dt_val("due_date").alias("due"))
    rules = [(missing(c), "missing_field", c) for c in
             ["instruction_id", "beneficiary_id", "program", "cycle", "provider", "account",
              "amount"]]
    rules += [
        (~amt_ok("amount"), "invalid_amount", "amount"),
        (pl.col("amt") <= 0, "non_positive_amount", "amount"),
        (missing("currency"), "missing_field", "currency"),
        (pl.col("mu").is_null(), "unknown_currency", "currency"),
        (~prec_ok("amount"), "amount_precision", "amount"),
        (missing("due_date"), "missing_field", "due_date"),
        (pl.col("due").is_null(), "invalid_date", "due_date"),
    ]
    i_v = i_v.with_columns(*first_failing(rules))
    # de-duplication among field-valid rows: first in input order wins
    i_v = i_v.with_columns(
        dup=pl.when(pl.col("reason").is_null())
        .then(pl.int_range(pl.len()).over(pl.col("reason").is_null(), "instruction_id") > 0)
        .otherwise(False))
    i_v = i_v.with_columns(
        reason=pl.when(pl.col("dup")).then(pl.lit("duplicate_instruction_id"))
        .otherwise(pl.col("reason")),
        column=pl.when(pl.col("dup")).then(pl.lit("instruction_id")).otherwise(pl.col("column")),
        value=pl.when(pl.col("dup")).then(pl.col("instruction_id")).otherwise(pl.col("value")),
    ).collect()

    # ---- 2. field validation: settlements -------------------------------------------
    s_raw = read_side("settlements", settl_files)
    s_v = s_raw.with_columns(mu.alias("mu"), amt_val("amount").alias("amt"),
                             amt_val("fee").alias("fee_amt"),
                             dt_val("value_date").alias("vdate"))
    has_fee = pl.col("fee").is_not_null()
    rules = [(missing(c), "missing_field", c) for c in
             ["provider", "provider_ref", "account", "amount"]]
    rules += [
        (~amt_ok("amount"), "invalid_amount", "amount"),
        (pl.col("amt") < 0, "negative_amount", "amount"),
        (has_fee & ~amt_ok("fee"), "invalid_amount", "fee"),
        (has_fee & (pl.col("fee_amt") < 0), "negative_amount", "fee"),
        (missing("currency"), "missing_field", "currency"),
        (pl.col("mu").is_null(), "unknown_currency", "currency"),
        (~prec_ok("amount"), "amount_precision", "amount"),
        (has_fee & ~prec_ok("fee"), "amount_precision", "fee"),
        (missing("status"), "missing_field", "status"),
        (~pl.col("status").is_in(["SETTLED", "FAILED", "RETURNED"]), "invalid_status",
         "status"),
        (missing("value_date"), "missing_field", "value_date"),
        (pl.col("vdate").is_null(), "invalid_date", "value_date"),
    ]
    s_v = s_v.with_columns(*first_failing(rules))
    s_v = s_v.with_columns(
        dup=pl.when(pl.col("reason").is_null())
        .then(pl.int_range(pl.len()).over(pl.col("reason").is_null(), "provider",
                                           "provider_ref") > 0)
        .otherwise(False))
    s_v = s_v.with_columns(
        reason=pl.when(pl.col("dup")).then(pl.lit("duplicate_provider_ref"))
        .otherwise(pl.col("reason")),
        column=pl.when(pl.col("dup")).then(pl.lit("provider_ref")).otherwise(pl.col("column")),
        value=pl.when(pl.col("dup")).then(pl.col("provider_ref")).otherwise(pl.col("value")),
    ).with_row_index("sid").collect()

    ia = i_v.lazy().filter(pl.col("reason").is_null()).select(
        "file_idx", "row", "instruction_id", "beneficiary_id", "program", "cycle", "provider",
        "account", "currency", "amt", "due").collect()
    sa = s_v.lazy().filter(pl.col("reason").is_null()).select(
        "sid", "provider", "provider_ref", "instruction_id", "account", "currency", "status",
        "amt", "vdate").collect()

    # ---- 3. matching ------------------------------------------------------------------
    ids = ia.select(pl.col("instruction_id").alias("iid"))
    m_ref = (sa.lazy().select("sid", pl.col("instruction_id").alias("iid"))
             .join(ids.lazy(), on="iid", how="semi"))
    m_ref = m_ref.collect()
    fs = sa.lazy().join(m_ref.lazy(), on="sid", how="anti")
    fi = ia.lazy().join(m_ref.lazy().select(pl.col("iid").alias("instruction_id")),
                        on="instruction_id", how="anti")
    cand = (fs.select("sid", "provider", "account", "currency", "amt", "vdate")
            .join(fi.select("instruction_id", "provider", "account", "currency", "amt", "due"),
                  on=["provider", "account", "currency", "amt"], how="inner")
            .filter((pl.col("vdate") - pl.col("due")).dt.total_days().abs() <= 7)
            .select("sid", pl.col("instruction_id").alias("iid"))
            .with_columns(s_n=pl.len().over("sid"), i_n=pl.len().over("iid"))).collect()
    unique = (pl.col("s_n") == 1) & (pl.col("i_n") == 1)
    m_fb = cand.filter(unique).select("sid", "iid")
    ambiguous = cand.filter(~unique).select("sid").unique()
    m_all = pl.concat([m_ref.with_columns(method=pl.lit("REFERENCE")),
                       m_fb.with_columns(method=pl.lit("FALLBACK"))])

    # ---- 4. status and flags -----------------------------------------------------------
    inst = ia.lazy().select(pl.col("instruction_id").alias("iid"),
                            pl.col("currency").alias("i_currency"),
                            pl.col("account").alias("i_account"),
                            pl.col("provider").alias("i_provider"), "due")
    settled = pl.col("status") == "SETTLED"
    returned = pl.col("status") == "RETURNED"
    same_cur = pl.col("currency") == pl.col("i_currency")
    zero = pl.lit(0).cast(AMT)
    agg = (m_all.lazy().join(sa.lazy(), on="sid").join(inst, on="iid")
           .group_by("iid").agg(
               n=pl.len(),
               n_settled=settled.sum(),
               n_returned=returned.sum(),
               cur_mis=(~same_cur).any(),
               paid=pl.when(settled & same_cur).then(pl.col("amt")).otherwise(zero).sum()
               - pl.when(returned & same_cur).then(pl.col("amt")).otherwise(zero).sum(),
               acct_mis=(settled & (pl.col("account") != pl.col("i_account"))).any(),
               late=(settled & ((pl.col("vdate") - pl.col("due")).dt.total_days() > 3)).any(),
               prov_mis=(pl.col("provider") != pl.col("i_provider")).any(),
               fb=(pl.col("method") == "FALLBACK").any(),
           ))
    grp = ["program", "cycle", "currency"]
    med = ia.lazy().group_by(grp).agg(
        med=pl.col("amt").sort().get((pl.len() - 1) // 2))
    dup_ben = (ia.lazy().group_by("beneficiary_id", "program", "cycle").agg(n=pl.len())
               .filter(pl.col("n") >= 2).select("beneficiary_id", "program", "cycle",
                                                 dup_ben=pl.lit(True)))
    shared = (ia.lazy().group_by("provider", "account")
              .agg(nb=pl.col("beneficiary_id").n_unique())
              .filter(pl.col("nb") >= 4).select("provider", "account", shared=pl.lit(True)))

    a = pl.col
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

    flags = pl.concat_str([
        flag(a("acct_mis"), "ACCOUNT_MISMATCH"),
        flag(a("amt") > a("med") * 3, "AMOUNT_OUTLIER"),
        flag(a("dup_ben"), "DUPLICATE_BENEFICIARY"),
        flag(a("fb"), "FALLBACK_MATCH"),
        flag(a("late"), "LATE"),
        flag(a("prov_mis"), "PROVIDER_MISMATCH"),
        flag(a("shared"), "SHARED_ACCOUNT"),
    ], separator=";", ignore_nulls=True)

    out_i = (ia.lazy()
             .join(agg, left_on="instruction_id", right_on="iid", how="left",
                   maintain_order="left")
             .join(med, on=grp, how="left", maintain_order="left")
             .join(dup_ben, on=["beneficiary_id", "program", "cycle"], how="left",
                   maintain_order="left")
             .join(shared, on=["provider", "account"], how="left", maintain_order="left")
             .sort("file_idx", "row")
             .select("instruction_id", status.alias("status"), flags.alias("flags"),
                     a("paid").fill_null(zero).cast(AMT).alias("paid_amount"),
                     a("n").fill_null(0).cast(pl.Int64).alias("settlement_count")))

    out_s = (sa.lazy()
             .join(m_all.lazy(), on="sid", how="left", maintain_order="left")
             .join(ambiguous.lazy().with_columns(amb=pl.lit(True)), on="sid", how="left",
                   maintain_order="left")
             .sort("sid")
             .select("provider", "provider_ref",
                     a("method").fill_null("NONE").alias("match_method"),
                     a("iid").alias("matched_instruction_id"),
                     pl.when(a("amb").fill_null(False)).then(pl.lit("AMBIGUOUS"))
                     .otherwise(pl.lit("")).alias("flags")))

    rej_cols = ["side", "file", "row", "column", "reason", "value"]
    out_r = pl.concat([
        df.lazy().filter(a("reason").is_not_null())
        .with_columns(side=pl.lit(side), value=a("value").str.slice(0, 200))
        .sort("file_idx", "row").select(rej_cols)
        for side, df in (("instructions", i_v), ("settlements", s_v))])

    os.makedirs(args.out, exist_ok=True)
    counts = {}
    for name, lf in (("instructions", out_i), ("settlements", out_s), ("rejects", out_r)):
        df = lf.collect()
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
    print(f"polars: {counts['instructions']} instructions, {counts['settlements']} "
          f"settlements, {counts['rejects']} rejects -> {args.out}")


if __name__ == "__main__":
    main()
