#!/usr/bin/env python3
"""Write a tiny hand-made data set with a known answer for every status, flag, match
method, ambiguity case and (Parquet-possible) reject reason of CONTRACT.md v2 sections 2-4,
including the v2 optional settlement values (account; amount and currency of FAILED rows).

    make_tiny.py OUT_DIR [--format parquet|csv|arrow]

Layout as docs/REFERENCE-DATA.md: OUT_DIR/instructions/instructions-000{0,1}.EXT,
OUT_DIR/settlements/<PROVIDER>.EXT (HUMO has no `fee` column, to exercise an absent
optional column), OUT_DIR/truth/{instructions,settlements,rejects}.parquet; EXT is the
format's (default parquet). All input columns are text, the same rows in every format.
The expected answers below are written by hand, one per row, not computed: that is the
point. The truth names each accepted row's file and 1-based row too. (`malformed_row` is
CSV-only and is not written here.)
"""
import argparse
import os

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

ICOLS = ["instruction_id", "beneficiary_id", "program", "cycle", "provider", "account",
         "amount", "currency", "due_date"]
SCOLS = ["provider", "provider_ref", "instruction_id", "account", "amount", "fee",
         "currency", "status", "value_date"]

instr_files = {"instructions-0000.parquet": [], "instructions-0001.parquet": []}
settl_files = {"HUMO.parquet": [], "PAYME.parquet": [], "UZCARD.parquet": []}
truth_i, truth_s, truth_r = [], [], []


def inst(iid, status=None, flags="", paid="0.00", reject=None, file="instructions-0000.parquet",
         **kw):
    row = {"instruction_id": iid, "beneficiary_id": f"B_{iid}", "program": "CT",
           "cycle": "2026-11", "provider": "UZCARD", "account": f"ACC_{iid}",
           "amount": "100000.00", "currency": "UZS", "due_date": "2026-11-10"}
    row.update(kw)
    rows = instr_files[file]
    rows.append(row)
    if reject:
        truth_r.append(("instructions", file, len(rows), reject))
    else:
        assert status, iid
        truth_i.append((iid.strip(" \t"), status, flags, paid, file, len(rows)))


SEQ = {}


def settl(provider, iid="", account=None, amount="100000.00", currency="UZS",
          status="SETTLED", vdate="2026-11-10", fee="", ref=None, method="NONE", match="",
          flags="", reject=None, file=None):
    SEQ[provider] = SEQ.get(provider, 0) + 1
    ref = ref if ref is not None else f"{provider}-{SEQ[provider]:03d}"
    row = {"provider": provider, "provider_ref": ref, "instruction_id": iid,
           "account": account if account is not None else f"ACC_{iid.strip()}",
           "amount": amount, "fee": fee, "currency": currency, "status": status,
           "value_date": vdate}
    file = file or f"{provider}.parquet"
    rows = settl_files[file]
    rows.append(row)
    if reject:
        truth_r.append(("settlements", file, len(rows), reject))
    else:
        assert method == "NONE" or match
        truth_s.append((provider.strip(" \t"), ref.strip(" \t"), method, match, flags,
                        file, len(rows)))


