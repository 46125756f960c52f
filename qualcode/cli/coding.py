"""`qualcode code`, `uncode`, `memo`, `codings`, `undo`, `history`: coding by hand from the terminal."""

from typing import Annotated

import typer

from qualcode.cli._console import terminal
from qualcode.cli._util import (CoderOption, JsonlOption, JsonOption, NoPagerOption, ProjectOption, complete_code_name,
                                default_coder, open_project)

TurnOption = Annotated[int | None, typer.Option("--turn", help="Code speaker turn N instead of LINES.")]


def _passage(args: list[str], turn: int | None) -> tuple[str | None, list[str]]:
    """Split `[LINES] CODE...`: with --turn there is no LINES."""
    if turn is not None:
        return None, args
    if len(args) < 2:
        raise typer.BadParameter("give LINES and at least one CODE (or --turn N and CODE)")
    return args[0], args[1:]


def code_cli(
    transcript: Annotated[str, typer.Argument(help="Transcript id.")],
    args: Annotated[list[str], typer.Argument(help="LINES (12, 12-18 or 12:5-18:40) then one or more codes.", autocompletion=complete_code_name, show_default=False)],
    turn: TurnOption = None,
    memo: Annotated[str | None, typer.Option("--memo", help="A memo on the new codings.")] = None,
    new: Annotated[bool, typer.Option("--new", help="Create unknown codes as inductive codes without asking.")] = False,
    coder: CoderOption = None,
    project: ProjectOption = None,
) -> None:
    """Code a passage with one or more codes; a new code becomes an inductive code."""
    from qualcode.coding.codebook import UnknownCode
    from qualcode.coding.manual import apply_codes

    lines, codes = _passage(args, turn)
    opened = open_project(project)
    call = dict(lines=lines, turn=turn, memo=memo, coder=coder or default_coder())
    try:
        applied = apply_codes(opened, transcript, codes, new=new, **call)
    except UnknownCode as unknown:
        question = f"{unknown}\nCreate '{unknown.text}' as a new inductive code?"
        if not _confirm(question):
            raise terminal.abort("nothing was coded (use --new to create inductive codes without asking)") from None
        applied = apply_codes(opened, transcript, codes, new=True, **call)
    for path in applied.created_codes:
        terminal.info(f"created inductive code {path}")
    if applied.codes:
        terminal.info(f"coded {applied.transcript} lines {applied.lines} with {', '.join(applied.codes)}")
    for path in applied.already:
        terminal.warn(f"{applied.transcript} lines {applied.lines} already had {path}")
    if applied.warning:
        terminal.warn(applied.warning)


def uncode_cli(
    transcript: Annotated[str, typer.Argument(help="Transcript id.")],
    args: Annotated[list[str] | None, typer.Argument(help="LINES, then the codes to remove (default: all).", autocompletion=complete_code_name, show_default=False)] = None,
    turn: TurnOption = None,
    coder: CoderOption = None,
    project: ProjectOption = None,
) -> None:
    """Remove the codings that overlap a passage."""
    from qualcode.coding.manual import uncode

    args = args or []
    lines, codes = (None, args) if turn is not None else (args[0] if args else None, args[1:])
    if lines is None and turn is None:
        raise typer.BadParameter("give LINES or --turn N")
    removed = uncode(open_project(project), transcript, coder or default_coder(), lines, turn, codes)
    terminal.info(f"removed {removed} coding{'s' if removed != 1 else ''}")


def memo_cli(
    text: Annotated[str | None, typer.Argument(help="The memo (with --edit: the text the editor starts from).", show_default=False)] = None,
    edit: Annotated[bool, typer.Option("--edit", help="Write the memo in $EDITOR (several lines, paragraphs).")] = False,
    coding: Annotated[int | None, typer.Option("--coding", help="On coding N (see 'qualcode codings').")] = None,
    code: Annotated[str | None, typer.Option("--code", help="On a code.", autocompletion=complete_code_name)] = None,
    transcript: Annotated[str | None, typer.Option("--transcript", help="On a transcript.")] = None,
    school: Annotated[str | None, typer.Option("--school", help="On a school.")] = None,
    locality: Annotated[str | None, typer.Option("--locality", help="On a locality.")] = None,
    coder: CoderOption = None,
    project: ProjectOption = None,
) -> None:
    """Write a memo on a coding, a code, a transcript, a school, a locality, or (by default) the project."""
    from qualcode.coding.manual import add_memo

    targets = {"coding": coding, "code": code, "transcript": transcript, "school": school, "locality": locality}
    chosen = [(kind, value) for kind, value in targets.items() if value is not None]
    if len(chosen) > 1:
        raise typer.BadParameter("a memo goes on one thing: give at most one of --coding, --code, --transcript, --school, --locality")
    kind, target = chosen[0] if chosen else ("project", None)
    text = _memo_text(text, edit)
    where = add_memo(open_project(project), kind, None if target is None else str(target), text, coder or default_coder())
    terminal.info(f"memo written on {where}")


