"""`qualcode check FILE...`: attribution format, quote fidelity, attribution truth and leaks."""

from pathlib import Path
from typing import Annotated

import typer

from qualcode.cli._console import terminal
from qualcode.cli._util import JsonOption, ProjectOption, open_project
from qualcode.errors import QualcodeError


def check_cli(
    files: Annotated[list[Path], typer.Argument(help="Reports to check (.md, .html, .docx, .txt).")],
    fmt: Annotated[str | None, typer.Option("--format", help="md, html, docx or txt (default: from the file name).")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings count as failures too.")] = False,
    fix: Annotated[bool, typer.Option("--fix", help="Write NAME.fixed.EXT with corrected attribution lines.")] = False,
    as_json: JsonOption = False,
    project: ProjectOption = None,
) -> None:
    """Check every quote in a report; exit 0 clean, 1 findings, 2 could not run."""
    from qualcode.reports.check import CheckResult, Corpus, check_report, fix_report
    from qualcode.reports.reportfiles import read_document

    try:
        opened = open_project(project)
        corpus = Corpus(opened)
        total = CheckResult()
        for path in files:
            result = check_report(opened, path, fmt, corpus)
            total.quotes += result.quotes
            total.findings += result.findings
            if fix and result.findings:
                out = path.with_name(f"{path.stem}.fixed{path.suffix}")
                terminal.info(f"wrote {fix_report(read_document(path, fmt), result, out)}")
    except QualcodeError as exc:
        raise terminal.abort(str(exc), code=2) from None
    if as_json:
        terminal.json(total.to_json())
    else:
        _print(total)
    failing = total.errors or (strict and total.findings)
    raise typer.Exit(1 if failing else 0)


def _print(result) -> None:
    for f in result.findings:
        terminal.out.print(f"{f.file}:{f.line}: {f.message} [{f.check} {f.severity}]", markup=False, highlight=False, soft_wrap=True)
    counts = {}
    for f in result.findings:
        counts[(f.check, f.severity)] = counts.get((f.check, f.severity), 0) + 1
    rows = [(check, counts.get((check, "error"), 0), counts.get((check, "warning"), 0)) for check in ("format", "fidelity", "truth", "leak")]
    terminal.table(f"{result.quotes} quotes checked", ["check", "errors", "warnings"], rows)