# ---------------------------------------------------------------- statuses (section 4)
inst("I01", "UNPAID")
settl("UZCARD", "I01", status="settled", reject="invalid_status")  # rejected: no effect
inst("I02", "PAID", paid="100000.00")
settl("UZCARD", "I02", fee="1500.00", method="REFERENCE", match="I02")
inst("I03", "CURRENCY_MISMATCH")
settl("UZCARD", "I03", amount="100000.00", currency="USD", method="REFERENCE", match="I03")
inst("I04", "DOUBLE_PAID", paid="200000.00")
settl("UZCARD", "I04", method="REFERENCE", match="I04")
settl("UZCARD", "I04", method="REFERENCE", match="I04")
inst("I05", "RETURNED", paid="-100000.00")  # rule 4
settl("UZCARD", "I05", status="RETURNED", method="REFERENCE", match="I05")
inst("I06", "FAILED")  # a FAILED settlement to another account is no ACCOUNT_MISMATCH
settl("UZCARD", "I06", account="OTHER", status="FAILED", method="REFERENCE", match="I06")
inst("I07", "RETURNED")  # rule 6: paid = 0
settl("UZCARD", "I07", method="REFERENCE", match="I07")
settl("UZCARD", "I07", status="RETURNED", vdate="2026-11-20", method="REFERENCE", match="I07")
inst("I08", "UNDERPAID", paid="60000.50")
settl("UZCARD", "I08", amount="60000.50", method="REFERENCE", match="I08")
inst("I09", "OVERPAID", paid="100000.01")
settl("UZCARD", "I09", amount="100000.01", method="REFERENCE", match="I09")
inst("I10", "PAID", paid="100000.00", amount="100000")  # exact decimal compare
settl("UZCARD", "I10", amount="100000.000", method="REFERENCE", match="I10")
inst("I11", "UNDERPAID", paid="60000.00")
settl("UZCARD", "I11", method="REFERENCE", match="I11")
settl("UZCARD", "I11", amount="40000.00", status="RETURNED", method="REFERENCE", match="I11")
inst("I12", "PAID", "ACCOUNT_MISMATCH", paid="100000.00")
settl("UZCARD", "I12", account="ACC_X", method="REFERENCE", match="I12")
inst("I13", "PAID", "LATE", paid="100000.00")
settl("UZCARD", "I13", vdate="2026-11-14", method="REFERENCE", match="I13")
inst("I14", "PAID", paid="100000.00")  # due+3 is not late; RETURNED 0 late/other acct: no flag
settl("UZCARD", "I14", vdate="2026-11-13", method="REFERENCE", match="I14")
settl("UZCARD", "I14", amount="0.00", status="RETURNED", account="OTHER", vdate="2026-11-30",
      method="REFERENCE", match="I14")
inst("I15", "PAID", "PROVIDER_MISMATCH", paid="100000.00")
settl("HUMO", "I15", method="REFERENCE", match="I15")
inst("I16", "PAID", "PROVIDER_MISMATCH", paid="100000.00")  # any matched, even FAILED
settl("PAYME", "I16", status="FAILED", method="REFERENCE", match="I16")
settl("UZCARD", "I16", method="REFERENCE", match="I16")
inst("I17", "CURRENCY_MISMATCH", paid="100000.00")  # beats DOUBLE_PAID
settl("UZCARD", "I17", method="REFERENCE", match="I17")
settl("UZCARD", "I17", amount="10.00", currency="USD", method="REFERENCE", match="I17")
inst("I18", "CURRENCY_MISMATCH")  # a FAILED one in another currency is enough
settl("UZCARD", "I18", currency="USD", status="FAILED", method="REFERENCE", match="I18")
inst("I19", "DOUBLE_PAID", paid="100000.00")
settl("UZCARD", "I19", method="REFERENCE", match="I19")
settl("UZCARD", "I19", method="REFERENCE", match="I19")
settl("UZCARD", "I19", status="RETURNED", method="REFERENCE", match="I19")
inst("I20", "RETURNED", paid="-100000.00")
settl("UZCARD", "I20", status="FAILED", method="REFERENCE", match="I20")
settl("UZCARD", "I20", status="RETURNED", method="REFERENCE", match="I20")
inst("I21", "RETURNED")
settl("UZCARD", "I21", method="REFERENCE", match="I21")
settl("UZCARD", "I21", amount="50000", status="RETURNED", method="REFERENCE", match="I21")
settl("UZCARD", "I21", amount="50000.00", status="RETURNED", method="REFERENCE", match="I21")
inst("I22", "OVERPAID", paid="120000.00")
settl("UZCARD", "I22", amount="150000.00", method="REFERENCE", match="I22")
settl("UZCARD", "I22", amount="30000.00", status="RETURNED", method="REFERENCE", match="I22")
inst("I23", "PAID", paid="100000.00")
settl("UZCARD", "I23", status="FAILED", method="REFERENCE", match="I23")
settl("UZCARD", "I23", method="REFERENCE", match="I23")
inst("I24", "UNDERPAID")  # SETTLED 0.00: settlement amount >= 0 is valid
settl("UZCARD", "I24", amount="0.00", method="REFERENCE", match="I24")

