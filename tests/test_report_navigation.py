"""Moving between the HTML reports as a reader does, in headless Chromium.

One set of reports is written for the module by the installed `qualcode`
script, in the order a researcher might (a quote bank, then the case studies,
then another bank), and one browser reads them all: every link on every page
must land somewhere real, every quote id on its quote's passage, the quote
bank's filter must work from a file on disk, and nothing may overflow its box.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from qualcode.privacy.pseudonyms import leaks
from qualcode.project import Project
from tests.coded_fixture import make_coded_project
from tests.conftest import FIXTURES, QUALCODE, run_script
from tests.test_reports import chromium


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[Project, Path]:
    root = tmp_path_factory.mktemp("navigation")
    shutil.copytree(FIXTURES / "corpus", root / "corpus")
    project = make_coded_project(root / "coded", root / "corpus")
    for command in (["quotes", "-t", "markets"], ["cases"], ["quotes", "-t", "networks"]):
        result = run_script(QUALCODE, "report", *command, "--project", str(project.root), cwd=root)
        assert result.returncode == 0, result.stderr
    return project, project.root / "reports"


@pytest.fixture(scope="module")
def browser():
    from tests.browser import Browser

    opened = Browser(chromium())
    yield opened
    opened.close()


def pages(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.html")) + sorted((folder / "transcripts").glob("*.html"))


#: Every link on the page, resolved by the browser, with the text it shows.
LINKS = "[...document.querySelectorAll('a[href]')].map(a => [a.href, a.textContent])"
#: Where the browser landed: the document, and the element the address's #anchor names (if any) and where it is.
LANDED = """(() => {
  const id = decodeURIComponent(location.hash.slice(1)), target = id ? document.getElementById(id) : null;
  const box = target ? target.getBoundingClientRect() : null;
  return {title: document.title, target: !!target, top: box && box.top, height: innerHeight,
          marked: [...document.querySelectorAll('mark.current')].map(m => m.textContent).join('')};
})()"""


def test_every_report_links_to_the_index_the_case_studies_and_every_quote_bank(written, browser):
    _, folder = written
    expected = {"cases.html", "case-eastern.html", "quotes-markets.html", "quotes-networks.html"}
    for page in pages(folder):
        browser.open(page.as_uri())
        bar = browser.evaluate("[...document.querySelectorAll('nav.reports a, nav.reports [aria-current]')]"
                               ".map(a => a.href || location.href)")
        # the bank written first links to the one written last: the bar is refreshed across the folder
        assert {Path(href.split("#")[0]).name for href in bar} == expected, page.name


def test_every_internal_link_resolves(written, browser):
    _, folder = written
    links = set()
    for page in pages(folder):
        browser.open(page.as_uri())
        links |= {href for href, _ in browser.evaluate(LINKS) if href.startswith("file:")}
    assert len(links) > 20
    for href in sorted(links):
        assert Path(href.split("#")[0].removeprefix("file://")).is_file(), href
        browser.open(href)
        landed = browser.evaluate(LANDED)
        assert landed["title"], href
        assert "#" not in href or landed["target"], f"{href}: no element has that id"
    assert browser.problems == []


def words(text: str) -> str:
    return " ".join(re.sub(r"\.\.\.|…", " ", text).split()).lower()


def test_every_quote_id_lands_on_its_passage(written, browser):
    project, folder = written
    seen, quoted = 0, {}
    for report in ("quotes-markets.html", "quotes-networks.html", "case-eastern.html"):
        browser.open((folder / report).as_uri())
        quotes = browser.evaluate("[...document.querySelectorAll('figure.quote')].map(f => "
                                  "[f.id, f.querySelector('blockquote').textContent, f.querySelector('a.id').href])")
        for quote_id, text, href in quotes:
            assert href.endswith(f"/transcripts/{quote_id[2:-5]}.html#{quote_id}")
            quoted.setdefault(quote_id[2:-5], set()).add(quote_id)
            browser.open(href)
            landed = browser.evaluate(LANDED)
            assert landed["target"] and 0 <= landed["top"] < landed["height"], (quote_id, landed)
            # the highlighted passage holds every word the report quotes, in order
            for piece in re.split(r"\.\.\.|…", text):
                assert words(piece) in words(landed["marked"]), (quote_id, piece, landed["marked"])
            seen += 1
    assert seen == 7  # 4 in the markets bank, 3 in networks; the fixture has no passage long enough for a key quote
    # a page shows the passages the folder's reports quote (two banks, written by two commands), no more
    anchors = {}
    for page in (folder / "transcripts").glob("*.html"):
        browser.open(page.as_uri())
        anchors[page.stem] = set(browser.evaluate("[...document.querySelectorAll('a.qid')].map(a => a.id)"))
    assert anchors == quoted


@pytest.fixture(scope="module")
def other_formats(written) -> Path:
    """A quote bank in Markdown, and in Word a quote bank and then the case studies, written into a folder of
    their own."""
    project, _ = written
    folder = project.root / "other"
    for command in (["quotes", "-t", "markets", "-f", "md"], ["quotes", "-t", "networks", "-f", "docx"], ["cases", "-f", "docx"]):
        result = run_script(QUALCODE, "report", *command, "-o", str(folder), "--project", str(project.root), cwd=project.root)
        assert result.returncode == 0, result.stderr
    return folder


#: A Markdown quote's reference line: the id, linked to its transcript page's anchor.
MARKDOWN_ID = re.compile(r"^\[`(Q-[A-Z0-9-]+)`\]\(([^)#]+)#([^)]+)\) · ", re.MULTILINE)


def word_links(path: Path) -> list[tuple[str, str, str, str]]:
    """(shown text, relationship target, anchor, quote) of each hyperlink in a Word report, read with python-docx;
    the quote is the 'Quote' paragraph two before the link's."""
    import docx

    paragraphs = docx.Document(str(path)).paragraphs
    return [(link.text, paragraph.part.rels[link._hyperlink.rId].target_ref, link.fragment, paragraphs[index - 2].text)
            for index, paragraph in enumerate(paragraphs) for link in paragraph.hyperlinks]


