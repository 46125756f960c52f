"""`qualcode check` on reports as researchers edit them: nothing edited wrongly may pass without a word."""

from __future__ import annotations

from pathlib import Path

import pytest

from qualcode.ingest.corpus import import_paths
from qualcode.project import init_project
from qualcode.reports.check import check_report
from tests.conftest import FIXTURES

PRINCIPAL = "Principal, secondary converter academy, Ofsted Outstanding"


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    project = init_project(tmp_path_factory.mktemp("edited") / "study")
    import_paths(project, [FIXTURES / "corpus"])
    return project


def findings(study, tmp_path: Path, name: str, text: str) -> list[tuple[int, str, str, str]]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return [(f.line, f.check, f.severity, f.message) for f in check_report(study, path).findings]


def test_a_typographic_ellipsis_inside_a_quote_is_an_omission(study, tmp_path: Path):
    quote = "We lost forty pupils to them three years ago \u2026 we have not forgotten it."
    assert findings(study, tmp_path, "ellipsis.md", f"> {quote}\n\n{PRINCIPAL}\n") == []


def test_a_single_word_after_an_omission_must_be_in_the_source(study, tmp_path: Path):
    quote = "Every September we count the Year 7 numbers ... never."
    assert findings(study, tmp_path, "word.md", f"> {quote}\n\n{PRINCIPAL}\n") == [
        (1, "fidelity", "warning", "quote differs from the source (92% alike); the source in EAS-S02-HT reads "
                                   "'Every September we count the Year 7 numbers and c'"),
    ]


def test_a_quote_running_on_into_the_interviewers_question_is_not_the_participants(study, tmp_path: Path):
    quote = "We lost forty pupils to them three years ago ... And your designation as a teaching school?"
    assert findings(study, tmp_path, "turns.md", f"> {quote}\n\n{PRINCIPAL}\n") == [
        (1, "truth", "error", "quote is from the interviewer in EAS-S02-HT, not from a participant"),
    ]