# ---------------------------------------------------------------- fallback (section 3)
inst("I25", "PAID", "FALLBACK_MATCH;LATE", paid="100000.00")
settl("UZCARD", "", account="ACC_I25", amount="100000.0", vdate="2026-11-17",
      method="FALLBACK", match="I25")                               # +7 days
inst("I26", "PAID", "FALLBACK_MATCH", paid="100000.00")
settl("UZCARD", "I26x", account="ACC_I26", vdate="2026-11-03",
      method="FALLBACK", match="I26")                               # mangled id, -7 days
inst("I27", "UNPAID")
settl("UZCARD", "", account="ACC_I27", vdate="2026-11-18")          # +8: no candidate
inst("I28", "FAILED", "FALLBACK_MATCH")
settl("UZCARD", "", account="ACC_I28", status="FAILED", method="FALLBACK", match="I28")
# one settlement, two candidate instructions
inst("IA1", "UNPAID", account="SHARED_AMB", amount="50000.00")
inst("IA2", "UNPAID", account="SHARED_AMB", amount="50000.00")
settl("UZCARD", "", account="SHARED_AMB", amount="50000.00", flags="AMBIGUOUS")
# two settlements, one candidate instruction
inst("IA3", "UNPAID", amount="70000.00")
settl("UZCARD", "", account="ACC_IA3", amount="70000.00", flags="AMBIGUOUS")
settl("UZCARD", "", account="ACC_IA3", amount="70000.00", vdate="2026-11-12", flags="AMBIGUOUS")
# a reference-matched instruction takes no part in fallback
inst("IR1", "PAID", paid="100000.00")
settl("UZCARD", "IR1", method="REFERENCE", match="IR1")
settl("UZCARD", "", account="ACC_IR1")
# a reference-matched settlement takes no part in fallback
inst("I33", "PAID", "ACCOUNT_MISMATCH", paid="100000.00")
settl("UZCARD", "I33", account="ACC_I34", method="REFERENCE", match="I33")
inst("I34", "PAID", "FALLBACK_MATCH", paid="100000.00")
settl("UZCARD", "", account="ACC_I34", method="FALLBACK", match="I34")
# mutual uniqueness: SM1 has one candidate (I35) but I35 has two (SM1, SM2)
inst("I35", "UNPAID", account="ACC_M", amount="80000.00")
inst("I36", "UNPAID", account="ACC_M", amount="80000.00", due_date="2026-11-20")
settl("UZCARD", "", account="ACC_M", amount="80000.00", vdate="2026-11-05", flags="AMBIGUOUS")
settl("UZCARD", "", account="ACC_M", amount="80000.00", vdate="2026-11-14", flags="AMBIGUOUS")
# fallback needs the same currency and the same provider
inst("I37", "UNPAID")
settl("UZCARD", "", account="ACC_I37", currency="USD")
inst("I38", "UNPAID")
settl("HUMO", "", account="ACC_I38")

# ---------------------------------------------------------------- flags (section 4)
inst("I39", "UNPAID", "DUPLICATE_BENEFICIARY", beneficiary_id="BEN_D")
inst("I40", "UNPAID", "DUPLICATE_BENEFICIARY", beneficiary_id="BEN_D")
inst("I41", "UNPAID", beneficiary_id="BEN_D", cycle="2026-12")
for k in range(1, 5):
    inst(f"IS{k}", "UNPAID", "SHARED_ACCOUNT", provider="PAYME", account="WALLET_S",
         beneficiary_id=f"SB{k}")
inst("IS5", "UNPAID", provider="HUMO", account="WALLET_S", beneficiary_id="SB5")
inst("IN1", "UNPAID", provider="PAYME", account="WALLET_N", beneficiary_id="NB1")
inst("IN2", "UNPAID", provider="PAYME", account="WALLET_N", beneficiary_id="NB2")
inst("IN3", "UNPAID", provider="PAYME", account="WALLET_N", beneficiary_id="NB3")
inst("IN4", "UNPAID", provider="PAYME", account="WALLET_N", beneficiary_id="NB3", cycle="2026-10")
# lower median of [10, 20, 30, 61] is 20 -> 61 > 60 (an upper median or the two rejected
# 1000.00 rows below would give 30)
inst("IO1", "UNPAID", program="OUT", amount="10.00")
inst("IO2", "UNPAID", program="OUT", amount="20.00")
inst("IO3", "UNPAID", program="OUT", amount="30.00")
inst("IO4", "UNPAID", "AMOUNT_OUTLIER", program="OUT", amount="61.00")
inst("IO5", "UNPAID", program="OUT", amount="1000.00", due_date="2026-11-31",
     reject="invalid_date")
