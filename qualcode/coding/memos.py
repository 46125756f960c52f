"""Reading memos back: every memo with what it annotates, who wrote it and when.

Memos are written on six kinds of thing (`coding.MEMO_TARGETS`). Those on the
project, a locality, a school, a transcript or a code are `Memo` rows; a
coding's memo is kept on the coding itself, so that it travels with the coding
through merges and exports. That column holds no author: the author is whoever
wrote it by `qualcode memo --coding` (the change log keeps that), else the
coder who coded the passage with `--memo`.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import ColumnElement, select

from qualcode.coding.blind import visible
from qualcode.coding.manual import MEMO_TARGETS, lines_of
from qualcode.errors import QualcodeError
from qualcode.models import Change, Coding, Memo
from qualcode.analysis.overview import code_paths
from qualcode.project import Project

MEMO_COLUMNS = ["id", "on", "target", "author", "created", "text"]
_ON_CODING = re.compile(r"^memo on coding (\d+)\s*$")


def list_memos(project: Project, on: str | None = None, author: str | None = None) -> list[dict]:
    """Every memo (on one kind of thing, by one author, if given), oldest first, with what it annotates."""
    if on is not None and on not in MEMO_TARGETS:
        raise QualcodeError(f"--on must be one of: {', '.join(MEMO_TARGETS)}")
    with project.session() as session:
        paths = code_paths(session)
        found = [] if on == "coding" else _memo_rows(session, paths, on)
        if on in (None, "coding"):
            found += _coding_memos(session, paths, visible(project))
    chosen = [memo for memo in found if author is None or author in memo["author"].split(", ")]
    return sorted(chosen, key=lambda memo: (memo["created"], memo["on"], memo["target"]))


def _memo_rows(session, paths: dict[int, str], on: str | None) -> list[dict]:
    query = select(Memo).order_by(Memo.id)
    if on is not None:
        query = query.where(Memo.target_kind == on)
    rows = []
    for memo in session.scalars(query):
        target = memo.target_id or ""
        if memo.target_kind == "code":
            target = paths.get(int(memo.target_id), f"(removed code {memo.target_id})")
        rows.append({"id": f"memo {memo.id}", "on": memo.target_kind, "target": target, "author": memo.author,
                     "created": memo.created_at.isoformat(sep=" ", timespec="seconds"), "text": memo.text})
    return rows


def _coding_memos(session, paths: dict[int, str], shown: ColumnElement[bool]) -> list[dict]:
    """Codings that carry a memo, each named by id, transcript, lines and code; authors and date from the change
    log (a memo given with `code --memo` is the coder's, of the coding's date)."""
    writers: dict[int, list[str]] = {}
    written: dict[int, object] = {}
    for coder, description, when in session.execute(
        select(Change.coder, Change.description, Change.created_at)
        .where(Change.action == "memo", Change.undone.is_(False)).order_by(Change.id)
    ):
        if match := _ON_CODING.match(description):
            coding_id = int(match.group(1))
            written.setdefault(coding_id, when)
            if coder not in writers.setdefault(coding_id, []):
                writers[coding_id].append(coder)
    rows = []
    # `shown`: in a blind round, the memos on a colleague's hidden codings are hidden with them.
    for coding in session.scalars(select(Coding).where(Coding.memo.is_not(None), Coding.memo != "", shown).order_by(Coding.id)):
        lines = lines_of(coding.transcript.text, coding.start, coding.end)
        rows.append({"id": f"coding {coding.id}", "on": "coding",
                     "target": f"{coding.transcript_id} {lines} {paths[coding.code_id]}",
                     "author": ", ".join(writers.get(coding.id, [coding.coder])),
                     "created": written.get(coding.id, coding.created_at).isoformat(sep=" ", timespec="seconds"),
                     "text": coding.memo})
    return rows


def export_memos(project: Project, path: Path, on: str | None = None, author: str | None = None) -> int:
    """Write the memos (as `list_memos` chooses them) as a `.csv`/`.xlsx` table; return how many."""
    from qualcode.exchange.workbooks import write_table

    memos = list_memos(project, on, author)
    write_table(path, MEMO_COLUMNS, [[memo[c] for c in MEMO_COLUMNS] for memo in memos], "memos", wide=("target", "text"))
    return len(memos)
