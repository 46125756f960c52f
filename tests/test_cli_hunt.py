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


def coded_by(folder: Path, coder: str) -> list[dict]:
    result = qualcode(folder, "codings", "--coder", coder, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_lines_from_a_blank_line_leave_out_the_next_speakers_label(coded: Path):
    result = qualcode(coded, "code", "EAS-S02-HT", "2-5", "markets", "--coder", "hunt")
    assert result.returncode == 0, result.stderr
    assert "coded EAS-S02-HT lines 3-4 with markets" in result.stderr and "warning" not in result.stderr
    [coding] = coded_by(coded, "hunt")
    assert coding["text"].startswith("Fierce, frankly.") and coding["text"].endswith("not forgotten it.")
    assert qualcode(coded, "undo", "--coder", "hunt").returncode == 0


@pytest.mark.parametrize("lines, says", [
    ("1", "lines 1 of EAS-S02-HT are the interviewer's words (turn 1, Interviewer)"),
    ("3-8", "lines 3-8 of EAS-S02-HT run over turns 2, 3, 4 (turn 3, Interviewer: the interviewer's words)"
            ": queries and reports quote all of it as one participant's words; 'qualcode undo' takes it back, then code"
            " 'qualcode code EAS-S02-HT --turn 2 markets' and 'qualcode code EAS-S02-HT --turn 4 markets'"),
])
def test_coding_the_interviewers_words_is_warned_about_and_undone_whole(coded: Path, lines: str, says: str):
    result = qualcode(coded, "code", "EAS-S02-HT", lines, "markets", "--coder", "hunt")
    assert result.returncode == 0, result.stderr
    assert says in " ".join(result.stderr.split())
    undone = qualcode(coded, "undo", "--coder", "hunt")
    assert f"undone: code EAS-S02-HT {lines} with markets" in undone.stderr
    assert coded_by(coded, "hunt") == []


def test_undo_of_an_uncode_says_whose_codings_it_gave_back(coded: Path):
    removed = qualcode(coded, "uncode", "EAS-S02-HT", "3-4", "--coder", "hunt")
    assert removed.returncode == 0 and "removed 2 codings" in removed.stderr
    undone = qualcode(coded, "undo", "--coder", "hunt")
    assert undone.returncode == 0, undone.stderr
    assert ("undone: uncode 2 in EAS-S02-HT: markets/competition by tester at 3; markets/competition by tester at 4"
            in undone.stderr)


@pytest.mark.parametrize("by, says", [
    ("", "--by needs a field"),  # was an SQL syntax error, exit 2
    ("locality,locality", "--by names locality twice"),  # was an internal error
])
def test_matrix_by_no_field_or_one_twice_is_a_clear_error(coded: Path, by: str, says: str):
    result = qualcode(coded, "query", "matrix", "--by", by)
    assert result.returncode == 1 and says in result.stderr and "internal error" not in result.stderr


def test_fields_are_read_whatever_their_case_or_dash(coded: Path):
    typed = qualcode(coded, "query", "matrix", "--by", "Locality,School-Type", "--json")
    assert typed.returncode == 0, typed.stderr
    assert typed.stdout == qualcode(coded, "query", "matrix", "--by", "locality,school_type", "--json").stdout


@pytest.mark.parametrize("args", [("cooccur", "--top", "-3"), ("cooccur", "--near", "-5"), ("find", "markets", "--context", "-1"),
                                  ("text", "school", "--context", "-1")])
def test_negative_counts_are_refused_not_read_backwards(coded: Path, args: tuple[str, ...]):
    result = qualcode(coded, "query", *args)  # --top -3 was pandas' head(-3): every pair but the last three
    assert result.returncode == 2 and "is not in the range" in result.stderr


def test_a_code_named_twice_is_coded_once_without_a_false_already_had(coded: Path):
    result = qualcode(coded, "code", "EAS-S02-HT", "8", "networks", "networks/", "--coder", "hunt")
    assert result.returncode == 0, result.stderr
    assert "coded EAS-S02-HT lines 8 with networks\n" in result.stderr and "already had" not in result.stderr
    assert [row["code"] for row in coded_by(coded, "hunt")] == ["networks"]
    assert qualcode(coded, "undo", "--coder", "hunt").returncode == 0


def test_history_and_undo_name_the_codes_by_their_paths(coded: Path):
    assert qualcode(coded, "code", "EAS-S02-HT", "8", "tsa", "markets/", "--coder", "hunt").returncode == 0
    undone = qualcode(coded, "undo", "--coder", "hunt")
    assert "undone: code EAS-S02-HT 8 with networks/tsa, markets (" in undone.stderr


@pytest.mark.parametrize("lines, says", [
    ("3:0-3:10", "'3:0-3:10': columns count from 1"),  # column 0 took the line break before: coded lines 2-3
    ("3:500-4:10", "'3:500-4:10': line 3 of EAS-S02-HT has 114 characters; there is no column 500"),  # started lines further on
])
def test_a_column_outside_the_line_is_refused(coded: Path, lines: str, says: str):
    result = qualcode(coded, "code", "EAS-S02-HT", lines, "markets", "--coder", "hunt")
    assert result.returncode == 1 and says in result.stderr
    assert coded_by(coded, "hunt") == []