inst("IOJ", "UNPAID", program="OUT", amount="61.000", currency="JOD")
for k, a in enumerate(["100", "100", "300", "301", "1000"], 1):
    inst(f"IP{k}", "UNPAID", "AMOUNT_OUTLIER" if a == "1000" else "", program="OUT2", amount=a)
inst("IQ1", "UNPAID", program="OUT3", amount="10")
inst("IQ2", "UNPAID", program="OUT3", amount="30")  # 30 > 3 x 10 is false
# exactness at the edges
inst("IBIG", "PAID", paid="123456789012345.99", program="BIG", amount="123456789012345.99")
settl("UZCARD", "IBIG", amount="123456789012345.99", method="REFERENCE", match="IBIG")
inst("IZ", "PAID", paid="450000.00", program="Z", amount="450000.000")
settl("UZCARD", "IZ", amount="450000", method="REFERENCE", match="IZ")
inst("IUGX", "PAID", paid="25000", program="U", amount="25000", currency="UGX")
settl("UZCARD", "IUGX", amount="25000.0", currency="UGX", method="REFERENCE", match="IUGX")
inst("IJOD", "PAID", paid="40.000", program="J", amount="40.000", currency="JOD")
settl("UZCARD", "IJOD", amount="40", currency="JOD", method="REFERENCE", match="IJOD")
inst("ICLF", "UNDERPAID", paid="1.2344", program="C", amount="1.2345", currency="CLF")
settl("UZCARD", "ICLF", amount="1.2344", currency="CLF", method="REFERENCE", match="ICLF")
inst(" I_TRIM\t", "PAID", paid="100000.00", amount="\t100000.00 ", account="ACC_T")
settl("UZCARD", "I_TRIM ", account=" ACC_T", status=" SETTLED", method="REFERENCE",
      match="I_TRIM")

# ---------------------------------------------------------------- instruction rejects
inst("", reject="missing_field")
inst("R02", beneficiary_id="  ", reject="missing_field")
inst("R03", program=None, reject="missing_field")
inst("R04", amount="1,000.00", reject="invalid_amount")
inst("R05", amount="1e5", reject="invalid_amount")
inst("R06", amount="1234567890123456", reject="invalid_amount")     # 16 integer digits
inst("R07", amount="0.00", reject="non_positive_amount")
inst("R08", amount="-5.00", reject="non_positive_amount")
inst("R09", currency="XXX", reject="unknown_currency")
inst("R10", currency="uzs", reject="unknown_currency")
inst("R11", currency="HRK", reject="unknown_currency")
inst("R12", amount="450000.005", reject="amount_precision")
inst("R13", amount="10.5", currency="UGX", reject="amount_precision")
inst("R14", due_date="2026-02-30", reject="invalid_date")
inst("R15", due_date="2026-2-03", reject="invalid_date")
inst("R16", due_date="20261101", reject="invalid_date")
inst("R17", amount="abc", currency="XYZ", reject="invalid_amount")   # column order
inst("", amount="abc", reject="missing_field")
inst("R19", amount="1.001", due_date="bad", reject="amount_precision")
inst("R20", amount="0", currency="", reject="non_positive_amount")
inst("R21", amount="", reject="missing_field")
inst("R22", due_date="", reject="missing_field")
inst("R23", amount="+5.00", reject="invalid_amount")
inst("R24", amount="5.", reject="invalid_amount")
inst("R25", amount=".5", reject="invalid_amount")
inst("R26", due_date="2025-02-29", reject="invalid_date")
inst("R27", amount="1 000.00", reject="invalid_amount")
inst("R28", due_date="0000-01-01", reject="invalid_date")           # there is no year 0
inst("R29", amount="0000000000000001", reject="invalid_amount")     # 16 digits as written
inst("R30", amount="-0", reject="non_positive_amount")
inst("R31", amount="100000.00\r", reject="invalid_amount")          # only space/tab trimmed
settl("UZCARD", "R09")                                                # rejected id: NONE
# duplicates: the first *field-valid* row wins, across files
inst("I_DUPX", amount="abc", reject="invalid_amount")
inst("I_DUPX", "UNPAID")
inst("I_DUPX", reject="duplicate_instruction_id", file="instructions-0001.parquet")
inst("IO1", program="OUT", amount="1000.00", reject="duplicate_instruction_id",
     file="instructions-0001.parquet")
