"""`qualcode key ...` (the identity key) and `qualcode anonymise scan|export`.

`key list` and `anonymise scan` are the only commands that show real names:
they are how the researcher manages the key. Everything else prints
replacements, offsets and counts.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from qualcode.cli._console import terminal
from qualcode.cli._util import JsonOption, ProjectOption, new_app, open_project

if TYPE_CHECKING:
    from qualcode.privacy.pseudonyms import IdentityKey, KeyEntry

key_app = new_app(help="The identity key: real names and what replaces them (identity-key.csv, owner-only, git-ignored).")
anonymise_app = new_app(help="Find names in the corpus and write pseudonymised copies of it.")

KINDS_HELP = "person, school, place, organisation or partnership"


@key_app.command("add")
def key_add_cli(
    name: Annotated[str, typer.Argument(help="The real name, in full.")],
    kind: Annotated[str, typer.Option("--kind", "-k", help=f"What it names: {KINDS_HELP}.")],
    variant: Annotated[list[str] | None, typer.Option("--variant", "-v", help="Another form it is written in (repeatable).")] = None,
    replacement: Annotated[str | None, typer.Option("--replacement", "-r", help="What replaces it, e.g. '[Headteacher of School B]' (default: a numbered placeholder).")] = None,
    project: ProjectOption = None,
) -> None:
    """Add a name to the identity key (or more variants to one already there)."""
    from qualcode.privacy.pseudonyms import load_key

    key = load_key(open_project(project))
    entry = key.add(name, kind, variant or [], replacement)
    key.save()
    terminal.info(f"key: {len(key)} entries; this {kind} is replaced by {entry.replacement}")
    _warn_left_out(key, [entry])


def _warn_left_out(key: IdentityKey, entries: list[KeyEntry] | None = None) -> None:
    """Say which forms of the key `[anonymise] not_initials` keeps out, by replacement (never the real name)."""
    for entry, forms in key.left_out(entries):
        shown = ", ".join(f"'{form}'" for form in forms)
        terminal.warn(f"{entry.replacement}: {shown} {'is' if len(forms) == 1 else 'are'} in [anonymise] not_initials in qualcode.toml, so written in a "
                      "transcript it is neither replaced nor reported as a leak; if people write it for this "
                      f"{entry.kind}, remove it from not_initials")


@key_app.command("list")
def key_list_cli(as_json: JsonOption = False, project: ProjectOption = None) -> None:
    """Show the key, real names included: keep this output off shared screens and out of files."""
    from qualcode.privacy.pseudonyms import load_key

    key = load_key(open_project(project))
    rows = [(e.name, e.kind, "; ".join(e.variants), e.replacement, e.refers_to) for e in key.entries]
    if as_json:
        terminal.json([dict(zip(("name", "kind", "variants", "replacement", "refers_to"), row)) for row in rows])
        return
    terminal.warn("this lists real names; it is the key's own management view")
    terminal.table(f"identity key: {len(rows)} entries", ["name", "kind", "variants", "replacement", "refers to"], rows)


@key_app.command("import")
def key_import_cli(
    file: Annotated[Path, typer.Argument(help="CSV with columns name,kind,variants,replacement,refers_to.", exists=True, dir_okay=False)],
    project: ProjectOption = None,
) -> None:
    """Add every row of an identity-key CSV (variants separated by ';')."""
    from qualcode.privacy.pseudonyms import load_key

    key = load_key(open_project(project))
    rows = key.import_csv(file)
    key.save()
    terminal.info(f"read {rows} rows; the key has {len(key)} entries")
    _warn_left_out(key)


@anonymise_app.command("scan")
def scan_cli(
    transcripts: Annotated[list[str] | None, typer.Argument(help="Transcript ids (default: all).", show_default=False)] = None,
    as_json: JsonOption = False,
    add: Annotated[bool, typer.Option("--add", help="Ask, for each candidate, whether to put it in the key.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="With --add: add every candidate without asking.")] = False,
    project: ProjectOption = None,
) -> None:
    """List possible names not yet in the key (spaCy NER, title patterns, words never written in lower case)."""
    from qualcode.privacy.namescan import add_candidates, scan

    qualcode_project = open_project(project)
    with terminal.progress("scanning for names") as progress:
        candidates = scan(qualcode_project, transcripts or None, progress)
    if as_json:
        terminal.json([{"text": c.text, "label": c.label, "count": c.count, "transcripts": c.transcripts}
                       for c in candidates])
    else:
        rows = [(c.text, c.label, c.kind, c.count, len(c.transcripts), c.contexts[0]) for c in candidates]
        terminal.table(f"{len(candidates)} possible names not in the key", ["text", "label", "kind", "count", "transcripts", "context"], rows)
    if add:
        accepted = [c for c in candidates if yes or typer.confirm(f"add '{c.text}' as a {c.kind}?", err=True)]
        key = add_candidates(qualcode_project, accepted)
        terminal.info(f"added {len(accepted)}; the key has {len(key)} entries")


@anonymise_app.command("export")
def export_cli(
    out: Annotated[Path, typer.Argument(help="Folder for the pseudonymised transcripts and the report.", file_okay=False)],
    project: ProjectOption = None,
) -> None:
    """Write fully pseudonymised copies of every transcript, with a report of what was replaced."""
    from qualcode.privacy.anonymise import export_anonymised

    with terminal.progress("pseudonymising") as progress:
        report = export_anonymised(open_project(project), out, progress)
    counts = ", ".join(f"{n} {kind}" for kind, n in sorted(report.replaced.items())) or "nothing"
    terminal.info(f"wrote {len(report.files)} transcripts to {out}; replaced {counts}")
    terminal.info(f"report: {out / 'replacements.csv'}, {out / 'summary.csv'}")
