"""What a coder may see while a blind round is open: only their own codings on the round's transcripts.

Agreement measures independent judgements only if the coders have not seen
each other's. So while a round (`qualcode.coding.rounds`) is open, every place that
selects codings to show or count (`show`, `codings`, `tag`, the queries, the
reports, `agreement`) asks `visible` for a condition on `codings`, and a coder
of the round gets back "yours, or not on the round's transcripts": everyone
else's codings there are hidden from them, the lead's and the autocoder's
too. Anyone outside the round (the lead) sees everything. What is hidden is
said, once per command, through `Project.on_blind`, so nobody takes a
filtered view for the whole.

Who is looking is `Project.viewer` if set (the tagging session sets its
coder), else `config.default_coder()`, asked only when a round is open.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, or_, select, true
from sqlalchemy.orm import Session

from qualcode.config import default_coder
from qualcode.models import Coding, Round, RoundCoder, RoundTranscript
from qualcode.project import Project


@dataclass(frozen=True)
class Blind:
    """A viewer in one or more open rounds, and the transcripts on which they see only their own codings."""

    viewer: str
    rounds: tuple[str, ...]
    transcripts: frozenset[str]

    def codings(self) -> ColumnElement[bool]:
        """The codings `viewer` may see, as a condition on `Coding`."""
        return or_(Coding.coder == self.viewer, Coding.transcript_id.not_in(sorted(self.transcripts)))

    def sql(self, alias: str) -> str:
        """The same condition for SQL written by hand, on `codings` as `alias`; its values are `parameters`
        (`blind_transcripts` expanding)."""
        return f"({alias}.coder = :blind_viewer OR {alias}.transcript_id NOT IN :blind_transcripts)"

    @property
    def parameters(self) -> dict[str, object]:
        return {"blind_viewer": self.viewer, "blind_transcripts": sorted(self.transcripts)}

    @property
    def notice(self) -> str:
        names = ", ".join(f"'{name}'" for name in self.rounds)
        count = len(self.transcripts)
        return (f"blind round {names} is open: on its {count} transcript{'s' if count != 1 else ''} you ({self.viewer})"
                " see only your own codings; the other coders' are hidden until the round is closed")


def blind_for(connection: Connection | Session, viewer: str | None = None) -> Blind | None:
    """The open rounds `viewer` (default: who is coding here) codes in, or None if they see everything."""
    if connection.scalar(select(Round.id).where(Round.closed_at.is_(None)).limit(1)) is None:
        return None  # no round open: nobody's view is narrowed, and no need to ask who is looking
    viewer = viewer or default_coder()
    rows = connection.execute(
        select(Round.name, RoundTranscript.transcript_id)
        .join(RoundCoder, RoundCoder.round_id == Round.id)
        .join(RoundTranscript, RoundTranscript.round_id == Round.id)
        .where(Round.closed_at.is_(None), RoundCoder.coder == viewer)
    ).all()
    if not rows:
        return None
    return Blind(viewer, tuple(sorted({name for name, _ in rows})), frozenset(transcript for _, transcript in rows))


def blind(project: Project, viewer: str | None = None) -> Blind | None:
    """`blind_for` the project's viewer, said once per project through `project.on_blind` when it hides anything."""
    with project.connection() as connection:
        found = blind_for(connection, viewer or project.viewer)
    if found is not None and project.on_blind is not None and found.notice not in project.told:
        project.told.add(found.notice)
        project.on_blind(found.notice)
    return found


def visible(project: Project, viewer: str | None = None) -> ColumnElement[bool]:
    """The codings the viewer may see, as a condition on `Coding` (always true outside a blind round)."""
    return shown(blind(project, viewer))


def shown(found: Blind | None) -> ColumnElement[bool]:
    """The codings a `blind` answer leaves in view, as a condition on `Coding`."""
    return found.codings() if found else true()


def visible_sql(project: Project, alias: str = "c") -> tuple[str, dict[str, object]]:
    """`visible` for SQL written by hand: `(" AND condition", parameters)`, or `("", {})` outside a blind round.
    Bind `blind_transcripts` as expanding (`bindparam(..., expanding=True)`) when it is among the parameters."""
    found = blind(project)
    return (f" AND {found.sql(alias)}", found.parameters) if found else ("", {})