inst("I_F1", "PAID", paid="100000.00", provider="PAYME", file="instructions-0001.parquet")
settl("PAYME", "I_F1", method="REFERENCE", match="I_F1")
inst("I_F1", account="other", reject="duplicate_instruction_id",
     file="instructions-0001.parquet")

# ---------------------------------------------------------------- settlement rejects
settl("PAYME", "I01", ref="", reject="missing_field")
settl("PAYME", "I01", amount="abc", reject="invalid_amount")
settl("PAYME", "I01", fee="1.2.3", reject="invalid_amount")
settl("PAYME", "I01", amount="-1.00", reject="negative_amount")
settl("PAYME", "I01", fee="-0.50", reject="negative_amount")
settl("PAYME", "I01", currency="ZWL", reject="unknown_currency")
settl("PAYME", "I01", fee="0.001", reject="amount_precision")
settl("PAYME", "I01", amount="100.001", reject="amount_precision")
settl("PAYME", "I01", status="PENDING", vdate="bad", reject="invalid_status")
settl("PAYME", "I01", vdate="2026-13-01", reject="invalid_date")
settl("PAYME", "I01", status="", reject="missing_field")
settl("PAYME", "I01", amount="", reject="missing_field")
settl("PAYME", "I01", vdate=" ", reject="missing_field")
settl("PAYME", "I01", fee="abc", currency="XYZ", reject="invalid_amount")  # fee before currency
settl("PAYME", "I01", amount="1.001", status="BAD", reject="amount_precision")
settl("PAYME", "", account="NOBODY", fee=" ")              # unexpected money, empty fee
settl("PAYME", "", account="NOBODY", amount="0", fee="0.00")
settl("PAYME", "", account="NOBODY", amount="-0.00", fee="-0")      # zero is not negative
settl("PAYME", "I01", ref="DUPREF", status="BAD", reject="invalid_status")
settl("PAYME", "", ref="DUPREF", account="NOBODY2")
settl("PAYME", "", ref="DUPREF", account="NOBODY3", reject="duplicate_provider_ref")
settl("HUMO", "", ref="DUPREF", account="NOBODY4")          # other provider: not a duplicate
settl("HUMO", "", ref=" DUPREF\t", account="NOBODY5", reject="duplicate_provider_ref")
# a row whose provider column is empty, in UZCARD's file
settl("", "I01", file="UZCARD.parquet", reject="missing_field")

# ---------------------------------------------------------------- (v2) optional values
inst("IV1", "FAILED")   # a FAILED report may leave account, amount and currency empty
settl("UZCARD", "IV1", account="", amount="", currency="", status=" FAILED\t",
      method="REFERENCE", match="IV1")
inst("IV2", "PAID", paid="100000.00")   # an empty account is no ACCOUNT_MISMATCH
settl("UZCARD", "IV2", account="", method="REFERENCE", match="IV2")
inst("IV3", "PAID", paid="100000.00")   # no currency: no CURRENCY_MISMATCH
settl("UZCARD", "IV3", account="", amount="", currency="", status="FAILED",
      method="REFERENCE", match="IV3")
