"""Reports on the small coded project: quote banks and case studies in Markdown, HTML and Word.

Each format is read back the way a person (or `qualcode check`) would: block
quotes with the attribution on the next line, headings, Word's styles.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import fields
from html.parser import HTMLParser

import pytest
from jinja2 import meta

from qualcode.reports.attribution import render, speaker_for
from qualcode.errors import QualcodeError
from qualcode.models import Transcript
from qualcode.analysis.query import pseudonymiser
from qualcode.reports.render import environment, render_report, render_text
from qualcode.reports.contexts import CONTEXTS, variables
from qualcode.reports.quotes import Selection, quotes_context, trim_text
from tests.coded_fixture import make_coded_project

QUOTE_ID = re.compile(r"^Q-[A-Z0-9]+(?:-[A-Z0-9]+)*-\d{4}$")


@pytest.fixture
def coded(tmp_path, corpus):
    return make_coded_project(tmp_path / "coded", corpus)


def markdown_quotes(text: str) -> list[tuple[str, str, str]]:
    """(quote, attribution, reference line) for each `>` block: the attribution is the next non-empty line."""
    lines = text.splitlines()
    found = []
    for index, line in enumerate(lines):
        if line.startswith(">") and (index == 0 or not lines[index - 1].startswith(">")):
            end = index
            while end < len(lines) and lines[end].startswith(">"):
                end += 1
            following = [l for l in lines[end:] if l.strip()]
            found.append((" ".join(l[1:].strip() for l in lines[index:end]), following[0], following[1]))
    return found


def sources(project) -> dict[str, tuple[str, str]]:
    """Transcript id -> (pseudonymised text on one line, attribution line of its speaker)."""
    clean = pseudonymiser(project)
    with project.session() as session:
        return {t.id: (" ".join(clean(t.text).split()), render(project.settings, speaker_for(t.participant)))
                for t in session.query(Transcript)}


def test_quote_bank_markdown_quotes_are_verbatim_and_attributed(coded):
    path = render_report(coded, "quotes", "md", theme="markets")
    assert path == coded.root / "reports" / "quotes-markets.md"
    quotes = markdown_quotes(path.read_text())
    assert len(quotes) == 4
    known = sources(coded)
    for quote, attribution, reference in quotes:
        quote_id = reference.split("`")[1]
        assert QUOTE_ID.match(quote_id)
        transcript = reference.split(" · ")[1].split(",")[0]
        text, speaker_line = known[transcript]
        assert quote_id.startswith(f"Q-{transcript}-")
        assert all(piece.strip() in text for piece in quote.split("...")), quote
        assert attribution == speaker_line
    assert "Year 7" not in path.read_text() and "[year group]" in path.read_text()


def test_quote_bank_groups_by_code_then_locality_important_first(coded):
    context = quotes_context(coded, "markets")
    assert [g.code for g in context.groups] == ["markets", "markets/competition"]
    competition = context.groups[1].localities[0].quotes
    assert competition[0].important and not competition[1].important
    assert context.quote_count == 4


def test_ids_are_stable_and_do_not_depend_on_the_selection(coded):
    everything = {q.text: q.id for g in quotes_context(coded, "markets").groups for p in g.localities for q in p.quotes}
    some = quotes_context(coded, "markets", Selection(min_words=10))
    for group in some.groups:
        for place in group.localities:
            for quote in place.quotes:
                assert everything[quote.text] == quote.id


def test_selection_bounds_balance_and_filters(coded):
    def count(selection):
        return quotes_context(coded, "markets", selection).quote_count

    assert count(Selection(min_words=10)) == 2
    assert count(Selection(max_words=8)) == 2
    assert count(Selection(max_per_school=1)) == 3  # one per school for each code: S02 x2 codes, S01 x1
    assert count(Selection(where={"school_type": "maintained"})) == 1


def test_trimming_keeps_whole_sentences():
    text = "One two three. Four five six seven. Eight nine."
    assert trim_text(text, 5) == "One two three. ..."
    assert trim_text(text, 8) == "One two three. Four five six seven. ..."
    assert trim_text(text, 50) == text
    assert trim_text("A single long sentence of many words here.", 3) == "A single long sentence of many words here."


def test_trimmed_quotes_in_a_report(coded):
    selection = Selection(max_words=12, trim=True)
    path = render_report(coded, "quotes", "md", coded.root / "out", theme="competition", selection=selection)
    assert path.name == "quotes-markets-competition.md"
    assert all(len(q.replace("...", "").split()) <= 18 for q, _, _ in markdown_quotes(path.read_text()))


class Outline(HTMLParser):
    """Headings, and each blockquote's text with the text of the element right after it."""

    def __init__(self):
        super().__init__()
        self.headings, self.quotes, self.ids = [], [], []
        self._tag = None
        self._buffer = []
        self._after_quote = False

    def handle_starttag(self, tag, attrs):
        if tag in ("h1", "h2", "h3", "blockquote", "figcaption"):
            self._tag, self._buffer = tag, []
        if tag == "figure":
            self.ids.append(dict(attrs)["id"])

    def handle_endtag(self, tag):
        if tag == self._tag:
            text = " ".join("".join(self._buffer).split())
            if tag == "blockquote":
                self.quotes.append([text, None])
            elif tag == "figcaption":
                self.quotes[-1][1] = text
            else:
                self.headings.append((tag, text))
            self._tag = None

    def handle_data(self, data):
        if self._tag:
            self._buffer.append(data)


