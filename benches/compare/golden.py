#!/usr/bin/env python3
"""Run the DuckDB and Polars scripts on the golden cases and compare with expected.json.

    /work/venv-compare/bin/python benches/compare/golden.py [--impl duckdb|polars]
                                                            [--case SUBSTRING] [-v]

Each testdata/cases/<case>/ holds inputs, optional args.txt / settlements.args and an
expected.json written by hand from the contract. Cases whose inputs are provider files
(CONTRACT section 7: a providers.toml, or an input that is XML or MT940 by its content)
are skipped: the scripts implement the contract's own CSV/Parquet/Arrow layout only.

The comparison is the one of engine/tests/golden.rs: the run's exit status (2: each
`error_contains` text must be in the error message); for a run that succeeds, each output
(instructions, settlements, rejects) has exactly as many rows as expected and every field an
expected row lists equals the output's text (amounts with exactly the currency's minor
units, `file` relative to the case folder, empty for null); every key of the expected
`summary` is in summary.json (a string starting with `~` only has to be contained; a path
is compared relative to the case folder). Exit status 0 when every case run passes, 1 if
any fails.
"""
import argparse
import datetime
import decimal
import json
import os
import subprocess
import sys
import tempfile

import pyarrow.parquet as pq

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from common import amount_text, load_currencies  # noqa: E402

CASES = os.path.normpath(os.path.join(HERE, "..", "..", "testdata", "cases"))
SCRIPTS = {"duckdb": "duckdb_reconcile.py", "polars": "reconcile_polars.py"}
OPTIONS = {"--late-days", "--fallback-days", "--shared-account-min", "--outlier-factor"}
MU = load_currencies()


def side_path(case, side):
    f = os.path.join(case, f"{side}.csv")
    d = os.path.join(case, side)
    return d if not os.path.exists(f) and os.path.isdir(d) else f


