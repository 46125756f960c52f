"""`qualcode check` on reports in Markdown, HTML, Word and plain text, written by people or by qualcode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qualcode.reports.check import check_report, fix_report
from qualcode.ingest.corpus import import_paths
from qualcode.reports.reportfiles import read_document

CLEAN = [
    ("Every September we count the Year 7 numbers and compare with the school down the road.",
     "Principal, secondary converter academy, Ofsted Outstanding"),
    ("Since the local authority lost its advisers we buy in support from the teaching school.",
     "Headteacher, maintained primary school, Ofsted Good"),
    ("It is patchy. Some areas have strong partnerships and others have almost none.", "NCTL interviewee"),
]


@pytest.fixture
def study(project, corpus):
    import_paths(project, [corpus])
    return project


def markdown(quotes: list[tuple[str, str]]) -> str:
    return "# Quotes\n\n" + "".join(f"> {quote}\n\n{line}\n\n" for quote, line in quotes)


def found(result) -> list[tuple[int, str, str, str]]:
    return [(f.line, f.check, f.severity, f.message) for f in result.findings]


def test_a_clean_markdown_report_passes(study, tmp_path: Path):
    path = tmp_path / "clean.md"
    path.write_text(markdown(CLEAN), encoding="utf-8")
    result = check_report(study, path)
    assert result.quotes == 3 and result.findings == []


def test_an_ellipsis_where_a_quote_starts_or_ends_inside_a_sentence_is_a_faithful_cut(study, tmp_path: Path):
    path = tmp_path / "cuts.md"
    path.write_text(markdown([
        ("... count the Year 7 numbers and compare with the school down the road.",
         "Principal, secondary converter academy, Ofsted Outstanding"),
        ("Since the local authority lost its advisers we buy in support ...",
         "Headteacher, maintained primary school, Ofsted Good"),
        ("… some areas have strong partnerships and others …", "NCTL interviewee"),
    ]), encoding="utf-8")
    result = check_report(study, path)
    assert result.quotes == 3 and result.findings == []


def test_every_kind_of_fault_in_markdown(study, tmp_path: Path):
    path = tmp_path / "faults.md"
    path.write_text(markdown([
        ("Every September we count the Year 7 numbers and compare with the school down the road.",
         "Principal, secondary convertor academy, Ofsted Outstanding"),
        ("We lost forty pupils to them ... and we have not forgotten it.",
         "Headteacher, maintained secondary school, Ofsted Good"),
        ("Could you tell me a little about the school?", "Headteacher, maintained primary school, Ofsted Good"),
        ("Nobody in this corpus ever said these particular words about anything.",
         "Headteacher, maintained primary school, Ofsted Good"),
        ("Since the local authority lost its advisors we buy in support from the teaching school.",
         "Headteacher, maintained primary school, Ofsted Good"),
    ]), encoding="utf-8")
    result = check_report(study, path)
    assert found(result) == [
        (5, "format", "error", "'Principal, secondary convertor academy, Ofsted Outstanding' does not follow the format; "
                               "expected 'Principal, secondary converter academy, Ofsted Outstanding' "
                               "('convertor' is spelt 'converter')"),
        (9, "truth", "error", "attributed to 'Headteacher, maintained secondary school, Ofsted Good' but said by "
                              "EAS-S02-HT: 'Principal, secondary converter academy, Ofsted Outstanding'"),
        (11, "truth", "error", "quote is from the interviewer in EAS-S01-HT, not from a participant"),
        (15, "fidelity", "error", result.findings[3].message),
        (19, "fidelity", "warning", "quote differs from the source (99% alike); the source in EAS-S01-HT reads "
                                    "'Since the local authority lost its advisers we buy in support from the teaching school'"),
    ]
    assert result.findings[3].message.startswith("quote not found in the corpus; the closest passage")


def test_editing_marks_are_allowed(study, tmp_path: Path):
    path = tmp_path / "marks.md"
    path.write_text(markdown([
        ("\u2018We lost forty pupils to them [\u2026] and we have not forgotten it.\u2019",
         "Principal, secondary converter academy, Ofsted Outstanding"),
        ("every September we count the [Year Seven] numbers and compare with the school (sic) down the road",
         "Principal, secondary converter academy, Ofsted Outstanding"),
        ("Well, we\u2019re a two\u2013form entry primary on the edge of town.",
         "Headteacher, maintained primary school, Ofsted Good"),
        ("re a two\u2013form entry prim",  # cut inside words at both ends: still the source's own characters
         "Headteacher, maintained primary school, Ofsted Good"),
    ]), encoding="utf-8")
    assert check_report(study, path).findings == []


def test_missing_attribution_and_prose_after_a_quote(study, tmp_path: Path):
    path = tmp_path / "missing.md"
    path.write_text("> It is patchy. Some areas have strong partnerships and others have almost none.\n\n"
                    "This shows how uneven the picture is.\n\n"
                    "> The schools that most need help are often the ones left outside.\n", encoding="utf-8")
    result = check_report(study, path)
    assert found(result) == [
        (3, "format", "error", "'This shows how uneven the picture is.' is not an attribution line"),
        (5, "format", "error", "quote has no attribution line after it"),
    ]
    assert result.findings[0].expected == "NCTL interviewee"


def test_html_report(study, tmp_path: Path):
    path = tmp_path / "report.html"
    path.write_text(
        "<html><body><h1>Quotes</h1>\n"
        "<blockquote><p>Every September we count the Year 7 numbers and compare with the school down the road.</p></blockquote>\n"
        "<p class='attribution'>Principal, secondary converter academy, Ofsted Outstanding</p>\n"
        "<figure><blockquote>It is patchy. Some areas have strong partnerships and others have almost none.</blockquote>\n"
        "<figcaption>Regional School Commissioner</figcaption></figure>\n"
        "<blockquote>It brings status but also pressure.<footer>Principal, secondary academy, Ofsted Outstanding</footer></blockquote>\n"
        "</body></html>\n",
        encoding="utf-8",
    )
    result = check_report(study, path)
    assert [(f.line, f.check, f.expected) for f in result.findings] == [
        (5, "format", "RSC interviewee"),
        (5, "truth", "NCTL interviewee"),
        (6, "format", "Principal, secondary converter academy, Ofsted Outstanding"),
    ]
    assert result.quotes == 3


def _word_report(path: Path, items: list[tuple[str, str]]) -> None:
    import docx

    document = docx.Document()
    document.add_heading("Findings", 1)
    document.add_paragraph("Leaders described competition in different ways.")
    for quote, line in items:
        document.add_paragraph(quote, style="Quote")
        document.add_paragraph(line)
    document.save(path)


def test_word_report_and_fix(study, tmp_path: Path):
    path = tmp_path / "report.docx"
    _word_report(path, [
        (CLEAN[0][0], "Principal, secondary convertor academy, Ofsted Outstanding"),
        (CLEAN[1][0], "Headteacher, maintained primary, Ofsted Good"),
        (CLEAN[2][0], "NCTL interviewee"),
    ])
    result = check_report(study, path)
    assert [(f.line, f.check, f.expected) for f in result.findings] == [
        (4, "format", "Principal, secondary converter academy, Ofsted Outstanding"),
        (6, "format", "Headteacher, maintained primary school, Ofsted Good"),
    ]
    fixed = fix_report(read_document(path), result, tmp_path / "fixed.docx")
    assert check_report(study, fixed).findings == []
    import docx

    quotes = [p.text for p in docx.Document(str(fixed)).paragraphs if p.style.name == "Quote"]
    assert quotes == [quote for quote, _ in CLEAN]


def test_plain_text_report_with_quoted_paragraphs(study, tmp_path: Path):
    path = tmp_path / "report.txt"
    path.write_text(
        "Findings\n\n"
        "\u201cEvery September we count the Year 7 numbers and compare with the school down the road.\u201d\n"
        "Principal, secondary converter academy, Ofsted Outstanding\n\n"
        "As one interviewer asked, \u2018Could you tell me a little about the school and who you work with most?\u2019 "
        "and the answers varied.\n",
        encoding="utf-8",
    )
    result = check_report(study, path)
    assert result.quotes == 2
    assert found(result) == [(6, "fidelity", "error", result.findings[0].message)]


def test_cli_exit_codes_json_and_fix(run, study, tmp_path: Path):
    clean, faulty = tmp_path / "clean.md", tmp_path / "faulty.md"
    clean.write_text(markdown(CLEAN), encoding="utf-8")
    faulty.write_text(markdown([(CLEAN[0][0], "Principal, secondary convertor academy, Ofsted Outstanding")]), encoding="utf-8")
    args = ("--project", str(study.root))
    assert run("check", str(clean), *args).returncode == 0
    result = run("check", str(faulty), *args)
    assert result.returncode == 1
    assert (f"{faulty}:5: 'Principal, secondary convertor academy, Ofsted Outstanding' does not follow the format; "
            "expected 'Principal, secondary converter academy, Ofsted Outstanding'") in result.stdout
    data = json.loads(run("check", str(faulty), "--json", *args).stdout)
    assert data["quotes"] == 1
    assert data["findings"] == [{
        "file": str(faulty), "line": 5, "check": "format", "severity": "error",
        "message": data["findings"][0]["message"],
        "found": "Principal, secondary convertor academy, Ofsted Outstanding",
        "expected": "Principal, secondary converter academy, Ofsted Outstanding",
    }]
    assert run("check", str(faulty), "--fix", *args).returncode == 1
    assert run("check", str(tmp_path / "faulty.fixed.md"), *args).returncode == 0
    missing = run("check", str(tmp_path / "nope.md"), *args)
    assert missing.returncode == 2 and "no such file" in missing.stderr
    assert run("check", str(clean), "--format", "pdf", *args).returncode == 2


# Every attribution variant from the book (DESIGN.md §3), each flagged and corrected as stated.
VARIANTS = [
    ("Headteacher, maintained primary, Ofsted Good", "Headteacher, maintained primary school, Ofsted Good"),
    ("Headteacher, primary maintained, Ofsted Good", "Headteacher, maintained primary school, Ofsted Good"),
    ("Headteacher, primary maintained school, Ofsted Good", "Headteacher, maintained primary school, Ofsted Good"),
    ("headteacher, maintained primary school, ofsted good", "Headteacher, maintained primary school, Ofsted Good"),
    ("Head, maintained primary school, Ofsted Good", "Headteacher, maintained primary school, Ofsted Good"),
    ("Headteacher, maintained primary school, Ofsted Good.", "Headteacher, maintained primary school, Ofsted Good"),
    ("(primary head)", "Headteacher, maintained primary school, Ofsted Good"),
    ("Headteacher, maintained primary school, Ofsted Good (original emphasis)", "Headteacher, maintained primary school, Ofsted Good"),
    ("Headteacher, maintained primary school, Ofsted Goood", "Headteacher, maintained primary school, Ofsted Good"),
    ("Principal, secondary convertor academy, Ofsted Outstanding", "Principal, secondary converter academy, Ofsted Outstanding"),
    ("Principal, secondary academy converter, Ofsted Outstanding", "Principal, secondary converter academy, Ofsted Outstanding"),
    ("Principal, academy converter secondary, Ofsted Outstanding", "Principal, secondary converter academy, Ofsted Outstanding"),
    ("Principal, secondary academy, Ofsted Outstanding", "Principal, secondary converter academy, Ofsted Outstanding"),
    ("Principal, secondary converter academy, Ofsted 1", "Principal, secondary converter academy, Ofsted Outstanding"),
    ("Regional Schools Commissioner", "NCTL interviewee"),
    ("Regional School Commissioner", "NCTL interviewee"),
    ("RSC", "NCTL interviewee"),
    ("NCTL", "NCTL interviewee"),
]


def test_every_variant_is_flagged_and_corrected(study, tmp_path: Path):
    sources = {"Headteacher": CLEAN[1][0], "Principal": CLEAN[0][0], "informant": CLEAN[2][0]}
    quotes = []
    for written, _ in VARIANTS:
        who = "Principal" if written.startswith("Principal") else "Headteacher" if "ead" in written else "informant"
        quotes.append((sources[who], written))
    path = tmp_path / "variants.md"
    path.write_text(markdown(quotes), encoding="utf-8")
    result = check_report(study, path)
    by_line = {}
    for finding in result.findings:
        by_line.setdefault(finding.line, []).append(finding)
    for index, (written, expected) in enumerate(VARIANTS):
        line = 5 + 4 * index
        findings = by_line.get(line, [])
        assert findings, f"{written!r} was not flagged"
        assert findings[-1].found == written and findings[-1].expected == expected, written
    fixed = fix_report(read_document(path), result, tmp_path / "variants.fixed.md")
    assert check_report(study, fixed).findings == []