def test_quote_bank_html_has_toc_headings_and_attributed_quotes(coded):
    path = render_report(coded, "quotes", "html", theme="markets")
    html = path.read_text()
    outline = Outline()
    outline.feed(html)
    assert ("h1", "Quote bank: markets") in outline.headings
    assert ("h2", "markets/competition") in outline.headings and ("h3", "Eastern") in outline.headings
    assert len(outline.quotes) == 4 and all(attribution for _, attribution in outline.quotes)
    # each quote id links to its passage on its transcript's page, not to itself
    assert all(QUOTE_ID.match(i) and f'href="transcripts/{i[2:-5]}.html#{i}"' in html for i in outline.ids)
    assert '<nav class="toc">' in html and f'href="#{outline.ids[0]}"' not in html


def test_html_escapes_what_people_wrote(coded):
    from qualcode.coding.manual import add_memo

    add_memo(coded, "locality", "Eastern", "Heads <b>said</b> <script>alert(1)</script> & more", "tester")
    html = render_report(coded, "case", "html", locality="Eastern", plot=False).read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script" not in html
    assert "&lt;b&gt;said&lt;/b&gt; " in html and "&amp; more" in html


def test_quote_bank_docx_uses_words_quote_style(coded):
    import docx

    path = render_report(coded, "quotes", "docx", theme="markets")
    paragraphs = docx.Document(str(path)).paragraphs
    quoted = [i for i, p in enumerate(paragraphs) if p.style.name == "Quote"]
    assert len(quoted) == 4
    known = sources(coded)
    for index in quoted:
        reference = paragraphs[index + 2].text
        transcript = reference.split(" · ")[1].split(",")[0]
        assert paragraphs[index + 1].text == known[transcript][1]
    assert any(p.style.name.startswith("Heading") and p.text == "markets/competition" for p in paragraphs)


def test_case_study(coded, monkeypatch):
    monkeypatch.setattr("qualcode.reports.case.KEY_QUOTE_WORDS", (1, 100))
    path = render_report(coded, "case", "md", locality="eastern", plot=False)
    assert path.name == "case-eastern.md"
    text = path.read_text()
    for heading in ("## Context", "## Themes against the other localities", "## Over- and under-represented themes",
                    "## Key quotes", "## Memos"):
        assert heading in text
    assert "| EAS-S01 | primary | maintained | Good | 23% | LLE | EAS-TSA1 | 2 |" in text
    assert "The head sees the alliance as the school's lifeline." in text
    assert "Competition is sharper among the secondaries." in text
    known = sources(coded)
    quotes = markdown_quotes(text)
    # One quote per participant and theme: markets from S02's and S01's heads, networks from S01's two staff.
    assert [reference.split("`")[1].rsplit("-", 1)[0] for _, _, reference in quotes] == [
        "Q-EAS-S02-HT", "Q-EAS-S01-HT", "Q-EAS-S01-DH", "Q-EAS-S01-HT"]
    assert all(attribution == known[reference.split(" · ")[1].split(",")[0]][1] for _, attribution, reference in quotes)
    assert all(", line " in reference or ", lines " in reference for _, _, reference in quotes)
    assert "## How the key quotes were chosen" in text and "at most" not in text.split("## How the key quotes")[0][-200:]


