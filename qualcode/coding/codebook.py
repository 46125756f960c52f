"""The project's codebook in the database: loading, finding, editing and exporting codes.

Codes form a tree addressed by paths like ``markets/competition/pupils``.
Wherever a person types a code, `find_code` accepts the full path or any
unambiguous tail of it (``pupils``, ``competition/pupils``) and answers a typo
with the closest paths. Every edit runs inside `history.recorded`, so
`qualcode undo` can reverse it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qualcode.coding.blind import visible
from qualcode.concurrency import retried
from qualcode.errors import QualcodeError
from qualcode.history import recorded
from qualcode.models import CODE_NAME_LENGTH, UNPLACED, Code, Coding, Memo, Participant, Transcript
from qualcode.analysis.overview import code_paths
from qualcode.project import Project

# rapidfuzz and the codebook file's YAML are imported where they are used: a code
# typed right (most `qualcode code` runs) needs neither, and start-up stays short.
if TYPE_CHECKING:
    import pandas as pd

    from qualcode.coding import codebook_file

NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class UnknownCode(QualcodeError):
    """A code name that matches nothing; `suggestions` are the closest paths."""

    def __init__(self, text: str, suggestions: list[str]):
        self.text = text
        self.suggestions = suggestions
        hint = f"; did you mean {' or '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        super().__init__(f"no code '{text}'{hint}")


def path_of(code: Code) -> str:
    parts = []
    while code is not None:
        parts.append(code.name)
        code = code.parent
    return "/".join(reversed(parts))


def all_paths(session: Session) -> list[str]:
    return sorted(code_paths(session).values())


def find_code(session: Session, text: str) -> Code:
    """The code `text` names: a full path, or a tail of a path that only one code has."""
    wanted = text.strip().strip("/").lower()
    paths = code_paths(session)
    exact = [code_id for code_id, path in paths.items() if path == wanted]
    tails = exact or [code_id for code_id, path in paths.items() if path.endswith("/" + wanted)]
    if len(tails) == 1:
        return session.get(Code, tails[0])
    if len(tails) > 1:
        options = " or ".join(sorted(repr(paths[c]) for c in tails))
        raise QualcodeError(f"'{text}' could be {options}; type more of the path")
    raise UnknownCode(text, _closest(sorted(paths.values()), wanted))


def _closest(paths: list[str], text: str) -> list[str]:
    """The best fuzzy matches for a did-you-mean: the top one, and any within a hair of it."""
    from rapidfuzz import fuzz, process

    ranked = process.extract(text, paths, scorer=fuzz.WRatio, limit=3, score_cutoff=70)
    return [path for path, score, _ in ranked if score >= ranked[0][1] - 2] if ranked else []


def complete_code(session: Session, text: str, limit: int = 10, cutoff: float = 50) -> list[str]:
    """Code paths ranked by fuzzy likeness to what was typed so far (for completion and did-you-mean)."""
    from rapidfuzz import fuzz, process

    paths = all_paths(session)
    if not text:
        return paths[:limit]
    prefixed = [p for p in paths if p.startswith(text) or p.rsplit("/", 1)[-1].startswith(text)]
    ranked = process.extract(text, paths, scorer=fuzz.WRatio, limit=limit, score_cutoff=cutoff)
    return list(dict.fromkeys(prefixed + [path for path, _, _ in ranked]))[:limit]


def check_name(name: str) -> None:
    """Refuse a name no code can have, alike on every database: SQLite would store a name longer than
    `CODE_NAME_LENGTH`, and the project could then not move to a team's PostgreSQL server."""
    if not NAME.match(name):
        raise QualcodeError(f"'{name}' is not a valid code name: use lower-case letters, digits and '-'")
    if len(name) > CODE_NAME_LENGTH:
        raise QualcodeError(f"'{name[:30]}…' is {len(name)} characters long; a code's name holds at most"
                            f" {CODE_NAME_LENGTH}: shorten it, and put the longer wording in its definition")


def ensure_code(
    session: Session,
    path: str,
    origin: str = "deductive",
    coder: str | None = None,
    **fields,
) -> Code:
    """The code at `path`, created (with any missing parents) if it does not exist."""
    parent = None
    parts = [part for part in path.strip("/").lower().split("/") if part]
    if not parts:
        raise QualcodeError("a code needs a name")
    for depth, name in enumerate(parts, start=1):
        check_name(name)
        code = session.scalar(select(Code).where(Code.parent_id == (parent.id if parent else None), Code.name == name))
        if code is None:
            code = Code(name=name, parent=parent, origin=origin, created_by=coder)
            if depth == len(parts):
                for key, value in fields.items():
                    setattr(code, key, value)
            session.add(code)
            session.flush()
        parent = code
    return parent


@dataclass
class LoadReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


