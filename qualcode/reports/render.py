"""Reports: quote banks per theme, locality case studies and the cross-locality summary.

`render_report(project, kind, fmt, output, **options)` builds the kind's typed
context (`qualcode.reports.contexts`), renders it to HTML or Markdown through
jinja2 templates (a project's `templates/` folder first, then the package's,
the most specific template name first) or to Word with python-docx, runs
`qualcode check` on the result, and only then moves it into place. A report
that fails its own check is never left behind.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from qualcode.errors import QualcodeError
from qualcode.project import Project
from qualcode.reports.contexts import variables

FORMATS = ("html", "md", "docx")
KINDS = ("quotes", "case", "cases")
#: Template file suffix per text format.
TEMPLATE_SUFFIX = {"html": "html", "md": "md.j2"}


def render_report(
    project: Project, kind: str, fmt: str | None = None, output: Path | None = None, corpus=None,
    warnings: list[str] | None = None, pages=None, refresh: bool = True, **options
) -> Path:
    """Write one report and return its path.

    `options` go to the kind's context builder: for ``quotes`` `theme` and a
    `selection` (its `coarsen` for small cells); for ``case`` `locality` and
    `coarsen`; all take `plot`, and ``quotes`` and
    ``case`` a `source` (`qualcode.reports.quotes.QuoteSource`) to share. `output` may be a
    file or a folder (default: the project's `reports/`); the format comes
    from `fmt`, else from the output's suffix, else HTML. `corpus` is a
    `qualcode.reports.check.Corpus` to reuse across several reports. `warnings`, if
    given, receives the report's warnings (quotes that are small cells).

    A report links to the other reports in its folder (in Word too); in
    every format each quote id links to its passage on its transcript's HTML
    page in `transcripts/` (`qualcode.reports.transcripts`), written beside it; `pages` (a `TranscriptPages`) shares those pages across
    several reports. With `refresh` the other reports' links are brought up to
    date (`navigation.refresh`); a run of reports does that once, at its end.
    """
    if kind not in KINDS:
        raise QualcodeError(f"no report kind '{kind}'; choose from {', '.join(KINDS)}")
    fmt = _format(fmt, output)
    context, specific = _context(project, kind, fmt, options)
    if warnings is not None:
        warnings.extend(getattr(context, "warnings", []))
    path = output_path(project, output, f"{kind}-{specific}" if specific else kind, fmt)
    from qualcode.reports.navigation import navigation

    context.nav = navigation(project, path.parent, fmt, path.name)
    if fmt == "docx":
        from qualcode.reports.word import write_docx

        write = lambda target: write_docx(kind, context, target)  # noqa: E731
    else:
        text = render_text(project, kind, fmt, context, specific)
        write = lambda target: target.write_text(text, encoding="utf-8")  # noqa: E731
    written = _write_checked(project, path, write, corpus)
    _write_pages(project, path.parent, context, pages, corpus, options.get("source"))
    if refresh:
        from qualcode.reports import navigation

        navigation.refresh(project, path.parent, fmt)
    return written


def _write_pages(project: Project, folder: Path, context, pages=None, corpus=None, source=None) -> None:
    """The transcript pages the report's quote ids link to: now, or with a shared `pages` when its run flushes it."""
    from qualcode.reports.transcripts import TranscriptPages

    quotes = _quotes_of(context)
    if not quotes:
        return
    if pages is not None:
        pages.add(folder, quotes)
        return
    from qualcode.reports.quotes import QuoteSource

    pages = TranscriptPages(project, source or QuoteSource.load(project, {q.transcript for q in quotes}), corpus)
    pages.add(folder, quotes)
    pages.flush()


def _quotes_of(context) -> list:
    """Every quote a report shows (none in the cross-locality summary)."""
    groups = getattr(context, "groups", None)
    if groups is not None:
        return [quote for group in groups for place in group.localities for quote in place.quotes]
    return [quote for theme in getattr(context, "themes", []) for quote in theme.quotes + theme.informants]


def _format(fmt: str | None, output: Path | None) -> str:
    """The format asked for, else the one the output file's suffix names, else HTML; the two must agree."""
    suffix = output.suffix.lower().lstrip(".") if output is not None and output.suffix and not output.is_dir() else ""
    named = {"markdown": "md", "htm": "html"}.get(suffix, suffix)
    fmt = fmt or named or "html"
    if fmt not in FORMATS:
        raise QualcodeError(f"reports are written as {', '.join(FORMATS)}; not '{fmt}'")
    if named and named != fmt:
        raise QualcodeError(f"{output.name} is not a .{fmt} file; name the file .{fmt} or leave out --format")
    return fmt


def _context(project: Project, kind: str, fmt: str, options: dict):
    """The kind's context, and the name that makes its default file and specific template names."""
    if kind == "quotes":
        from qualcode.reports.quotes import quotes_context

        context = quotes_context(project, options["theme"], options.get("selection"), options.get("source"))
        return context, context.theme.replace("/", "-")
    from qualcode.reports import case

    if kind == "case":
        context = case.case_context(project, options["locality"], options.get("plot", True), options.get("shares"),
                                    options.get("source"), options.get("coarsen", False))
        return context, context.locality.lower()
    return case.cases_context(project, fmt, options.get("plot", True), options.get("shares")), None


def output_path(project: Project, output: Path | None, stem: str, fmt: str) -> Path:
    """`output` if it names a file; else `<output or reports/>/<stem>.<fmt>`."""
    if output is None:
        output = project.root / "reports"
    elif output.suffix and not output.is_dir():
        output.parent.mkdir(parents=True, exist_ok=True)
        return output
    output.mkdir(parents=True, exist_ok=True)
    return output / f"{stem}.{fmt}"


def environment(project: Project, fmt: str):
    """jinja2 templates: the project's `templates/` first, then the package's (also as ``default:NAME``)."""
    from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, PrefixLoader, StrictUndefined

    package = PackageLoader("qualcode", "templates")
    loader = ChoiceLoader([FileSystemLoader(project.root / "templates"), PrefixLoader({"default": package}, delimiter=":"), package])
    return Environment(loader=loader, autoescape=fmt == "html", undefined=StrictUndefined, keep_trailing_newline=True)


def template_names(kind: str, fmt: str, specific: str | None) -> list[str]:
    """Most specific first: ``case-eastern.html`` before ``case.html``."""
    suffix = TEMPLATE_SUFFIX[fmt]
    return ([f"{kind}-{specific}.{suffix}"] if specific else []) + [f"{kind}.{suffix}"]


def render_text(project: Project, kind: str, fmt: str, context, specific: str | None = None) -> str:
    template = environment(project, fmt).select_template(template_names(kind, fmt, specific))
    text = template.render(**variables(context))
    # Template tags on lines of their own leave blank lines behind; Markdown needs at most one between blocks.
    return re.sub(r"\n{3,}", "\n\n", text) if fmt == "md" else text


def _write_checked(project: Project, path: Path, write: Callable[[Path], None], corpus=None) -> Path:
    """Write to a temporary file beside `path`, check it, and move it into place only if it passes."""
    temporary = path.with_name(f".{path.stem}.partial{path.suffix}")
    try:
        write(temporary)
        errors = _check_written_report(project, temporary, corpus)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    if errors:
        temporary.unlink(missing_ok=True)
        shown = "\n".join(errors[:20]) + (f"\n... and {len(errors) - 20} more" if len(errors) > 20 else "")
        raise QualcodeError(f"{path.name} failed its own check, so it was not written:\n{shown}")
    os.replace(temporary, path)
    return path


def _check_written_report(project: Project, path: Path, corpus=None) -> list[str]:
    """Errors `qualcode check` finds in the report (warnings, e.g. pseudonymised words, are not errors)."""
    from qualcode.reports.check import check_report

    result = check_report(project, path, corpus=corpus)
    return [f"line {f.line}: {f.check}: {f.message}" for f in result.findings if f.severity == "error"]


def render_case_reports(
    project: Project, fmt: str | None = None, output: Path | None = None, plot: bool = True, corpus=None, source=None,
    coarsen: bool = False, warnings: list[str] | None = None, pages=None, refresh: bool = True,
) -> list[Path]:
    """Every locality's case study and the cross-locality summary, sharing one matrix, one checker
    corpus, one `QuoteSource` and its transcript pages; `coarsen`, `warnings` and `refresh` as for
    `render_report`; with a `pages` of the caller's, the caller flushes it."""
    from qualcode.reports.check import Corpus
    from qualcode.reports.case import Shares
    from qualcode.reports.quotes import QuoteSource
    from qualcode.reports.transcripts import TranscriptPages

    if output is not None and output.suffix and not output.is_dir():
        raise QualcodeError(f"{output}: give a folder for the case reports, not a file")
    shares = Shares.of(project)
    corpus = corpus or Corpus(project)
    source = source or QuoteSource.load(project)
    own_pages = pages is None
    pages = pages or TranscriptPages(project, source, corpus)
    written = [
        render_report(project, "case", fmt, output, corpus=corpus, warnings=warnings, pages=pages, refresh=False,
                      locality=name, plot=plot, shares=shares, source=source, coarsen=coarsen)
        for name in case_localities(project)
    ]
    written.append(render_report(project, "cases", fmt, output, corpus=corpus, refresh=False, plot=plot, shares=shares))
    if own_pages:
        pages.flush()
    if refresh:
        from qualcode.reports import navigation

        navigation.refresh(project, written[-1].parent, fmt)
    return written


def case_localities(project: Project) -> list[str]:
    """Localities with schools: the cases (national informants inform every case but are not one)."""
    from sqlalchemy import select

    from qualcode.models import School

    with project.session() as session:
        return sorted(set(session.scalars(select(School.locality_name))))


def render_demo_reports(project: Project, output: Path, progress: Callable[[int, int], None] | None = None) -> list[Path]:
    """What `make demo` writes: the case studies and their summary, a quote bank per top-level theme, matrix exports."""
    from qualcode.reports.check import Corpus
    from qualcode.analysis.framework import framework
    from qualcode.analysis.query import export_table, select_codes
    from qualcode.analysis.query_matrix import matrix
    from qualcode.reports.plots import write_matrix_plot
    from qualcode.reports.quotes import QuoteSource, Selection

    from qualcode.reports import navigation
    from qualcode.reports.transcripts import TranscriptPages

    themes = [path for path in select_codes(project, None).values() if "/" not in path]
    selection = Selection(max_per_school=2, min_words=15, max_words=120, trim=True)
    corpus, source = Corpus(project), QuoteSource.load(project)
    pages = TranscriptPages(project, source, corpus)
    written = render_case_reports(project, "html", output, corpus=corpus, source=source, pages=pages, refresh=False)
    for done, theme in enumerate(themes, start=1):
        written.append(render_report(project, "quotes", "html", output, corpus=corpus, pages=pages, refresh=False,
                                     theme=theme, selection=selection, source=source))
        if progress:
            progress(done, len(themes))
    pages.flush()
    navigation.refresh(project, output, "html")
    table = matrix(project, by="locality", rollup=True)
    written += [export_table(table, output / "matrix-locality.csv"), export_table(table, output / "matrix-locality.xlsx"),
                write_matrix_plot(table, output / "matrix-locality.png", "coded passages (count)", "locality"),
                export_table(framework(project, by="school"), output / "framework-schools.xlsx")]
    return written
