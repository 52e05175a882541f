import json
import threading
import time

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import sverka
from conftest import CASES, DEMO, same_files

ROW_OUTPUTS = ["instructions.parquet", "settlements.parquet", "rejects.parquet"]


def test_same_outputs_as_the_cli(tmp_path, cli, demo):
    ins, sets = demo
    s = sverka.reconcile(ins, sets, tmp_path / "py", csv=True)
    cli("reconcile", "--instructions", ins, "--settlements", sets, "--out", tmp_path / "cli", "--csv", "-q")
    # manifest.json and report.html name the run's time; everything else is the same bytes.
    same_files(tmp_path / "py", tmp_path / "cli", ROW_OUTPUTS + ["instructions.csv", "summary.json"])
    assert s == json.loads((tmp_path / "py" / "summary.json").read_text())
    assert s.out_dir == tmp_path / "py"
    assert "summary.json" in s.written and "report.html" in s.written
    assert set(s.timings) and all(t >= 0 for t in s.timings.values())


def test_summary_is_a_mapping_with_typed_views(tmp_path, demo):
    s = sverka.reconcile(*demo, tmp_path / "o", report=False)
    assert "report.html" not in s.written
    c = s["counts"]
    assert s.counts is c
    assert sum(c["by_status"].values()) == c["instructions_accepted"]
    assert s.count("rejects") == c["rejects"]["instructions"] + c["rejects"]["settlements"] > 0
    assert s.count("UNPAID") == c["by_status"]["UNPAID"]
    assert s.count("NO_SUCH_THING") == 0
    # Amounts are exact decimal text, never floats.
    for ccy in s.totals.values():
        assert isinstance(ccy["instructed_amount"], str)
    assert s.to_dict() == dict(s)


def test_any_thread_count_gives_the_same_bytes(tmp_path, demo):
    sverka.reconcile(*demo, tmp_path / "one", threads=1)
    sverka.reconcile(*demo, tmp_path / "three", threads=3)
    same_files(tmp_path / "one", tmp_path / "three", ROW_OUTPUTS + ["summary.json"])
    with pytest.raises(sverka.InputError, match="at least 1"):
        sverka.reconcile(*demo, tmp_path / "zero", threads=0)


def _as_text_table(path):
    """The demo's CSV as a table of text columns (the engine's own rules read the text)."""
    names = path.read_text().splitlines()[0].split(",")
    opts = pacsv.ConvertOptions(column_types={n: pa.string() for n in names})
    return pacsv.read_csv(path, convert_options=opts)


def _fates(out):
    t = pq.read_table(out / "instructions.parquet", columns=["instruction_id", "status", "flags", "paid_amount"])
    return sorted(zip(*(t.column(i).to_pylist() for i in range(t.num_columns))))


# A well-formed instruction file (the demo's has malformed records on purpose).
CLEAN = CASES / "102-v2-decision-match"


def test_tables_in_give_the_same_results_as_files(tmp_path):
    ins, sets = CLEAN / "instructions.csv", CLEAN / "settlements.csv"
    table = _as_text_table(ins)
    by_file = sverka.reconcile(ins, sets, tmp_path / "files", report=False)
    by_table = sverka.reconcile(table, sets, tmp_path / "table", report=False, inputs_dir=tmp_path / "kept")
    assert _fates(tmp_path / "files") == _fates(tmp_path / "table")
    assert by_table["counts"] == by_file["counts"]
    assert by_table["totals"] == by_file["totals"]
    # The table was kept as an Arrow IPC file whose hash summary.json records.
    (kept,) = [i for i in by_table["inputs"] if i["side"] == "instructions"]
    assert kept["format"] == "arrow" and kept["rows"] == table.num_rows
    assert sverka.verify(tmp_path / "table", inputs=[tmp_path / "kept", sets]).ok


def test_pandas_and_polars_frames_in(tmp_path):
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    ins, sets = CLEAN / "instructions.csv", CLEAN / "settlements.csv"
    table = _as_text_table(ins)
    sverka.reconcile(table, sets, tmp_path / "arrow", report=False)
    sverka.reconcile(table.to_pandas(), sets, tmp_path / "pandas", report=False)
    sverka.reconcile(pl.from_arrow(table), sets, tmp_path / "polars", report=False)
    assert _fates(tmp_path / "pandas") == _fates(tmp_path / "arrow") == _fates(tmp_path / "polars")
    # A frame is a temporary input by default: nothing is left behind.
    assert not any(p.name.startswith("sverka-inputs-") for p in tmp_path.iterdir())
    del pd