def test_case_study_small_cells_are_warned_and_coarsened_as_in_quote_banks(coded, monkeypatch):
    monkeypatch.setattr("qualcode.reports.case.KEY_QUOTE_WORDS", (1, 100))
    case, bank = [], []
    render_report(coded, "case", "md", locality="Eastern", plot=False, warnings=case)
    render_report(coded, "quotes", "md", theme="markets", warnings=bank)
    assert len(case) == 4  # every Eastern school is the only one of its kind there
    assert {w for w in case if w.split(":")[0] in {b.split(":")[0] for b in bank}} <= set(bank)
    coarse: list[str] = []
    path = render_report(coded, "case", "md", coded.root / "coarse.md", locality="Eastern", plot=False, coarsen=True,
                         warnings=coarse)
    assert {attribution for _, attribution, _ in markdown_quotes(path.read_text())} == {"Headteacher", "Principal", "Deputy headteacher"}
    assert all("attributed as '" in w for w in coarse) and len(coarse) == len(case)


def test_quotes_cut_inside_a_sentence_are_marked():
    from qualcode.reports.quotes import mark_cuts

    assert mark_cuts("we buy in support.", "Since the advisers left, ") == "... we buy in support."
    assert mark_cuts("We buy in support from", "It is hard. ") == "We buy in support from ..."
    assert mark_cuts("We buy in support.", "") == "We buy in support."
    assert mark_cuts("We buy (some) support?'", "Interviewee: ") == "We buy (some) support?'"
    assert mark_cuts("One sentence. ...", "A") == "... One sentence. ..."


def test_case_study_html_embeds_the_heatmap(coded):
    html = render_report(coded, "case", "html", locality="Eastern").read_text()
    assert '<figure class="plot" role="img"' in html and "<svg" in html
    assert "base64" not in html  # vector cells and real text: the leak check reads nothing but words


def test_unknown_locality(coded):
    with pytest.raises(QualcodeError, match="did you mean 'Eastern'"):
        render_report(coded, "case", "md", locality="Eastrn")


def test_cases_summary_links_the_case_studies(coded):
    from qualcode.reports.render import render_case_reports

    paths = render_case_reports(coded, "md", coded.root / "cases", plot=False)
    assert [p.name for p in paths] == ["case-eastern.md", "cases.md"]
    assert "[Eastern](case-eastern.md)" in paths[-1].read_text()


def test_a_report_that_fails_its_check_is_not_written(coded, monkeypatch):
    import qualcode.reports.render

    monkeypatch.setattr(qualcode.reports.render, "_check_written_report", lambda project, path, corpus=None: ["line 3: leak: 'X'"])
    with pytest.raises(QualcodeError, match="failed its own check"):
        render_report(coded, "quotes", "md", theme="markets")
    assert not list((coded.root / "reports").glob("*"))


def test_project_templates_override_and_can_extend_the_defaults(coded):
    folder = coded.root / "templates"
    folder.mkdir()
    (folder / "quotes-markets.md.j2").write_text("# Ours: {{ theme }}\n", encoding="utf-8")
    (folder / "_quote.html").write_text('{% include "default:_quote.html" %}<p class="ours">{{ quote.words }} words</p>', encoding="utf-8")
    context = quotes_context(coded, "markets")
    assert render_text(coded, "quotes", "md", context, "markets") == "# Ours: markets\n"
    html = render_text(coded, "quotes", "html", context, "markets")
    assert html.count('<p class="ours">') == 4 and html.count("<blockquote>") == 4


# The template contract


