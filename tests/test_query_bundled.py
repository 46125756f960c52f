"""The bundled corpus with its gold codings loaded as accepted codings: queries and reports at full size."""

from __future__ import annotations

import csv
import shutil

import pytest

from qualcode.coding.codebook import load_codebook_file
from qualcode.ingest.corpus import import_paths
from qualcode.exchange.coding_tables import import_codings
from qualcode.project import init_project
from qualcode.analysis.query_matrix import matrix
from qualcode.reports.render import render_report
from qualcode.reports.quotes import Selection
from tests.conftest import REPO

GOLD = REPO / "transcripts" / "gold-codings.csv"


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    project = init_project(tmp_path_factory.mktemp("bundled") / "study")
    assert "BM" in project.settings.raw["anonymise"]["not_initials"]  # SOU-S03-BM ends in a role code; BM is in the key
    import_paths(project, [REPO / "transcripts"])
    load_codebook_file(project, REPO / "codebooks" / "hierarchy-markets-networks.yaml", "tester")
    shutil.copy(REPO / "transcripts" / "identity-key.csv", project.root / "identity-key.csv")
    assert import_codings(project, GOLD, "gold", origin="accepted").added == len(gold_spans())
    return project


def gold_spans() -> set[tuple[str, str, str, str]]:
    with GOLD.open() as handle:
        return {(r["transcript"], r["start"], r["end"], r["code"]) for r in csv.DictReader(handle)}


def test_matrix_reproduces_the_gold_counts(study):
    spans = gold_spans()
    table = matrix(study, by="locality")
    assert int(table.values.sum()) == len(spans)
    inspection = sum(code == "hierarchy/accountability/inspection" for *_, code in spans)
    assert table.loc["hierarchy/accountability/inspection"].sum() == inspection
    assert list(table.columns) == ["Eastern", "National", "Northern", "Southern", "Western"]


def test_a_quote_bank_and_a_case_study_pass_their_own_check(study):
    bank = render_report(study, "quotes", "md", theme="networks/tsa", selection=Selection(max_per_school=1, max_words=80, trim=True))
    text = bank.read_text()
    assert text.count("\n> ") > 40
    for name in ("Elmstead Rise", "Sycamore Learning Trust", "Windrush"):
        assert name not in text
    case = render_report(study, "case", "md", locality="Eastern", plot=False)
    assert "11 schools and 42 interviews in Eastern." in case.read_text()


def test_case_studies_key_quotes_speak_for_their_schools(study):
    """The selection rule (`qualcode.reports.keyquotes`): school staff's key quotes spread over at least half of
    each locality's schools and every phase there; informants apart; nobody quoted more than twice."""
    from collections import Counter

    from qualcode.reports.render import case_localities
    from qualcode.reports.case import Shares, case_context
    from qualcode.reports.quotes import QuoteSource

    shares, source = Shares.of(study), QuoteSource.load(study)
    for locality in case_localities(study):
        context = case_context(study, locality, plot=False, shares=shares, source=source)
        staff = [q for theme in context.themes for q in theme.quotes]
        informants = [q for theme in context.themes for q in theme.informants]
        assert staff and all(not q.informant and q.school for q in staff)
        assert all(q.informant and q.school is None for q in informants)
        schools = {s.id for s in context.schools}
        quoted = {q.school for q in staff}
        assert quoted <= schools and len(quoted) >= len(schools) / 2, (locality, sorted(quoted))
        assert {q.phase for q in staff} == {s.phase for s in context.schools}, locality
        assert max(Counter(q.participant for q in staff + informants).values()) <= 2
        for theme in context.themes:
            assert len({q.participant for q in theme.quotes}) == len(theme.quotes)
        assert any("more than 2 times in the case study" in step for step in context.method)


#: What a reader of a case study sees: the schools table, and each quote's section, phase and transcript.
READER = """({
  schools: [...document.querySelectorAll('#context table')[0].querySelectorAll('tbody tr')]
    .map(tr => [tr.cells[0].textContent, tr.cells[1].textContent]),
  quotes: [...document.querySelectorAll('figure.quote')].map(f => ({
    section: f.closest('#quotes') ? 'staff' : f.closest('#informant-quotes') ? 'informants' : 'other',
    phase: f.dataset.phase, transcript: f.querySelector('.ref span.id').textContent,
    attribution: f.querySelector('figcaption').textContent})),
  ratios: [...document.querySelectorAll('#representation tbody tr')].map(tr => tr.textContent),
})"""


def test_a_case_study_as_a_reader_sees_it_in_chromium(study, tmp_path):
    """Eastern's case study in the browser: its staff quotes come from at least half its schools and every
    phase, the informants' apart; every over- or under-representation ratio stands beside its counts."""
    import re

    from tests.browser import Browser
    from tests.test_reports import chromium

    from qualcode.reports.render import render_text
    from qualcode.reports.case import case_context
    from qualcode.reports.navigation import navigation

    # the report as `render_report` renders it, without the chart, its own check and the transcript pages (tested
    # elsewhere), which take most of the time on the full corpus
    context = case_context(study, "Eastern", plot=False)
    context.nav = navigation(study, tmp_path, "html", "case-eastern.html")
    path = tmp_path / "case-eastern.html"
    path.write_text(render_text(study, "case", "html", context, "eastern"), encoding="utf-8")
    browser = Browser(chromium())
    try:
        browser.open(path.as_uri())
        seen = browser.evaluate(READER)
    finally:
        browser.close()
    schools = dict(seen["schools"])
    staff = [q for q in seen["quotes"] if q["section"] == "staff"]
    quoted = {q["transcript"].rsplit("-", 1)[0] for q in staff}
    assert len(schools) == 11 and quoted <= set(schools) and len(quoted) >= len(schools) / 2, quoted
    assert {q["phase"] for q in staff} == set(schools.values())
    informants = [q for q in seen["quotes"] if q["section"] == "informants"]
    assert informants and all(q["phase"] == "system informant" and "interviewee" in q["attribution"] for q in informants)
    assert {q["section"] for q in seen["quotes"]} == {"staff", "informants"}
    assert seen["ratios"] and all(len(re.findall(r"\d\.\d \(\d+ of \d+\)", row)) == 2 for row in seen["ratios"]), seen["ratios"]
