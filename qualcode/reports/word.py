"""Word reports with python-docx, in Word's own styles: Title, Heading 1-3, Quote, Table Grid.

The same contexts as the HTML and Markdown templates. Each quote is a 'Quote'
paragraph, the next paragraph is its attribution line alone, then a small
reference line whose quote id links to the passage on its transcript's page; that is the layout
`qualcode check` reads.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from qualcode.reports.contexts import CaseContext, CasesContext, Count, Link, MatrixTable, Navigation, Quote, QuotesContext
from qualcode.reports.plots import Chart

#: The paragraph style of the bar of links to the other reports: how `rewrite_bar` finds the bar again.
BAR_STYLE = "Report links"
NOTE = "Quotes are pseudonymised; each quote id links to its passage in context, on a pseudonymised page of its transcript."


def write_docx(kind: str, context, path: Path) -> Path:
    import docx

    document = docx.Document()
    if context.nav:
        _fill_bar(document.add_paragraph(style=_bar_style(document)), context.nav)
    document.add_heading(context.title, level=0)
    document.add_paragraph(f"Written by qualcode on {context.generated}. {NOTE}")
    {"quotes": _quotes, "case": _case, "cases": _cases}[kind](document, context)
    document.save(str(path))
    return path


def _quotes(document, context: QuotesContext) -> None:
    definition = f": {context.definition}" if context.definition else ""
    document.add_paragraph(f"{context.theme_title} ({context.theme}){definition}")
    document.add_paragraph(f"{context.quote_count} quotes, chosen as follows: {'; '.join(context.selection)}.")
    for group in context.groups:
        document.add_heading(group.code, level=1)
        if group.definition:
            document.add_paragraph(group.definition)
        for place in group.localities:
            document.add_heading(place.locality, level=2)
            for quote in place.quotes:
                _quote(document, quote)


def _quote(document, quote: Quote) -> None:
    document.add_paragraph(quote.text, style="Quote")
    document.add_paragraph(quote.attribution)
    lines = "lines" if "-" in quote.lines else "line"
    reference = document.add_paragraph()
    runs = [_link(reference, quote.id, quote.page, quote.id),
            reference.add_run(f" · {quote.transcript}, {lines} {quote.lines}" + (" · important" if quote.important else ""))]
    for run in runs:
        run.font.size = _points(8)


def _link(paragraph, text: str, address: str, fragment: str | None = None):
    """A hyperlink as Word writes one to another file, or to a place in it: the file (relative to the document)
    in the relationship, the place in `w:anchor`; its run. (python-docx reads hyperlinks but cannot add one.)"""
    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import RGBColor

    hyperlink = OxmlElement("w:hyperlink")
    hyperlink.set(qn("r:id"), paragraph.part.relate_to(address, RELATIONSHIP_TYPE.HYPERLINK, is_external=True))
    if fragment:
        hyperlink.set(qn("w:anchor"), fragment)
    paragraph._p.append(hyperlink)
    run = paragraph.add_run(text)
    run.font.underline = True
    run.font.color.rgb = RGBColor(0x1F, 0x4E, 0x79)
    hyperlink.append(run._r)
    return run


def _bar_style(document):
    """A small paragraph style of its own, so the bar can be found, and restyled in Word, as one thing."""
    from docx.enum.style import WD_STYLE_TYPE

    style = document.styles.add_style(BAR_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = document.styles["Normal"]
    style.font.size = _points(8)
    return style


def _bar_pieces(nav: Navigation) -> list[tuple[str, Link | None]]:
    """The bar's words in order, each with its link (None for plain words), as the Markdown bar reads:
    'Reports: Index · case studies Eastern, Northern · quote banks markets'."""
    groups = [(heading, links) for heading, links in
              [("", [nav.index] if nav.index else []), ("case studies ", nav.cases), ("quote banks ", nav.banks)] if links]
    pieces: list[tuple[str, Link | None]] = [("Reports: ", None)]
    for number, (heading, links) in enumerate(groups):
        pieces += [(" · " if number else "", None), (heading, None)]
        for place, link in enumerate(links):
            pieces += [(", " if place else "", None), (link.label, link)]
    return [(text, link) for text, link in pieces if text]


def bar_text(nav: Navigation) -> str:
    """The bar as a reader sees it (for the identity-key check before a bar is rewritten)."""
    return "".join(text for text, _ in _bar_pieces(nav))


def _fill_bar(paragraph, nav: Navigation) -> None:
    """Each report a link; the report itself in bold, not linked (as in HTML and Markdown)."""
    for text, link in _bar_pieces(nav):
        if link is None or link.current:
            paragraph.add_run(text).bold = bool(link)
        else:
            _link(paragraph, text, link.href)


def rewrite_bar(path: Path, nav: Navigation) -> bool:
    """Bring the bar of the Word report at `path` up to date with the folder (atomically); False if it has no
    bar or it was already current. The old links' relationships go with them."""
    import docx
    from docx.oxml.ns import qn

    document = docx.Document(str(path))
    paragraph = next((p for p in document.paragraphs if p.style is not None and p.style.name == BAR_STYLE), None)
    if paragraph is None:
        return False
    before = _bar_of(paragraph)
    old = paragraph._p.xpath("./w:hyperlink/@r:id")
    for child in list(paragraph._p):
        if child.tag != qn("w:pPr"):
            paragraph._p.remove(child)
    for rid in old:
        paragraph.part.drop_rel(rid)
    _fill_bar(paragraph, nav)
    if _bar_of(paragraph) == before:
        return False
    temporary = path.with_name(f".{path.stem}.partial{path.suffix}")
    document.save(str(temporary))
    os.replace(temporary, path)
    return True