@retried
def load_codebook_file(project: Project, path: Path, coder: str) -> LoadReport:
    """Load a codebook file: add new codes, update the definitions and patterns of existing ones."""
    from qualcode.coding import codebook_file
    from qualcode.exchange import codebook_exchange

    exchanged = path.suffix.lower() in codebook_exchange.SUFFIXES
    book = codebook_exchange.load_exchanged_codebook(path) if exchanged else codebook_file.load_codebook(path)
    report = LoadReport()
    with project.session(bulk=True) as session, recorded(session, coder, "codebook load", f"load {path}"):
        existing = {p: session.get(Code, i) for i, p in code_paths(session).items()}
        for spec in book.codes:
            fields = {
                "title": spec.title,
                "definition": spec.definition,
                "include": spec.include,
                "exclude": spec.exclude,
                "example": spec.example,
                "colour": spec.colour,
                "patterns": asdict(spec.patterns),
            }
            code = existing.get(spec.path)
            if code is None:
                ensure_code(session, spec.path, coder=coder, **fields)
                report.added.append(spec.path)
                continue
            changed = {k: v for k, v in fields.items() if getattr(code, k) != v}
            for key, value in changed.items():
                setattr(code, key, value)
            (report.updated if changed else report.unchanged).append(spec.path)
    return report


def code_table(project: Project) -> pd.DataFrame:
    """Every code in tree order with its counts of codings, transcripts and schools (own codings only)."""
    with project.session() as session:
        paths = code_paths(session)
        # Counted per transcript first (on the codings' code index), then joined: a few thousand rows to join, not
        # every coding (0.49 -> 0.23 s at sample-corpus scale 10).
        per_transcript = (
            select(Coding.code_id, Coding.transcript_id, func.count().label("codings"))
            .where(visible(project))
            .group_by(Coding.code_id, Coding.transcript_id)
            .subquery()
        )
        counts = session.execute(
            select(
                per_transcript.c.code_id,
                func.sum(per_transcript.c.codings),
                func.count(),
                func.count(func.distinct(Participant.school_id)),
            )
            .join(Transcript, per_transcript.c.transcript_id == Transcript.id)
            .join(Participant, Transcript.participant_id == Participant.id)
            .group_by(per_transcript.c.code_id)
        ).all()
        by_code = {code_id: (n, t, s) for code_id, n, t, s in counts}
        codes = session.scalars(select(Code)).all()
        rows = [
            {
                "path": paths[code.id],
                "title": code.title,
                "definition": code.definition,
                "origin": code.origin,
                "codings": by_code.get(code.id, (0, 0, 0))[0],
                "transcripts": by_code.get(code.id, (0, 0, 0))[1],
                "schools": by_code.get(code.id, (0, 0, 0))[2],
            }
            for code in codes
        ]
    import pandas as pd

    table = pd.DataFrame(rows, columns=["path", "title", "definition", "origin", "codings", "transcripts", "schools"])
    return table.sort_values("path", key=lambda s: s.str.split("/")).reset_index(drop=True)


@retried
def add_code(project: Project, path: str, coder: str, definition: str | None = None, origin: str = "deductive") -> str:
    with project.session() as session, recorded(session, coder, "codebook add", f"add {path}"):
        if path.strip("/").lower() in code_paths(session).values():
            raise QualcodeError(f"code '{path}' already exists")
        return path_of(ensure_code(session, path, origin=origin, coder=coder, definition=definition))


@retried
def rename_code(project: Project, path: str, new_name: str, coder: str) -> str:
    check_name(new_name)
    with project.session() as session, recorded(session, coder, "codebook rename", f"rename {path} to {new_name}"):
        code = find_code(session, path)
        _refuse_sibling_clash(session, code.parent_id, new_name)
        code.name = new_name
        return path_of(code)


@retried
def move_code(project: Project, path: str, new_parent: str | None, coder: str) -> str:
    """Move a code (with its children) under `new_parent`, or to the top level when None."""
    with project.session() as session, recorded(session, coder, "codebook move", f"move {path} under {new_parent}"):
        code = find_code(session, path)
        parent = find_code(session, new_parent) if new_parent else None
        _refuse_descendant(code, parent, "move", "under")
        _refuse_sibling_clash(session, parent.id if parent else None, code.name)
        code.parent = parent
        return path_of(code)


def _refuse_descendant(code: Code, target: Code | None, verb: str, where: str) -> None:
    """A code cannot go under (or into) one of its own descendants: the tree would become a loop."""
    ancestor = target
    while ancestor is not None:
        if ancestor.id == code.id:
            raise QualcodeError(f"cannot {verb} '{path_of(code)}' {where} its own descendant '{path_of(target)}'")
        ancestor = ancestor.parent


def _refuse_sibling_clash(session: Session, parent_id: int | None, name: str) -> None:
    clash = session.scalar(select(Code).where(Code.parent_id == parent_id, Code.name == name))
    if clash is not None:
        raise QualcodeError(f"code '{path_of(clash)}' already exists")


@dataclass
class MergeReport:
    source: str
    target: str
    recoded: int
    duplicates_dropped: int
    memos_moved: int


