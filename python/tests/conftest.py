"""Shared fixtures: the repository's test data and the `sverka` binary the package is
compared with (the CLI and the package must give the same bytes and messages)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "testdata" / "demo"
CASES = ROOT / "testdata" / "cases"


def _binary():
    given = os.environ.get("SVERKA_BIN")
    if given:
        return Path(given)
    for p in (ROOT / "target" / "release" / "sverka", ROOT / "target" / "debug" / "sverka"):
        if p.is_file():
            return p
    found = shutil.which("sverka")
    return Path(found) if found else None


@pytest.fixture(scope="session")
def cli():
    """Runs the `sverka` binary; the test fails (not skips) without one under
    SVERKA_REQUIRE_TOOLS=1, as in CI."""
    b = _binary()
    if b is None:
        if os.environ.get("SVERKA_REQUIRE_TOOLS") == "1":
            pytest.fail("no sverka binary: build it (cargo build --release -p sverka) or set SVERKA_BIN")
        pytest.skip("no sverka binary to compare with")

    def run(*args, check=True):
        return subprocess.run([str(b), *map(str, args)], capture_output=True, text=True, check=check)

    return run


@pytest.fixture
def demo():
    return DEMO / "instructions", DEMO / "settlements"


def same_files(a: Path, b: Path, names):
    for n in names:
        assert (a / n).read_bytes() == (b / n).read_bytes(), n
