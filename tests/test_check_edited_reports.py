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
                                   "'Every September we count the Year 7 numbers and compare'"),
    ]


def test_a_quote_running_on_into_the_interviewers_question_is_not_the_participants(study, tmp_path: Path):
    quote = "We lost forty pupils to them three years ago ... And your designation as a teaching school?"
    assert findings(study, tmp_path, "turns.md", f"> {quote}\n\n{PRINCIPAL}\n") == [
        (1, "truth", "error", "quote is from the interviewer in EAS-S02-HT, not from a participant"),
    ]


def test_html_quotes_in_quotation_marks_are_checked_like_markdowns(study, tmp_path: Path):
    page = (
        "<html><body>\n"
        "<p>\u201cEvery September we count the Year 7 numbers and compare with the school down the road.\u201d</p>\n"
        "<p>Headteacher, maintained primary school, Ofsted Good</p>\n"
        "<p>As one head put it, \u2018We lost forty pupils to them three years ago and we\u2019re still angry about it\u2019, "
        "which others echoed.</p>\n"
        "<table><tr><td>T<b>obias</b> Wren</td></tr></table>\n"
        "</body></html>\n"
    )
    key = study.root / "identity-key.csv"
    key.write_text("name,kind,variants,replacement,refers_to\nTobias Wren,person,,[person 1],\n", encoding="utf-8")
    try:
        result = findings(study, tmp_path, "page.html", page)
    finally:
        key.unlink()
    assert [(line, check, severity) for line, check, severity, _ in result] == [
        (3, "truth", "error"), (4, "fidelity", "error"), (5, "leak", "error"),
    ]
    assert "'Tobias Wren' is a name in the identity key" in result[2][3]


def _word(path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("Findings")
    quote = document.add_paragraph(style="Quote")
    for part in ("Every September we count the Ye", "ar 7 numbers and compare ", "with the school down the road."):
        quote.add_run(part)  # Word splits a paragraph into runs wherever its formatting or history changes
    document.add_paragraph("Headteacher, maintained primary school, Ofsted Good")
    document.add_paragraph("As one head put it, \u201cWe lost forty pupils to them three years ago and we\u2019re still "
                           "angry about it\u201d, which others echoed.")
    cells = document.add_table(rows=1, cols=2).rows[0].cells
    cells[0].text = "\u201cIt brings status but also pressure.\u201d And a great deal of it."
    cells[1].text = "Ofsted Wren report"
    document.sections[0].footer.paragraphs[0].text = "Interview with Mr Wren"
    document.save(path)


def test_word_tables_footers_and_prose_quotes_are_read(study, tmp_path: Path):
    key = study.root / "identity-key.csv"
    key.write_text("name,kind,variants,replacement,refers_to\nTobias Wren,person,,[person 1],\n", encoding="utf-8")
    path = tmp_path / "report.docx"
    _word(path)
    try:
        result = check_report(study, path)
    finally:
        key.unlink()
    assert [(f.line, f.check, f.severity) for f in result.findings] == [
        (3, "truth", "error"), (4, "fidelity", "error"), (6, "leak", "error"), (7, "leak", "error"),
    ]
    assert [f.found for f in result.findings if f.check == "leak"] == ["Wren", "Mr Wren"]


def test_the_source_a_finding_shows_is_pseudonymised(study, tmp_path: Path):
    """A finding is pasted into emails and issue trackers: the closest passage must not bring a name with it."""
    key = study.root / "identity-key.csv"
    key.write_text("name,kind,variants,replacement,refers_to\nSeptember,person,,[person 1],\n", encoding="utf-8")
    try:
        result = findings(study, tmp_path, "near.md", f"> Every Septembre we count the Year 7 numbers.\n\n{PRINCIPAL}\n")
    finally:
        key.unlink()
    assert result[0][1:3] == ("fidelity", "warning")
    assert "Every [person 1] we count the Year 7 numbers" in result[0][3] and "September" not in result[0][3]


def test_a_quote_in_a_markdown_table_is_attributed_by_its_row(study, tmp_path: Path):
    quote = "Every September we count the Year 7 numbers and compare with the school down the road."
    table = ("| Who | Quote |\n|---|---|\n"
             f"| Headteacher, maintained primary school, Ofsted Good | \u201c{quote}\u201d |\n"
             f"| \u201c{quote}\u201d | {PRINCIPAL} |\n")
    assert findings(study, tmp_path, "table.md", table) == [
        (3, "truth", "error", f"attributed to 'Headteacher, maintained primary school, Ofsted Good' but said by "
                              f"EAS-S02-HT: '{PRINCIPAL}'"),
    ]


def test_transcripts_that_tie_are_ranked_by_id_so_findings_are_the_same_every_run(study):
    from qualcode.reports.check import Corpus

    corpus = Corpus(study)
    everywhere = sorted(corpus.index["the"])
    assert len(everywhere) == 4
    assert corpus.candidates(["the"]) == everywhere
    assert corpus.ranked(set(everywhere), ["the"]) == everywhere
