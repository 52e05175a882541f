#!/usr/bin/env python3
"""A decision file for benchmarking `--decisions` (CONTRACT section 8), made from a
reconciliation's CSV outputs (`sverka reconcile ... --csv --out RESULTS`):

    mkdec.py RESULTS COUNT > decisions.csv

Of COUNT approved decisions (maker and checker differ), 40 % ACCEPT exception
instructions, 30 % UNMATCH reference matches, and 30 % MATCH: half of them give
unexpected settlements an UNPAID instruction, half re-point reference matches to one.
The rows each kind names are spread evenly over the files (every k-th candidate), as a
month's reviewed exceptions are, so the run touches rows all over its tables. The same
results give the same file. Standard library only: it runs wherever python3 does.
"""
import csv
import sys

EXCEPTIONS = {"UNPAID", "DOUBLE_PAID", "UNDERPAID", "OVERPAID", "CURRENCY_MISMATCH"}


def spread(rows, n):
    """n rows of `rows`, evenly spaced, in order."""
    if n > len(rows):
        sys.exit(f"mkdec.py: {n} wanted, only {len(rows)} candidates")
    step = len(rows) / n
    return [rows[int(k * step)] for k in range(n)]


def unguard(v):
    """The value without the spreadsheet guard the CSV output adds."""
    return v[1:] if v.startswith("'") else v


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: mkdec.py RESULTS COUNT > decisions.csv")
    results, count = sys.argv[1], int(sys.argv[2])
    n_accept = count * 4 // 10
    n_unmatch = count * 3 // 10
    n_match = count - n_accept - n_unmatch
    with open(f"{results}/instructions.csv", newline="", encoding="utf-8") as f:
        ins = [(r["instruction_id"], r["status"]) for r in csv.DictReader(f)]
    with open(f"{results}/settlements.csv", newline="", encoding="utf-8") as f:
        sets = [
            (unguard(r["provider"]), unguard(r["provider_ref"]), r["match_method"], r["status"])
            for r in csv.DictReader(f)
        ]
    unpaid = [i for i, s in ins if s == "UNPAID"]
    other = [i for i, s in ins if s in EXCEPTIONS and s != "UNPAID"]
    reference = [(p, r) for p, r, m, _ in sets if m == "REFERENCE"]
    unexpected = [(p, r) for p, r, m, s in sets if m == "NONE" and s == "SETTLED"]

    # ACCEPT takes the exceptions that are not UNPAID, then UNPAID ones from the end of
    # the list; MATCH gives the UNPAID ones from the start to settlements.
    accept = spread(other, min(n_accept, len(other)))
    accept += unpaid[len(unpaid) - (n_accept - len(accept)) :]
    to_unexpected = n_match // 2
    targets = iter(unpaid)
    # UNMATCH and re-pointing take disjoint reference matches, interleaved evenly.
    n_repoint = n_match - to_unexpected
    picked = spread(reference, n_unmatch + n_repoint)
    total = len(picked)
    unmatch, repoint = [], []
    for k, p in enumerate(picked):
        turn = (k + 1) * n_repoint // total > k * n_repoint // total
        (repoint if turn else unmatch).append(p)
    matches = spread(unexpected, to_unexpected) + repoint

    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(
        ["decision_id", "action", "provider", "provider_ref", "instruction_id", "note",
         "decided_by", "approved_by"]
    )
    k = 0

    def row(action, provider, ref, instruction, note):
        nonlocal k
        k += 1
        w.writerow([f"D-{k:07d}", action, provider, ref, instruction, note,
                    f"maker{k % 7}", f"checker{k % 5}"])

    for i in accept:
        row("ACCEPT", "", "", i, "paid outside the run; receipt on file")
    for p, r in unmatch:
        row("UNMATCH", p, r, "", "reference reused by the provider")
    for p, r in matches:
        row("MATCH", p, r, next(targets), "beneficiary confirmed the payment")


main()
