"""`qualcode import`, `transcripts`, `show`, `stats`: getting transcripts in and looking at them."""

from pathlib import Path
from typing import Annotated

import typer

from qualcode.cli._console import terminal
from qualcode.cli._util import JsonOption, ProjectOption, open_project


def import_cli(
    paths: Annotated[list[Path], typer.Argument(help="Transcript files (.txt, .md, .docx, .vtt, .srt) or folders.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate only; write nothing.")] = False,
    project: ProjectOption = None,
) -> None:
    """Import transcripts and their metadata, all or nothing."""
    from qualcode.corpus import import_paths

    with terminal.progress("reading transcripts") as progress:
        report = import_paths(open_project(project), paths, dry_run=dry_run, progress=progress)
    for skipped in report.skipped:
        terminal.info(f"skipped: {skipped.path}: {skipped.reason}")
    for note in report.notes:
        terminal.warn(note)
    for moved in report.reanchored:
        terminal.warn(
            f"{moved.transcript}: coding '{moved.code}' at {moved.old[0]}-{moved.old[1]} is {moved.anchor}"
            + (f", now at {moved.new[0]}-{moved.new[1]}" if moved.anchor == "fuzzy" else "")
            + f": {moved.quote[:60]!r}"
        )
    verb = "would import" if dry_run else "imported"
    terminal.info(
        f"{verb} {len(report.added)} new, {len(report.updated)} changed, {len(report.unchanged)} unchanged transcripts"
    )


def transcripts_cli(
    locality: Annotated[str | None, typer.Option(help="Only this locality.")] = None,
    role: Annotated[str | None, typer.Option(help="Only staff in this role.")] = None,
    phase: Annotated[str | None, typer.Option(help="Only schools of this phase.")] = None,
    school_type: Annotated[str | None, typer.Option(help="Only schools of this type.")] = None,
    ofsted: Annotated[str | None, typer.Option(help="Only schools with this Ofsted grade.")] = None,
    informants: Annotated[
        bool | None, typer.Option("--informants/--staff", help="Only system informants / only school staff.")
    ] = None,
    as_json: JsonOption = False,
    project: ProjectOption = None,
) -> None:
    """List transcripts with their metadata."""
    from qualcode.overview import transcript_table

    table = transcript_table(
        open_project(project), informants, locality=locality, role=role, phase=phase,
        school_type=school_type, ofsted=ofsted,
    )
    if as_json:
        terminal.json(table.to_dict(orient="records"))
        return
    table["who"] = table["role"].fillna(table["informant_kind"] + " (informant)")
    columns = ["transcript", "who", "school", "locality", "phase", "school_type", "ofsted", "kind", "words", "codings"]
    rows = table[columns].fillna("").astype(str).values.tolist()
    terminal.table(f"{len(table)} transcripts", [c.replace("_", " ") for c in columns], rows)


def show_cli(
    transcript: Annotated[str, typer.Argument(help="Transcript id, e.g. EAS-S04-HT.")],
    project: ProjectOption = None,
) -> None:
    """Print a transcript with line numbers, speakers and the codes on each line."""
    from qualcode.overview import transcript_lines

    record, lines = transcript_lines(open_project(project), transcript)
    terminal.info(f"{record.id}  ({record.kind}, {record.words} words)")
    terminal.table(
        None,
        ["line", "text", "codes"],
        [(line.number, line.text, ", ".join(line.codes)) for line in lines],
        show_header=False,
        box=None,
        padding=(0, 1),
    )


def stats_cli(as_json: JsonOption = False, project: ProjectOption = None) -> None:
    """Count transcripts, schools and participants per locality, phase, type, grade and role."""
    from qualcode.overview import corpus_stats

    stats = corpus_stats(open_project(project))
    if as_json:
        terminal.json(stats)
        return
    print_stats(stats)


def print_stats(stats: dict) -> None:
    totals = ["transcripts", "schools", "participants", "system_informants", "localities", "words", "codings"]
    terminal.table("corpus", ["", "count"], [(name.replace("_", " "), f"{stats[name]:,}") for name in totals])
    rows = [
        (name, row["schools"], row["staff_interviews"], row["system_informants"], f"{row['words']:,}")
        for name, row in stats["per_locality"].items()
    ]
    terminal.table("per locality", ["locality", "schools", "staff interviews", "system informants", "words"], rows)
    for key, title in [
        ("schools_by_phase", "schools by phase"),
        ("schools_by_type", "schools by type"),
        ("schools_by_ofsted", "schools by Ofsted grade"),
        ("participants_by_role", "staff by role"),
        ("informants_by_kind", "system informants by kind"),
    ]:
        terminal.table(title, ["", "count"], list(stats[key].items()))