def _bar_of(paragraph) -> tuple[str, list[str]]:
    """What the bar says and where its links go."""
    return paragraph.text, [hyperlink.address for hyperlink in paragraph.hyperlinks]


def _case(document, context: CaseContext) -> None:
    document.add_heading("Context", level=1)
    document.add_paragraph(f"{len(context.schools)} schools and {context.interviews} interviews in {context.locality}.")
    _table(document, ["School", "Phase", "Type", "Ofsted", "FSM", "Designations", "Partnerships", "Interviews"], [
        [s.id, s.phase, s.school_type, s.ofsted or "", "" if s.fsm is None else f"{s.fsm:g}%", ", ".join(s.designations),
         ", ".join(s.partnerships), str(s.interviews)] for s in context.schools
    ])
    for heading, counts in [("By phase", context.phases), ("By type", context.school_types), ("By Ofsted grade", context.grades),
                            ("Staff interviews by role", context.staff), ("System informants", context.informants)]:
        document.add_paragraph(f"{heading}: {_listed(counts)}")
    document.add_heading("Partnerships", level=2)
    _table(document, ["Partnership", "Kind", "Lead school", "Members"],
           [[p.id, p.kind, p.lead or "", ", ".join(p.members)] for p in context.partnerships])
    document.add_heading("Themes against the other localities", level=1)
    _matrix(document, context.matrix, context.plot)
    document.add_heading("Over- and under-represented themes", level=1)
    for heading, shares in [(f"More often coded in {context.locality}", context.over), (f"Less often coded in {context.locality}", context.under)]:
        document.add_heading(heading, level=2)
        _table(document, ["Theme", f"{context.locality}: % (passages of all)", "Elsewhere: % (passages of all)", "Ratio"],
               [[s.code, f"{s.here:.1f} ({s.passages} of {s.total})",
                 f"{s.elsewhere:.1f} ({s.passages_elsewhere} of {s.total_elsewhere})", f"{s.ratio:.2f}"] for s in shares])
    document.add_heading("Key quotes from school staff", level=1)
    for theme in context.themes:
        document.add_heading(theme.title, level=2)
        for quote in theme.quotes:
            _quote(document, quote)
    document.add_heading("Key quotes from system informants", level=1)
    for theme in (theme for theme in context.themes if theme.informants):
        document.add_heading(theme.title, level=2)
        for quote in theme.informants:
            _quote(document, quote)
    document.add_heading("How the key quotes were chosen", level=1)
    for step in context.method:
        document.add_paragraph(step, style="List Number")
    document.add_heading("Memos", level=1)
    for memo in context.memos:
        document.add_heading(f"On {memo.target}, {memo.author}, {memo.date}", level=3)
        document.add_paragraph(memo.text)
    if not context.memos:
        document.add_paragraph(f"No memos on {context.locality} or its schools yet.")


def _cases(document, context: CasesContext) -> None:
    document.add_heading("Localities", level=1)
    _table(document, ["Locality", "Schools", "Interviews", "Coded passages", "Most over-represented themes"],
           [[l.name, str(l.schools), str(l.interviews), str(l.passages), ", ".join(l.over)] for l in context.localities])
    document.add_heading("Themes by locality", level=1)
    _matrix(document, context.matrix, context.plot)
    if context.phase_plot:
        document.add_heading("Themes by school phase", level=1)
        _matrix(document, context.phase_matrix, context.phase_plot)


def _matrix(document, matrix: MatrixTable, plot: Chart | None) -> None:
    if plot:
        _picture(document, plot)
    _table(document, ["Theme", *matrix.columns],
           [["  " * row.depth + row.code, *(f"{v:.1f}" for v in row.values)] for row in matrix.rows]
           + ([["N (coded passages)", *map(str, matrix.totals)]] if matrix.totals else []))
    document.add_paragraph(matrix.caption)


def _picture(document, chart: Chart) -> None:
    from docx.shared import Cm

    document.add_picture(io.BytesIO(chart.png()), width=Cm(15))


def _table(document, header: list[str], rows: list[list[str]]) -> None:
    if not rows:
        document.add_paragraph("None.")
        return
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header):
        cell.text = text
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for row in rows:
        for cell, text in zip(table.add_row().cells, row):
            cell.text = text


def _listed(counts: list[Count]) -> str:
    return ", ".join(f"{c.label} {c.count}" for c in counts) or "none"


def _points(size: int):
    from docx.shared import Pt

    return Pt(size)