@retried
def merge_codes(project: Project, source: str, target: str, coder: str) -> MergeReport:
    """Merge `source` into `target`: its codings, memos and child codes move over; it is removed.

    A coding that `target` already has on the same span (from the same coder)
    is not duplicated; its memo is kept by appending it to the target's.
    """
    with project.session() as session, recorded(session, coder, "codebook merge", f"merge {source} into {target}"):
        old, new = find_code(session, source), find_code(session, target)
        if old.id == new.id:
            raise QualcodeError("cannot merge a code into itself")
        _lock(session, old, new)
        _refuse_descendant(old, new, "merge", "into")
        report = MergeReport(path_of(old), path_of(new), 0, 0, 0)
        _recode(session, old, new, report)
        for child in list(old.children):
            _refuse_sibling_clash(session, new.id, child.name)
            child.parent = new
        for memo in session.scalars(select(Memo).where(Memo.target_kind == "code", Memo.target_id == str(old.id))):
            memo.target_id = str(new.id)
            report.memos_moved += 1
        session.flush()
        session.delete(old)
        return report


def _lock(session: Session, *codes: Code) -> None:
    """Hold off colleagues coding with `codes` until this transaction ends (PostgreSQL; SQLite has one writer anyway).

    Without it a merge or removal that keeps losing the race against new codings of the code it removes (each
    one breaking its foreign key) would be run again until it gives up. With it, those codings wait, then
    find the code gone and are run again themselves: under the code it was merged into, or refused.
    """
    session.execute(select(Code.id).where(Code.id.in_(sorted(c.id for c in codes))).order_by(Code.id).with_for_update())
    session.expire_all()


def _recode(session: Session, old: Code, new: Code, report: MergeReport) -> None:
    # A placed coding's twin is placed (the unique index's rule); an unplaced one's offsets mean another text.
    key = lambda c: (c.transcript_id, c.start, c.end, c.coder, c.anchor == UNPLACED)  # noqa: E731
    existing = {key(c): c for c in session.scalars(select(Coding).where(Coding.code_id == new.id))}
    for coding in session.scalars(select(Coding).where(Coding.code_id == old.id)).all():
        twin = existing.get(key(coding))
        if twin is None:
            coding.code_id = new.id
            report.recoded += 1
            continue
        if coding.memo:
            twin.memo = f"{twin.memo}\n{coding.memo}" if twin.memo else coding.memo
        twin.important = twin.important or coding.important
        session.delete(coding)
        report.duplicates_dropped += 1


@retried
def remove_code(
    project: Project, path: str, coder: str, recode_to: str | None = None, force: bool = False
) -> tuple[str, int]:
    """Remove a code without children; refuse while it has codings unless they are recoded or `force`d away."""
    with project.session() as session, recorded(session, coder, "codebook rm", f"remove {path}"):
        code = find_code(session, path)
        _lock(session, code)
        if code.children:
            names = ", ".join(path_of(c) for c in code.children)
            raise QualcodeError(f"'{path_of(code)}' has child codes ({names}); move or remove them first")
        count = session.scalar(select(func.count()).select_from(Coding).where(Coding.code_id == code.id))
        if recode_to:
            target = path_of(find_code(session, recode_to))
            session.flush()
            report = MergeReport(path_of(code), target, 0, 0, 0)
            _recode(session, code, find_code(session, recode_to), report)
        elif count and not force:
            raise QualcodeError(
                f"'{path_of(code)}' has {count} codings; use --recode-to CODE to keep them or --force to delete them"
            )
        else:
            for coding in session.scalars(select(Coding).where(Coding.code_id == code.id)):
                session.delete(coding)
        removed = path_of(code)
        session.flush()
        session.delete(code)
        return removed, count


def to_codebook(project: Project) -> codebook_file.Codebook:
    """The stored codebook as a `codebook_file.Codebook`, for export."""
    from qualcode.coding import codebook_file

    with project.session() as session:
        paths = code_paths(session)
        specs = []
        for code_id, path in sorted(paths.items(), key=lambda item: item[1].split("/")):
            code = session.get(Code, code_id)
            specs.append(
                codebook_file.CodeSpec(
                    path=path,
                    name=code.name,
                    title=code.title,
                    definition=code.definition,
                    include=code.include,
                    exclude=code.exclude,
                    example=code.example,
                    colour=code.colour,
                    patterns=codebook_file.Patterns(**(code.patterns or {})),
                    parent=path.rsplit("/", 1)[0] if "/" in path else None,
                )
            )
    return codebook_file.Codebook(name=project.root.name, version=1, source="qualcode", codes=specs)


def export_codebook(project: Project, path: Path) -> Path:
    """Write the codebook as YAML (`.yaml`/`.yml`), REFI-QDA (`.qdc`, validated against its schema) or a table
    (`.csv`/`.xlsx`, the columns `codebook load` reads)."""
    from qualcode.coding import codebook_file

    book = to_codebook(project)
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return codebook_file.dump_codebook(book, path)
    if suffix == ".qdc":
        from qualcode.exchange import refi

        return refi.write_qdc(book, path)
    if suffix in (".csv", ".xlsx"):
        from qualcode.exchange.codebook_exchange import write_codebook_table

        return write_codebook_table(book, path)
    raise QualcodeError(f"{path}: export to .yaml, .qdc, .csv or .xlsx")