def test_every_context_field_has_help():
    seen, queue = set(), list(CONTEXTS.values())
    while queue:
        cls = queue.pop()
        if cls in seen:
            continue
        seen.add(cls)
        for field in fields(cls):
            assert field.metadata.get("help"), f"{cls.__name__}.{field.name} has no help"
    assert seen


@pytest.mark.parametrize("kind, suffix", [(k, s) for k in sorted(CONTEXTS) for s in ("html", "md.j2")
                                          if (k, s) != ("transcript", "md.j2")])  # transcript pages are HTML only
def test_templates_use_only_documented_names(coded, kind, suffix):
    env = environment(coded, "html" if suffix == "html" else "md")
    source = env.loader.get_source(env, f"{kind}.{suffix}")[0]
    used = meta.find_undeclared_variables(env.parse(source))
    assert used <= {f.name for f in fields(CONTEXTS[kind])}


def test_the_rendered_context_is_the_documented_one(coded):
    context = quotes_context(coded, "markets")
    assert isinstance(context, CONTEXTS["quotes"])
    assert set(variables(context)) == {f.name for f in fields(CONTEXTS["quotes"])}


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: How Chromium (with --enable-logging=stderr) reports what a page wrote to its console or threw:
#: ``[pid:tid:time:INFO:CONSOLE:1] "message", source: file:///... (1)``.
CONSOLE_LINE = re.compile(r":CONSOLE[:(]\d+\)?\] (.*)")


def chromium() -> str:
    """The headless browser; in CI (``CI`` set) its absence fails the test, elsewhere it skips it."""
    if CHROMIUM is None:
        how = "install Debian's chromium: apt-get install chromium (.ci/run does this)"
        if os.environ.get("CI"):
            pytest.fail(f"headless Chromium is not installed; {how}")
        pytest.skip(f"headless Chromium is not installed; {how}")
    return CHROMIUM


def open_in_chromium(url: str, *options: str) -> tuple[str, list[str]]:
    """Load `url` headless: what Chromium printed on stdout, and the console messages and uncaught errors."""
    browser = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0"]
    shown = subprocess.run([*browser, *options, url], capture_output=True, text=True, timeout=120)
    return shown.stdout, CONSOLE_LINE.findall(shown.stderr)


def test_chromium_console_messages_are_seen(tmp_path):
    """The check below is only as good as reading Chromium's log: a page that throws must be caught."""
    page = tmp_path / "broken.html"
    page.write_text("<!doctype html><title>t</title><script>console.error('boom'); missing();</script>", encoding="utf-8")
    _, console = open_in_chromium(page.as_uri(), "--dump-dom")
    assert any("boom" in m for m in console) and any("Uncaught ReferenceError" in m for m in console), console


def test_html_report_opens_in_headless_chromium(coded, tmp_path):
    path = render_report(coded, "case", "html", locality="Eastern")
    shot = tmp_path / "case-eastern.png"
    _, console = open_in_chromium(path.as_uri(), f"--screenshot={shot}", "--window-size=1200,2400")
    assert shot.read_bytes()[:4] == b"\x89PNG"
    assert console == []
    dom, console = open_in_chromium(path.as_uri(), "--dump-dom")
    assert console == []
    for heading in ("Context", "Themes against the other localities", "Key quotes from school staff",
                    "Key quotes from system informants", "How the key quotes were chosen", "Memos"):
        assert f"<h2>{heading}</h2>" in dom
    assert "<svg" in dom, "the heatmap is embedded as inline SVG"


#: Run in the page: the text of every id element (school, partnership, quote, transcript) that wraps onto two lines.
WRAPPED_IDS = """<script>
const wrapped = [...document.querySelectorAll('.id')].filter(element => {
  const range = document.createRange(); range.selectNodeContents(element);
  return new Set([...range.getClientRects()].map(rect => Math.round(rect.top))).size > 1;
}).map(element => element.textContent);
document.body.insertAdjacentHTML('beforeend', '<pre id="wrapped">' + JSON.stringify(wrapped) + '</pre>');
</script>"""


