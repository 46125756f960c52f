"""`qualcode agreement`: how far coders agree, per code and overall, and where they differ."""

from typing import Annotated

import typer

from qualcode.cli._console import terminal
from qualcode.cli._util import JsonOption, ProjectOption, open_project
from qualcode.cli.query import CodesOption, RawOption, WhereOption

MEASURE_COLUMNS = {
    "percent_agreement": "% agree", "cohen_kappa": "Cohen κ", "fleiss_kappa": "Fleiss κ",
    "krippendorff_alpha": "Kripp. α", "brennan_prediger": "B&P κ", "unitizing_alpha": "uα",
}


def agreement_cli(
    coders: Annotated[str | None, typer.Option("--coders", help="The coders to compare, comma-separated (two or more; default with --round: the round's).")] = None,
    round_name: Annotated[str | None, typer.Option("--round", help="Only the transcripts of this blind round, and (unless --coders) its coders.")] = None,
    codes: CodesOption = None,
    unit: Annotated[str, typer.Option("--unit", "-u", help="Judge each participant turn, sentence, segment (what any coder coded) or character.")] = "turn",
    where: WhereOption = None,
    disagreements: Annotated[bool, typer.Option("--disagreements", help="List each unit where the coders differ on a code, with its words.")] = False,
    matrix: Annotated[bool, typer.Option("--matrix", help="Krippendorff's alpha of every pair of coders, as a coder x coder table.")] = False,
    raw: RawOption = False,
    as_json: JsonOption = False,
    project: ProjectOption = None,
) -> None:
    """Inter-coder agreement per code and overall: percent agreement, Cohen's, Fleiss' and Brennan & Prediger's
    kappa, Krippendorff's alpha and unitizing alpha-u, with how much of the agreement is on text nobody coded."""
    from qualcode.analysis import agreement
    from qualcode.analysis.query_where import parse_where

    if matrix and disagreements:
        raise terminal.abort("--matrix and --disagreements are two reports: ask for one at a time", 2)
    opened, chosen = open_project(project), parse_where(where or [])
    names, within = _round_scope(opened, round_name, coders)
    if disagreements:
        if raw:
            terminal.warn("--raw: names are not pseudonymised; do not share this output")
        from qualcode.coding.consensus import mark_disagreements

        found = agreement.disagreements(opened, names, codes, unit, chosen, raw, within)
        found = mark_disagreements(opened, names, found)
        terminal.json(found) if as_json else _show_disagreements(found)
        return
    if matrix:
        found = agreement.agreement_matrix(opened, names, codes, unit, chosen, within)
        _warn_missing(found)
        terminal.json(found.as_json()) if as_json else _show_matrix(found)
        return
    report = agreement.agreement(opened, names, codes, unit, chosen, within)
    _warn_missing(report)
    if as_json:
        terminal.json(report.as_json())
        return
    _show_report(report)


def _warn_missing(report) -> None:
    for coder, transcripts in report.missing.items():
        terminal.warn(f"{coder} has not coded {len(transcripts)} of {report.transcripts} transcripts "
                      f"({', '.join(transcripts[:5])}{', ...' if len(transcripts) > 5 else ''}): "
                      "their units are missing for that coder, not 'absent'")


def _round_scope(opened, round_name: str | None, coders: str | None) -> tuple[list[str], list[str] | None]:
    """The coders to compare and the transcripts to compare them on (None: all), from --coders and --round."""
    if round_name is None:
        if coders is None:
            raise terminal.abort("name the coders to compare with --coders A,B, or a blind round with --round NAME", 2)
        return coders.split(","), None
    from qualcode.coding.rounds import round_summary

    summary = round_summary(opened, round_name)
    if summary.open:
        terminal.warn(f"round {summary.name} is still open: its coders may not have finished"
                      f" ('qualcode round close {summary.name}' when they have)")
    return (coders.split(",") if coders else summary.coders), summary.transcripts


def _figure(value) -> str:
    return "–" if value is None else f"{value:.3f}"


def _row(name: str, measures: dict) -> list:
    return [name, measures["units"], measures["coded_units"], _figure(measures["absent_share"]),
            *(_figure(measures[key]) for key in MEASURE_COLUMNS)]


def _show_report(report) -> None:
    rows = [_row(code, measures) for code, measures in report.per_code.items()] + [_row("overall", report.overall)]
    what = "characters" if report.unit == "character" else f"{report.unit}s"
    terminal.table(
        f"agreement of {', '.join(report.coders)} on {what} of participants' talk ({report.transcripts} transcripts)",
        ["code", "units", "coded", "absent share", *MEASURE_COLUMNS.values()], rows,
    )
    share = report.overall["absent_share"]
    if share is not None and share >= 0.5:
        terminal.info(f"{share:.0%} of the agreement is on {what} nobody coded: it inflates % agree; "
                      "report a chance-corrected measure (alpha, kappa) or uα alongside it")


def _show_matrix(found) -> None:
    what = "characters" if found.unit == "character" else f"{found.unit}s"
    rows = [[first, *(_figure(found.alpha(first, second)) for second in found.coders)] for first in found.coders]
    terminal.table(f"Krippendorff's α of each pair of coders ({what})", ["coder", *found.coders], rows)


def _show_disagreements(found: list[dict]) -> None:
    """One row per disagreement; where a coder coded only part of the unit, their words too; and its decision."""
    from qualcode.coding.consensus import describe

    rows = [(d["transcript"], d["lines"], d["code"], ", ".join(d["coded_by"]), ", ".join(d["not_coded_by"]),
             _flat(d["text"]), _coded_words(d), describe(d["resolution"]) if d["resolution"] else "") for d in found]
    resolved = sum(d["resolution"] is not None for d in found)
    terminal.table(f"{len(rows)} disagreements" + (f", {resolved} resolved" if resolved else ""),
                   ["transcript", "lines", "code", "coded by", "not by", "passage", "coded words", "resolved"], rows)


def _coded_words(disagreement: dict) -> str:
    passage = _flat(disagreement["text"])
    return "; ".join(f"{coder}: " + " … ".join(map(_flat, words))
                     for coder, words in disagreement["coded"].items() if [_flat(w) for w in words] != [passage])


def _flat(text: str) -> str:
    return " ".join(text.split())
