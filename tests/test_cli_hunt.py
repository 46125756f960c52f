"""Bad input at the coding and query commands, through the installed script: what a researcher
types wrong, and output other programs must be able to read."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.coded_fixture import make_coded_project
from tests.conftest import FIXTURES, QUALCODE, run_script


@pytest.fixture(scope="module")
def coded(tmp_path_factory) -> Path:
    """The small coded project (NAT-I01 has no school; the codes have no definitions), shared by the
    tests here, which leave it as they found it."""
    root = tmp_path_factory.mktemp("hunt")
    shutil.copytree(FIXTURES / "corpus", root / "corpus")
    make_coded_project(root / "project", root / "corpus").close()
    return root / "project"


def qualcode(folder: Path, *args: str, input: str | None = None):
    return run_script(QUALCODE, *args, cwd=folder, input=input)


def strict_json(text: str):
    """Parse as JavaScript's JSON.parse or R's jsonlite would: NaN and Infinity are not JSON."""
    def refuse(constant: str):
        raise AssertionError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("command", [("transcripts", "--json"), ("codebook", "show", "--json")])
def test_missing_values_are_null_in_json(coded: Path, command: tuple[str, ...]):
    defined = qualcode(coded, "codebook", "add", "equity", "--definition", "Who gains and who loses.", "--coder", "tester")
    assert defined.returncode == 0, defined.stderr
    try:
        result = qualcode(coded, *command)
        assert result.returncode == 0, result.stderr
        rows = strict_json(result.stdout)
    finally:
        assert qualcode(coded, "undo", "--coder", "tester").returncode == 0
    if command[0] == "transcripts":
        informant = next(row for row in rows if row["transcript"] == "NAT-I01")
        assert informant["school"] is None and informant["phase"] is None
    else:  # one code has a definition, the others none
        assert {row["path"]: row["definition"] for row in rows if row["path"] in ("equity", "markets")} == {
            "equity": "Who gains and who loses.", "markets": None}


def test_transcript_id_in_the_wrong_case_gets_a_did_you_mean(coded: Path):
    result = qualcode(coded, "code", "eas-s02-ht", "3", "markets")
    assert result.returncode == 1
    assert "no transcript 'eas-s02-ht'; did you mean 'EAS-S02-HT'?" in result.stderr