def settlement_args(case):
    p = os.path.join(case, "settlements.args")
    if not os.path.exists(p):
        return [side_path(case, "settlements")]
    out = []
    with open(p, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            code, sep, path = line.partition("=")
            out.append(f"{code}={os.path.join(case, path)}" if sep
                       else os.path.join(case, line))
    return out


def provider_file(path):
    """Whether a file is a provider file by its content (section 7.1): XML or MT940."""
    try:
        with open(path, "rb") as f:
            head = f.read(512).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError:
        return False
    return head.startswith((b"<", b":20:", b"{1:"))


def skip_reason(case, settl):
    if os.path.exists(os.path.join(case, "providers.toml")):
        return "provider profile (providers.toml, section 7)"
    # A CODE=PATH argument (settlements.args) names PATH.
    paths = [side_path(case, "instructions")] + [
        s if os.path.exists(s) else s.partition("=")[2] or s for s in settl]
    for p in paths:
        files = ([os.path.join(p, n) for n in sorted(os.listdir(p))]
                 if os.path.isdir(p) else [p])
        for f in files:
            ext = os.path.splitext(f)[1].lower()
            if ext in (".xml", ".sta", ".940", ".mt940", ".xlsx") or (
                    os.path.isfile(f) and ext in (".csv", "") and provider_file(f)):
                return f"provider file {os.path.relpath(f, case)} (section 7)"
    return None


def case_options(case):
    p = os.path.join(case, "args.txt")
    if not os.path.exists(p):
        return []
    with open(p, encoding="utf-8") as f:
        words = f.read().split()
    for w in words[::2]:
        if w not in OPTIONS:
            raise SystemExit(f"{case}: args.txt option {w} is not known to golden.py")
    return words


# ---------------------------------------------------------------- outputs as text rows
def text(v, mu=None):
    if v is None:
        return ""
    if isinstance(v, decimal.Decimal):
        return amount_text(v, mu if mu is not None else 0)
    if isinstance(v, (datetime.date, datetime.datetime)):
        return v.isoformat()
    return str(v)


AMOUNTS = {"instructions": ("amount", "paid_amount", "difference"),
           "settlements": ("amount", "fee")}


def read_rows(out, part):
    """The output's rows as {column: text}, as sverka's CSV would write them."""
    rows = pq.read_table(os.path.join(out, f"{part}.parquet")).to_pylist()
    amounts = AMOUNTS.get(part, ())
    result = []
    for r in rows:
        mu = MU.get(r.get("currency")) if "currency" in r else None
        result.append({k: text(v, mu if k in amounts else None) for k, v in r.items()})
    return result


def expected_text(v):
    return v if isinstance(v, str) else json.dumps(v)


def compare_rows(what, expected, actual, case):
    errs = []
    if len(expected) != len(actual):
        errs.append(f"{what}: expected {len(expected)} rows, got {len(actual)}")
    for i, (e, a) in enumerate(zip(expected, actual), 1):
        for k, ev in e.items():
            av = a.get(k, "")
            if k == "file" and av.startswith(case + os.sep):
                av = av[len(case) + 1:]
            if expected_text(ev) != av:
                errs.append(f"{what} row {i}: {k}: expected {expected_text(ev)!r}, got {av!r}"
                            f"  (row {a})")
    return errs


def subset(at, want, got, case, errs):
    """golden.rs `subset`: every key of an object, every element of a same-length array,
    equal scalars; `~text` is contained; a path under the case compared without it."""
    if isinstance(want, dict) and isinstance(got, dict):
        for k, wv in want.items():
            if k in got:
                subset(f"{at}.{k}", wv, got[k], case, errs)
            else:
                errs.append(f"{at}.{k} missing")
    elif isinstance(want, list) and isinstance(got, list) and len(want) == len(got):
        for i, (wv, gv) in enumerate(zip(want, got)):
            subset(f"{at}[{i}]", wv, gv, case, errs)
    elif isinstance(want, str) and isinstance(got, str) and want.startswith("~"):
        if want[1:] not in got:
            errs.append(f"{at}: expected to contain {want[1:]!r}, got {got!r}")
    elif isinstance(want, str) and isinstance(got, str):
        g = got[len(case) + 1:] if got.startswith(case + os.sep) else got
        if g != want:
            errs.append(f"{at}: expected {want!r}, got {got!r}")
    elif want != got or type(want) is not type(got):
        errs.append(f"{at}: expected {json.dumps(want)}, got {json.dumps(got)}")


def check(impl, case, expected, settl):
    with tempfile.TemporaryDirectory(prefix=f"golden-{impl}-") as tmp:
        out = os.path.join(tmp, "out")
        cmd = [sys.executable, os.path.join(HERE, SCRIPTS[impl]),
               "--instructions", side_path(case, "instructions"),
               "--settlements", *settl, "--out", out, *case_options(case)]
        p = subprocess.run(cmd, capture_output=True, text=True)
        want = expected.get("exit_code", 0)
        if p.returncode != 0 or want != 0:
            errs = []
            if p.returncode != want:
                errs.append(f"expected exit {want}, got {p.returncode}: "
                            f"{p.stderr.strip()[-600:]}")
            elif want != 0:
                errs += [f"error message {p.stderr.strip()!r} lacks {s!r}"
                         for s in expected.get("error_contains", []) if s not in p.stderr]
            return errs
        errs = []
        for part in ("instructions", "settlements", "rejects"):
            errs += compare_rows(part, expected.get(part) or [], read_rows(out, part), case)
        if "summary" in expected:
            with open(os.path.join(out, "summary.json"), encoding="utf-8") as f:
                subset("summary", expected["summary"], json.load(f), case, errs)
        return errs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--impl", choices=sorted(SCRIPTS), action="append",
                    help="run only this implementation (repeatable; default both)")
    ap.add_argument("--case", help="run only cases whose folder name contains this")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every mismatch")
    args = ap.parse_args()
    impls = args.impl or sorted(SCRIPTS)
    cases = sorted(d for d in os.listdir(CASES)
                   if os.path.exists(os.path.join(CASES, d, "expected.json"))
                   and (not args.case or args.case in d))
    tally = {i: {"pass": 0, "fail": [], "skip": []} for i in impls}
    for name in cases:
        case = os.path.join(CASES, name)
        with open(os.path.join(case, "expected.json"), encoding="utf-8") as f:
            expected = json.load(f)
        settl = settlement_args(case)
        why = skip_reason(case, settl)
        if why:
            print(f"SKIP {name}: {why}")
            for i in impls:
                tally[i]["skip"].append(name)
            continue
        line = []
        for impl in impls:
            errs = check(impl, case, expected, settl)
            if errs:
                tally[impl]["fail"].append(name)
                line.append(f"{impl} FAIL")
                for e in errs if args.verbose else errs[:5]:
                    print(f"    {impl}: {name}: {e}")
                if not args.verbose and len(errs) > 5:
                    print(f"    {impl}: {name}: ... {len(errs) - 5} more (-v shows all)")
            else:
                tally[impl]["pass"] += 1
                line.append(f"{impl} ok")
        print(f"{'FAIL' if any('FAIL' in x for x in line) else 'ok  '} {name}: "
              f"{', '.join(line)}")
    print()
    bad = False
    for impl in impls:
        t = tally[impl]
        print(f"{impl}: {t['pass']} passed, {len(t['fail'])} failed, {len(t['skip'])} skipped"
              + (f"; failed: {', '.join(t['fail'])}" if t["fail"] else ""))
        bad |= bool(t["fail"])
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