def test_markdown_and_word_quote_ids_link_to_their_passages(other_formats, browser):
    folder = other_formats
    markdown = (folder / "quotes-markets.md").read_text(encoding="utf-8")
    quotes = [block[2:] for block in markdown.split("\n\n") if block.startswith("> ")]
    linked = [(quote_id, target, anchor, quote) for (quote_id, target, anchor), quote
              in zip(MARKDOWN_ID.findall(markdown), quotes, strict=True)]
    linked += [link for link in word_links(folder / "quotes-networks.docx") if link[1].startswith("transcripts/")]
    assert len(linked) == 7  # as in HTML: 4 quotes on markets, 3 on networks
    for quote_id, target, anchor, quote in linked:
        assert target == f"transcripts/{quote_id[2:-5]}.html" and anchor == quote_id  # relative to the report
        assert (folder / target).is_file(), target
        browser.open(f"{(folder / target).as_uri()}#{anchor}")
        landed = browser.evaluate(LANDED)
        assert landed["target"], (quote_id, "no element has that id")
        for piece in re.split(r"\.\.\.|…", quote):
            assert words(piece) in words(landed["marked"]), (quote_id, piece, landed["marked"])
    # beside Markdown and Word reports a transcript page has no bar of links to HTML reports that are not there
    assert browser.evaluate("document.querySelectorAll('nav.reports').length") == 0
    assert markdown.startswith("<!-- qualcode:nav -->\nReports: quote banks **markets**\n")


def test_every_word_report_links_to_the_index_the_case_studies_and_every_quote_bank(written, other_formats, tmp_path):
    import docx

    from qualcode.reports import navigation

    folder = other_formats
    reports = sorted(path.name for path in folder.glob("*.docx"))
    assert reports == ["case-eastern.docx", "cases.docx", "quotes-networks.docx"]
    for name in reports:
        bar = docx.Document(str(folder / name)).paragraphs[0]
        assert bar.style.name == "Report links", name
        targets = [link.address for link in bar.hyperlinks]
        # the Markdown bar's relative targets, the report itself in bold and not linked; the bank written
        # first links to the case studies written after it: the bar is refreshed across the folder
        assert sorted(targets + [name]) == reports, name
        assert all((folder / target).is_file() and not link.fragment for target, link in zip(targets, bar.hyperlinks))
        assert [run.text for run in bar.runs if run.bold] == [{"cases.docx": "Index", "case-eastern.docx": "Eastern"}.get(
            name, name[len("quotes-"):-len(".docx")])]
    assert docx.Document(str(folder / "cases.docx")).paragraphs[0].text == (
        "Reports: Index · case studies Eastern · quote banks networks")
    # a report taken out of the folder: the bars drop its link, and the relationship behind it
    shutil.copytree(folder, tmp_path / "copy")
    (tmp_path / "copy" / "cases.docx").unlink()
    assert len(navigation.refresh(written[0], tmp_path / "copy", "docx")) == 2
    for path in (tmp_path / "copy").glob("*.docx"):
        part = docx.Document(str(path)).part
        assert "cases.docx" not in {rel.target_ref for rel in part.rels.values() if rel.is_external}, path.name


