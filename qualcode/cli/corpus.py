"""`qualcode import`, `transcripts`, `show`, `stats`: getting transcripts in and looking at them."""

from pathlib import Path
from typing import Annotated

import typer

from qualcode.cli._console import terminal
from qualcode.cli._util import CoderOption, JsonOption, NoPagerOption, ProjectOption, default_coder, open_project


def import_cli(
    paths: Annotated[
        list[str] | None,
        typer.Argument(help="Transcript files (.txt, .md, .docx, .vtt, .srt) or folders, or one REFI-QDA project (.qdpx); "
                       "with --reparse, transcript ids (none: all).",
                       show_default=False),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate only; write nothing.")] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Refuse the import if any speaker warning (no participant turns, unread labels).")
    ] = False,
    reparse: Annotated[
        bool, typer.Option("--reparse", help="Re-read the speakers of stored transcripts with the current settings.")
    ] = False,
    update: Annotated[
        bool, typer.Option("--update", help="Let files replace the text of coded transcripts and change stored participants"
                           " (refused otherwise); shows what changes and snapshots the database first.")
    ] = False,
    defaults: Annotated[
        Path | None, typer.Option("--defaults", help="For a .qdpx: YAML metadata for sources the project does not describe.",
                                  exists=True, dir_okay=False)
    ] = None,
    codings: Annotated[
        bool, typer.Option("--codings", help="The file is a table of codings (.csv/.xlsx, as 'export codings' writes):"
                           " add them, all or nothing, as one change.")
    ] = False,
    skip_unmatched: Annotated[
        bool, typer.Option("--skip-unmatched", help="With --codings: leave out (and list) rows whose transcript or code"
                           " the project lacks, instead of refusing the file.")
    ] = False,
    coder: CoderOption = None,
    as_json: JsonOption = False,
    project: ProjectOption = None,
) -> None:
    """Import transcripts and their metadata, all or nothing, and say whose words each turn holds.

    `qualcode import codings FILE` is `import --codings FILE` (unless a folder called codings is meant).
    """
    if paths and paths[0] == "codings" and len(paths) > 1 and not Path("codings").exists():
        codings, paths = True, paths[1:]
    if codings:
        from qualcode.cli.exchange import import_codings_file

        import_codings_file(paths or [], coder or default_coder(), skip_unmatched, dry_run, as_json, project)
        return
    if paths and any(p.lower().endswith(".qdpx") for p in paths):
        from qualcode.cli.exchange import import_qdpx_files

        import_qdpx_files(paths, defaults, coder or default_coder(), dry_run, as_json, project)
        return
    if reparse:
        _reparse(paths or [], dry_run, as_json, coder or default_coder(), project)
        return
    if not paths:
        raise terminal.abort("name the transcript files or folders to import (or --reparse)", 2)
    from qualcode.ingest.corpus import import_paths

    with terminal.progress("reading transcripts") as progress:
        report = import_paths(
            open_project(project), [Path(p) for p in paths], dry_run=dry_run, progress=progress, strict=strict,
            update=update, coder=coder or default_coder(),
        )
    if as_json:
        terminal.json(report.as_json())
    else:
        print_speakers(report.speakers)
        print_changes(report.changes)
    if report.snapshot:
        terminal.info(report.snapshot.message)
    for skipped in report.skipped:
        terminal.info(f"skipped: {skipped.path}: {skipped.reason}")
    for note in report.notes:
        terminal.warn(note)
    for warning in report.warnings:
        terminal.warn(str(warning))
    for moved in report.reanchored:
        terminal.warn(
            f"{moved.transcript}: coding '{moved.code}' at {moved.old[0]}-{moved.old[1]} is {moved.anchor}"
            + (f", now at {moved.new[0]}-{moved.new[1]}" if moved.anchor == "fuzzy" else
               " (not counted or quoted; 'qualcode codings --unplaced' lists it)")
            + f": {moved.quote[:60]!r}"
        )
    verb = "would import" if dry_run else "imported"
    terminal.info(
        f"{verb} {len(report.added)} new, {len(report.updated)} changed, {len(report.unchanged)} unchanged transcripts"
        + (f"; {len(report.warnings)} speaker warnings (--strict refuses them)" if report.warnings else "")
    )