settl("UZCARD", "IV3", method="REFERENCE", match="IV3")
inst("IV4", "UNPAID")   # without amount (or account, or currency): never a candidate
settl("UZCARD", "", account="ACC_IV4", amount="", status="FAILED")
settl("UZCARD", "", account="ACC_IV4", amount="", currency="", status="FAILED")
settl("UZCARD", "", account="", amount="100000.00", vdate="2026-11-11")
inst("IV5", "CURRENCY_MISMATCH")   # a FAILED row naming another currency still counts
settl("UZCARD", "IV5", account="", amount="", currency="USD", status="FAILED",
      method="REFERENCE", match="IV5")
settl("PAYME", "I01", amount="", currency="", status="FAILED", fee="0",
      reject="missing_field")                            # a fee has a value: currency needed
settl("PAYME", "I01", amount="5.00", currency="", status="FAILED", reject="missing_field")
settl("PAYME", "I01", amount="", currency="", status="failed", reject="missing_field")
settl("PAYME", "I01", amount="", currency="", status="RETURNED", reject="missing_field")
settl("PAYME", "I01", amount="", currency="XYZ", status="FAILED", reject="unknown_currency")
settl("PAYME", "I01", amount="", currency="UGX", fee="0.5", status="FAILED",
      reject="amount_precision")


def write(path, cols, rows, fmt, drop=()):
    cols = [c for c in cols if c not in drop]
    table = pa.table({c: pa.array([r[c] for r in rows], pa.string()) for c in cols})
    if fmt == "parquet":
        pq.write_table(table, path)
    elif fmt == "arrow":
        with pa.ipc.new_file(path, table.schema) as w:
            w.write_table(table)
    else:
        # Every field quoted: keeps the spaces, tabs and the CR of the edge cases as they
        # are (a null is written as an empty field, which is what the contract sees).
        pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="all_valid"))


def main():
    ap = argparse.ArgumentParser(description="Write the tiny hand-made data set.")
    ap.add_argument("out")
    ap.add_argument("--format", choices=("parquet", "csv", "arrow"), default="parquet")
    args = ap.parse_args()
    out, ext = args.out, args.format

    def named(f):
        return f.replace(".parquet", f".{ext}")

    for d in ("instructions", "settlements", "truth"):
        os.makedirs(os.path.join(out, d), exist_ok=True)
    for name, rows in instr_files.items():
        write(os.path.join(out, "instructions", named(name)), ICOLS, rows, ext)
    for name, rows in settl_files.items():
        for r in rows:
            assert name != "HUMO.parquet" or r["fee"] == ""
        write(os.path.join(out, "settlements", named(name)), SCOLS, rows, ext,
              drop=("fee",) if name == "HUMO.parquet" else ())
    pq.write_table(pa.table({
        "instruction_id": [t[0] for t in truth_i], "status": [t[1] for t in truth_i],
        "flags": [t[2] for t in truth_i], "paid_amount": [t[3] for t in truth_i],
        "file": [named(t[4]) for t in truth_i],
        "row": pa.array([t[5] for t in truth_i], pa.int64()),
        "decision_ids": [""] * len(truth_i)}),
        os.path.join(out, "truth", "instructions.parquet"))
    pq.write_table(pa.table({
        "provider": [t[0] for t in truth_s], "provider_ref": [t[1] for t in truth_s],
        "match_method": [t[2] for t in truth_s],
        "matched_instruction_id": [t[3] for t in truth_s], "flags": [t[4] for t in truth_s],
        "file": [named(t[5]) for t in truth_s],
        "row": pa.array([t[6] for t in truth_s], pa.int64()),
        "format": [ext] * len(truth_s), "decision_ids": [""] * len(truth_s)}),
        os.path.join(out, "truth", "settlements.parquet"))
    pq.write_table(pa.table({
        "side": [t[0] for t in truth_r], "file": [named(t[1]) for t in truth_r],
        "row": pa.array([t[2] for t in truth_r], pa.int64()),
        "reason": [t[3] for t in truth_r]}),
        os.path.join(out, "truth", "rejects.parquet"))
    n_i = sum(len(r) for r in instr_files.values())
    n_s = sum(len(r) for r in settl_files.values())
    print(f"tiny data set ({ext}) in {out}: {n_i} instructions ({len(truth_i)} accepted), "
          f"{n_s} settlements ({len(truth_s)} accepted), {len(truth_r)} rejects")


if __name__ == "__main__":
    main()