def test_transcript_pages_are_pseudonymised_partial_and_pass_check(written, browser):
    project, folder = written
    page = folder / "transcripts" / "EAS-S02-HT.html"
    browser.open(page.as_uri())
    text = browser.evaluate("document.body.innerText")
    assert "[year group]" in text and "Year 7" not in text and not leaks(project, text.replace("EAS-S02-HT", ""))
    speakers = browser.evaluate("[...document.querySelectorAll('.turn .speaker')].map(s => s.firstChild.textContent.trim())")
    assert set(speakers) == {"Interviewer", "Interviewee"}  # never the label as transcribed
    assert "left out" in text  # turns with no coded passage are not published
    check = run_script(QUALCODE, "check", *map(str, pages(folder)), "--project", str(project.root), "--json", cwd=folder)
    assert check.returncode == 0 and json.loads(check.stdout)["findings"] == [], check.stdout[-2000:]


def test_the_quote_bank_filter_works_from_a_file(written, browser):
    _, folder = written
    browser.open((folder / "quotes-markets.html").as_uri())
    assert browser.evaluate("document.querySelectorAll('figure.quote:not([hidden])').length") == 4
    shown = browser.evaluate("""(() => {
      const select = document.querySelector('select[data-facet=phase]');
      select.value = 'secondary'; select.dispatchEvent(new Event('change'));
      return {quotes: [...document.querySelectorAll('figure.quote:not([hidden])')].map(f => f.dataset.phase),
              counts: [...document.querySelectorAll('nav.toc .shown')].map(c => c.textContent),
              total: document.getElementById('filter-count').textContent};
    })()""")
    assert shown["quotes"] == ["secondary"] * 3
    assert shown["counts"] == ["1", "2"] and shown["total"] == "3 of 4 quotes shown"


#: Elements whose content is wider than their box, in the page as laid out.
OVERFLOWING = """[...document.querySelectorAll('figure.plot, td.id, td.num, nav.reports')]
  .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.tagName + '.' + e.className + ': ' + e.textContent.slice(0, 40))"""


@pytest.mark.parametrize("width", [1200, 390])
@pytest.mark.parametrize("name", ["case-eastern.html", "cases.html"])
def test_charts_and_id_cells_fit_their_boxes(written, browser, name, width):
    _, folder = written
    browser.resize(width, 900)
    try:
        browser.open((folder / name).as_uri())
        assert browser.evaluate("document.querySelectorAll('figure.plot svg').length") >= 1
        assert browser.evaluate("document.querySelectorAll('td.id').length") >= (2 if name.startswith("case-") else 0)
        assert browser.evaluate(OVERFLOWING) == []
        # on a desktop window nothing needs scrolling sideways (on a phone the wide tables may)
        assert width < 1000 or browser.evaluate("document.documentElement.scrollWidth <= innerWidth")
        # the charts shrink to the page: never wider than the text column
        assert browser.evaluate("[...document.querySelectorAll('figure.plot svg')].every(svg => "
                                "svg.getBoundingClientRect().width <= document.querySelector('main').clientWidth + 1)")
    finally:
        browser.resize(1200, 900)


#: Each chart with the table after it: the chart's words, the table's caption, columns and N row.
CHARTS = """[...document.querySelectorAll('figure.plot')].map(figure => {
  const table = figure.nextElementSibling;
  return {words: [...figure.querySelectorAll('svg text')].map(t => t.textContent).join(' ').replace(/\\s+/g, ' '),
          table: table.tagName + '.' + table.className, caption: table.querySelector('caption').textContent,
          columns: [...table.querySelectorAll('thead th.num')].map(th => th.textContent),
          n: [...table.querySelectorAll('tfoot td')].map(td => td.textContent)};
})"""


def test_each_chart_sits_above_its_table_and_says_its_unit_and_n(written, browser):
    _, folder = written
    browser.open((folder / "cases.html").as_uri())
    charts = browser.evaluate(CHARTS)
    assert len(charts) == 2  # themes by locality, themes by phase
    for chart, what in zip(charts, ["locality", "phase"]):
        assert chart["table"] == "TABLE.matrix"
        assert f"% of coded passages in the {what}" in chart["words"]
        assert chart["caption"].startswith(f"Share of each {what}'s coded passages (%)")
        assert chart["n"] and all(f"{column} (N = {n})" in chart["words"] for column, n in zip(chart["columns"], chart["n"]))