def _memo_text(text: str | None, edit: bool) -> str:
    """The memo as typed, or as written in the editor (trailing blank lines dropped); empty is no memo."""
    if edit:
        import click

        text = click.edit(text or "", extension=".md")
    if not (text or "").strip():
        raise terminal.abort("no memo written: give its TEXT, or write it with --edit and save it")
    return text.rstrip()


def memos_cli(
    on: Annotated[str | None, typer.Option("--on", help="Only memos on: coding, code, transcript, school, locality or project.")] = None,
    author: Annotated[str | None, typer.Option("--author", help="Only this author's memos.")] = None,
    as_json: JsonOption = False,
    project: ProjectOption = None,
) -> None:
    """List memos, oldest first, with what each annotates, its author and date."""
    from qualcode.coding.memos import MEMO_COLUMNS, list_memos

    memos = list_memos(open_project(project), on, author)
    if as_json:
        terminal.json(memos)
        return
    terminal.table(f"{len(memos)} memo{'s' if len(memos) != 1 else ''}", MEMO_COLUMNS,
                   [[memo[column] for column in MEMO_COLUMNS] for memo in memos])


def codings_cli(
    transcript: Annotated[str | None, typer.Option("--transcript", help="Only this transcript.")] = None,
    code: Annotated[str | None, typer.Option("--code", help="Only this code and its children.", autocompletion=complete_code_name)] = None,
    coder: Annotated[str | None, typer.Option("--coder", help="Only this coder's codings.")] = None,
    origin: Annotated[str | None, typer.Option("--origin", help="manual, auto, suggested, accepted or resolved (a consensus, from tag --review).")] = None,
    unplaced: Annotated[bool, typer.Option("--unplaced", help="Only codings a re-import could not place (not counted):"
                                           " their coded words and old position, to code them again.")] = False,
    as_json: JsonOption = False,
    jsonl: JsonlOption = False,
    no_pager: NoPagerOption = False,
    project: ProjectOption = None,
) -> None:
    """List codings with their transcript, lines, code, coder and text (on a terminal, through the pager)."""
    from qualcode.coding.manual import coding_records, codings_table

    if unplaced:
        filters = dict(transcript=transcript, code=code, coder=coder, origin=origin, unplaced=True)
        _show_unplaced(codings_table(open_project(project), **filters), as_json)
        return
    count, records = coding_records(open_project(project), transcript, code, coder, origin)
    fields = ["id", "transcript", "start", "end", "lines", "code", "coder", "origin", "score", "evidence", "text", "memo"]
    if as_json or jsonl:
        shown = ({field: record[field] for field in fields} for record in records)
        if as_json:
            terminal.json(list(shown))
        else:
            terminal.listing("", [], [], records=shown)
        return
    columns = ["id", "transcript", "lines", "code", "coder", "origin", "text"]
    rows = ([*(record[c] for c in columns[:-1]), record["text"].replace("\n", " ")[:80]] for record in records)
    terminal.listing(f"{count} codings", columns, rows, paged=not no_pager)


def _show_unplaced(table, as_json: bool) -> None:
    """The words each unplaced coding covered and where they were: the text at that position is gone."""
    columns = ["id", "transcript", "code", "coder", "origin", "start", "end", "quote"]
    if as_json:
        terminal.json(table[columns].to_dict(orient="records"))
        return
    table["old position"] = table["start"].astype(str) + "-" + table["end"].astype(str)
    table["quote"] = table["quote"].str.replace("\n", " ").str.slice(0, 80)
    shown = ["id", "transcript", "code", "coder", "origin", "old position", "quote"]
    terminal.table(f"{len(table)} unplaced codings (not counted or quoted: code their words again where they now are)",
                   shown, table[shown].astype(str).values.tolist())


def undo_cli(coder: CoderOption = None, project: ProjectOption = None) -> None:
    """Undo your most recent change (coding, uncoding, memo, codebook edit, autocode run), or say why not."""
    from qualcode.coding.manual import undo

    change = undo(open_project(project), coder or default_coder())
    terminal.info(f"undone: {change.description} ({change.created_at:%Y-%m-%d %H:%M})")


def history_cli(
    coder: Annotated[str | None, typer.Option("--coder", help="Only this coder's changes.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many changes, newest first.")] = 20,
    as_json: JsonOption = False,
    project: ProjectOption = None,
) -> None:
    """List the recorded changes, newest first: what 'qualcode undo' would reverse."""
    from qualcode.coding.manual import change_history

    changes = change_history(open_project(project), coder, limit)
    if as_json:
        terminal.json(changes)
        return
    columns = ["id", "coder", "action", "description", "when", "undone"]
    rows = [[str(change[c]) if c != "undone" else ("yes" if change[c] else "") for c in columns] for change in changes]
    terminal.table(f"{len(changes)} changes, newest first", columns, rows)


def _confirm(question: str) -> bool:
    """Ask on stderr; no answer (closed input) counts as no."""
    try:
        return typer.confirm(question, default=False, err=True)
    except typer.Abort:
        return False