def test_ids_never_wrap_in_a_narrow_window(coded, tmp_path):
    import json
    import re

    path = render_report(coded, "case", "html", locality="Eastern", plot=False)
    probe = tmp_path / "probe.html"
    probe.write_text(path.read_text().replace("</body>", WRAPPED_IDS + "</body>"), encoding="utf-8")
    dom, console = open_in_chromium(probe.as_uri(), "--dump-dom", "--window-size=360,2400")
    assert console == []
    assert dom.count('class="id"') > 5
    assert json.loads(re.findall(r'<pre id="wrapped">(.*?)</pre>', dom)[-1]) == []


def test_cases_summary_in_word_has_both_plots(coded):
    import docx

    path = render_report(coded, "cases", "docx")
    document = docx.Document(str(path))
    assert len(document.inline_shapes) == 2
    assert [p.text for p in document.paragraphs if p.style.name == "Heading 1"] == [
        "Localities", "Themes by locality", "Themes by school phase"]


def test_format_and_file_name_must_agree(coded, tmp_path):
    assert render_report(coded, "quotes", None, tmp_path / "bank.md", theme="markets").suffix == ".md"
    with pytest.raises(QualcodeError, match="not a .docx file"):
        render_report(coded, "quotes", "docx", tmp_path / "bank.md", theme="markets")
    with pytest.raises(QualcodeError, match="not 'pdf'"):
        render_report(coded, "quotes", None, tmp_path / "bank.pdf", theme="markets")


def test_small_cell_quotes_are_warned_and_coarsened_quotes_pass_check(coded, tmp_path):
    """Each fixture school is the only one of its kind in Eastern: its quotes are small cells."""
    from qualcode.reports.check import check_report

    warnings: list[str] = []
    path = render_report(coded, "quotes", "md", tmp_path / "full.md", warnings=warnings, theme="markets")
    assert path.is_file()
    secondary = "'Principal, secondary converter academy, Ofsted Outstanding' in Eastern fits 1"
    assert any(w.startswith("Q-EAS-S02-HT-") and secondary in w and "--coarsen" in w for w in warnings)
    assert "Principal, secondary converter academy, Ofsted Outstanding" in path.read_text()

    coarse: list[str] = []
    path = render_report(coded, "quotes", "md", tmp_path / "coarse.md", warnings=coarse, theme="markets",
                         selection=Selection(coarsen=True))
    quotes = markdown_quotes(path.read_text())
    assert {attribution for _, attribution, _ in quotes} == {"Headteacher", "Principal"}
    assert len(coarse) == len(warnings) and any("attributed as 'Principal'" in w for w in coarse)
    assert [f for f in check_report(coded, path).findings if f.severity == "error"] == []


def test_a_coarsened_informant_passes_check(coded, tmp_path):
    """NAT-I01 (an NCTL informant) may be attributed as 'System informant interviewee'; not as an RSC."""
    from qualcode.reports.attribution import read
    from qualcode.reports.check import check_report

    assert read(coded.settings, "System informant interviewee").speaker.informant_kind == "System informant"
    quote = "> Some areas have strong partnerships and others have almost none.\n\n{}\n"
    coarse, wrong = tmp_path / "coarse.md", tmp_path / "wrong.md"
    coarse.write_text(quote.format("System informant interviewee"))
    wrong.write_text(quote.format("RSC interviewee"))
    assert check_report(coded, coarse).findings == []
    assert [f.check for f in check_report(coded, wrong).findings] == ["truth"]


@pytest.mark.parametrize(("bounds", "message"), [
    ({"min_words": 50, "max_words": 10}, "--min-words 50 is more than --max-words 10"),
    ({"max_per_school": 0}, "--max-per-school 0: give a number of 1 or more"),
    ({"max_words": 0}, "--max-words 0: give a number of 1 or more"),
])
def test_bounds_that_would_pick_nothing_or_mean_no_limit_are_refused(bounds, message):
    """0 used to mean 'no limit' and a minimum above the maximum wrote an empty bank, both with exit 0."""
    from qualcode.errors import QualcodeError
    from qualcode.reports.quotes import Selection

    with pytest.raises(QualcodeError, match=message):
        Selection(**bounds)
