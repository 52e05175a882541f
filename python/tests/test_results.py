import json
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import sverka
from conftest import DEMO, ROOT


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "o"
    sverka.reconcile(DEMO / "instructions", DEMO / "settlements", out)
    return out


def test_read_results_equals_pyarrow(run):
    r = sverka.read_results(run)
    for name in ("instructions", "settlements", "rejects"):
        t = getattr(r, name)
        assert isinstance(t, pa.Table)
        assert t.equals(pq.read_table(run / f"{name}.parquet")), name
    assert r.decisions is None
    assert r.summary == json.loads((run / "summary.json").read_text())
    assert r.manifest == json.loads((run / "manifest.json").read_text())
    assert {o["name"] for o in r.manifest["outputs"]} >= {"instructions.parquet", "settlements.parquet"}
    assert repr(r).startswith("Results(")


def test_read_results_columns_and_categories(run):
    r = sverka.read_results(run, columns={"instructions": ["status", "instruction_id"]}, categories=True)
    assert r.instructions.column_names == ["instruction_id", "status"]
    assert pa.types.is_dictionary(r.instructions.schema.field("status").type)
    plain = pq.read_table(run / "instructions.parquet", columns=["instruction_id", "status"])
    assert r.instructions.column("status").cast(pa.string()).equals(plain.column("status"))
    assert pa.types.is_dictionary(r.settlements.schema.field("provider").type)
    with pytest.raises(sverka.InputError, match="no column"):
        sverka.read_results(run, columns={"instructions": ["nope"]})
    with pytest.raises(sverka.InputError, match="no table"):
        sverka.read_results(run, columns={"payments": ["x"]})


def test_read_results_of_a_folder_without_outputs(tmp_path):
    with pytest.raises(sverka.InputError, match="summary.json"):
        sverka.read_results(tmp_path)


def test_verify_holds_then_finds_tampering(run, tmp_path):
    v = sverka.verify(run, inputs=[DEMO / "instructions", DEMO / "settlements"])
    assert v.ok and v.check() is v and v["kind"]
    assert "ALL HOLDS" in v.text
    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    s = json.loads((copy / "summary.json").read_text())
    s["counts"]["instructions_in"] += 1
    (copy / "summary.json").write_text(json.dumps(s))
    bad = sverka.verify(copy)
    assert not bad.ok and bad.discrepancies
    with pytest.raises(sverka.VerificationError) as e:
        bad.check()
    assert e.value.verification is bad
    with pytest.raises(sverka.InputError):
        sverka.verify(tmp_path / "nothing-here")


SMALL = ROOT / "testdata" / "disburse" / "small"


def _disburse(out, ledger):
    return sverka.disburse(
        SMALL / "payroll.csv",
        out,
        ledger=ledger,
        providers=ROOT / "schemas" / "providers.example.toml",
        execution_date="2026-11-04",
    )


def test_disburse_twice_issues_once(tmp_path):
    s = _disburse(tmp_path / "pay", tmp_path / "ledger.db")
    assert isinstance(s, sverka.DisbursementSummary)
    assert s.issued == s["counts"]["issued"] > 0
    assert s == json.loads((tmp_path / "pay" / "summary.json").read_text())
    assert sverka.verify(tmp_path / "pay").ok
    # The same payroll again: the ledger issues nothing twice.
    again = _disburse(tmp_path / "pay2", tmp_path / "ledger.db")
    assert again.issued == 0
    with pytest.raises(sverka.InputError, match="execution_date"):
        sverka.disburse(SMALL / "payroll.csv", tmp_path / "x", ledger=tmp_path / "l.db", execution_date="tomorrow")