def print_changes(changes) -> None:
    """What an import changes in coded work: each coded transcript's text and codings, and attribution lines."""
    rows = [(c.transcript, f"+{c.chars_added} / -{c.chars_removed}", f"+{c.lines_added} / -{c.lines_removed}",
             len(c.placements), c.anchors["exact"], c.anchors["fuzzy"], c.anchors["unplaced"]) for c in changes.texts]
    if rows:
        terminal.table("coded transcripts whose text changes", ["transcript", "characters", "lines", "codings", "exact",
                                                                 "fuzzy", "unplaced"], rows)
    rows = [(c.transcript, c.old, c.new) for c in changes.attributions]
    if rows:
        terminal.table("attribution lines that change", ["transcript", "was", "becomes"], rows)


def print_speakers(summaries) -> None:
    """One row per transcript: who was read as the interviewer, as the participant, and anything else."""
    def who(summary, roles) -> str:
        return ", ".join(
            f"{s['label']}{' = ' + s['participant'] if s.get('participant') else ''}"
            f" ({s['turns']}{', guessed' if s['guessed'] else ''})" for s in summary.speakers if s["role"] in roles
        )

    rows = [
        (s.transcript, who(s, ("interviewer",)), who(s, ("participant",)) or "none", who(s, ("note",)),
         f"{len(s.warnings)} warning{'s' if len(s.warnings) != 1 else ''}" if s.warnings else "")
        for s in summaries
    ]
    if rows:  # a row per transcript, so a listing: plain rows when piped, not a table built whole
        terminal.listing("speakers read (label, turns)", ["transcript", "interviewer", "participant", "notes", ""], rows,
                         paged=False)


def _reparse(ids: list[str], dry_run: bool, as_json: bool, coder: str, project) -> None:
    from qualcode.ingest.turns import reparse

    results = reparse(open_project(project), ids, dry_run=dry_run, coder=coder)
    if as_json:
        terminal.json([
            {**r.summary.as_json(), "turns_before": r.turns_before, "participant_turns_before": r.participant_turns_before,
             "codings_in_participant_turns": list(r.codings_in_participant_turns)}
            for r in results
        ])
    else:
        changed = [r for r in results if r.changed]
        rows = [
            (r.summary.transcript, f"{r.turns_before} -> {r.summary.turns}",
             f"{r.participant_turns_before} -> {r.summary.participant_turns}",
             "{} -> {}".format(*r.codings_in_participant_turns))
            for r in changed
        ]
        if rows:
            terminal.table("speakers re-read", ["transcript", "turns", "participant turns", "codings in participant turns"], rows)
    for result in results:
        for warning in result.summary.warnings:
            terminal.warn(str(warning))
    verb = "would change" if dry_run else "changed"
    changed = sum(r.changed for r in results)
    terminal.info(f"re-read the speakers of {len(results)} transcripts: {verb} {changed}; no coding moved")


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
    from qualcode.analysis.overview import transcript_table

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
    as_json: Annotated[bool, typer.Option("--json", help="Print the turns as JSON: speaker, label, role, lines, time, text.")] = False,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="Print the turns as JSON, one per line, each with its transcript.")] = False,
    no_pager: NoPagerOption = False,
    project: ProjectOption = None,
) -> None:
    """Print a transcript with line numbers, each turn's speaker and role, and the codes on each line (on a terminal,
    through the pager)."""
    from qualcode.analysis.overview import transcript_lines, transcript_turns

    if as_json or jsonl:
        turns = transcript_turns(open_project(project), transcript)
        if as_json:
            terminal.json(turns)
        else:
            terminal.listing("", [], [], records=({"transcript": turns["id"], **turn} for turn in turns["turns"]))
        return
    record, lines = transcript_lines(open_project(project), transcript)
    terminal.info(f"{record.id}  ({record.kind}, {record.words} words)")
    terminal.listing(
        "",
        ["line", "turn", "text", "codes"],
        ((line.number, line.turn, line.text, ", ".join(line.codes)) for line in lines),
        paged=not no_pager,
        show_header=False,
        box=None,
        padding=(0, 1),
    )


def stats_cli(as_json: JsonOption = False, project: ProjectOption = None) -> None:
    """Count transcripts, schools and participants per locality, phase, type, grade and role."""
    from qualcode.analysis.overview import corpus_stats

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