def test_rows_as_a_django_view_hands_them_over(tmp_path):
    """`queryset.values()` rows: Decimal amounts and date due dates, typed columns."""
    import csv
    import datetime
    from decimal import Decimal

    ins, sets = CLEAN / "instructions.csv", CLEAN / "settlements.csv"
    rows = []
    with open(ins, newline="") as f:
        for r in csv.DictReader(f):
            r["amount"] = Decimal(r["amount"])
            r["due_date"] = datetime.date.fromisoformat(r["due_date"])
            rows.append(r)
    sverka.reconcile(ins, sets, tmp_path / "files", report=False)
    s = sverka.reconcile(rows, sets, tmp_path / "rows", report=False)
    assert _fates(tmp_path / "rows") == _fates(tmp_path / "files")
    assert s.count("rejects") == 0


def test_settlements_by_provider_mapping(tmp_path):
    case = CASES / "102-v2-decision-match"
    s = sverka.reconcile(case / "instructions.csv", {"P1": case / "settlements.csv"}, tmp_path / "o")
    assert [i.get("provider") for i in s["inputs"] if i["side"] == "settlements"] == ["P1"]


def test_a_float_amount_column_is_refused(tmp_path):
    ins, sets = CLEAN / "instructions.csv", CLEAN / "settlements.csv"
    table = _as_text_table(ins)
    i = table.schema.get_field_index("amount")
    bad = table.set_column(i, "amount", pa.array([1.5] * table.num_rows, pa.float64()))
    with pytest.raises(sverka.InputError, match="amount"):
        sverka.reconcile(bad, sets, tmp_path / "o")
    assert not (tmp_path / "o").exists()


def test_input_error_has_the_cli_message_and_leaves_the_folder(tmp_path, cli, demo):
    ins, _ = demo
    missing = tmp_path / "nope.csv"
    sverka.reconcile(*demo, tmp_path / "o", report=False)
    before = {p.name: p.read_bytes() for p in (tmp_path / "o").iterdir()}
    with pytest.raises(sverka.InputError) as e:
        sverka.reconcile(ins, missing, tmp_path / "o")
    r = cli("reconcile", "--instructions", ins, "--settlements", missing, "--out", tmp_path / "o", check=False)
    assert r.returncode == 2
    assert r.stderr.strip() == f"sverka: {e.value}"
    assert {p.name: p.read_bytes() for p in (tmp_path / "o").iterdir()} == before
    assert issubclass(sverka.InputError, sverka.SverkaError)


def test_bad_settings_are_input_errors(tmp_path, demo):
    with pytest.raises(sverka.InputError, match="outlier"):
        sverka.reconcile(*demo, tmp_path / "o", outlier_factor="-1")
    with pytest.raises(sverka.InputError, match="control_totals"):
        sverka.reconcile(*demo, tmp_path / "o", control_totals="maybe")
    with pytest.raises(TypeError):
        sverka.reconcile(*demo, tmp_path / "o", decisions=[42])


def test_decisions_applied_and_read_back(tmp_path):
    case = CASES / "102-v2-decision-match"
    expected = json.loads((case / "expected.json").read_text())
    s = sverka.reconcile(
        case / "instructions.csv", case / "settlements.csv", tmp_path / "o", decisions=case / "decisions.csv"
    )
    assert s["decisions"] == expected["summary"]["decisions"]
    r = sverka.read_results(tmp_path / "o")
    got = r.decisions.select(["decision_id", "outcome", "moved_instruction_id", "status_after"]).to_pylist()
    assert got == [
        {k: d[k] for k in ("decision_id", "outcome", "moved_instruction_id", "status_after")}
        for d in expected["decisions"]
    ]


def test_the_gil_is_released_while_the_engine_runs(tmp_path):
    ref = tmp_path / "ref"
    import subprocess

    from conftest import _binary

    b = _binary()
    if b is None:
        pytest.skip("no sverka binary to generate data with")
    subprocess.run([str(b), "generate", "--instructions", "200000", "--seed", "3", "--out", str(ref)], check=True)
    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    t = threading.Thread(target=tick)
    t.start()
    start = time.perf_counter()
    sverka.reconcile(ref / "instructions", ref / "settlements", tmp_path / "o", report=False)
    end = time.perf_counter()
    stop.set()
    t.join()
    during = [x for x in ticks if start < x < end]
    # With the GIL held the ticker would not run at all during the call.
    assert len(during) > 10, (len(during), end - start)
