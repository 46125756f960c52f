"""A small coded project for query and report tests: the fixture corpus with hand-placed codings.

Every count the tests expect can be worked out from `CODINGS` by hand:
Eastern has EAS-S01 (primary, maintained, Good, LLE) and EAS-S02
(secondary, converter academy, Outstanding, Teaching School + NLE), both in
EAS-TSA1; NAT-I01 is a National NCTL informant.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from qualcode.coding.codebook import add_code
from qualcode.coding.manual import add_memo, apply_codes
from qualcode.ingest.corpus import import_paths
from qualcode.models import CodeTally, Coding, Transcript
from qualcode.project import Project, init_project
from qualcode.analysis.query import COUNTED_ORIGINS

CODES = ["markets", "markets/competition", "networks", "networks/tsa"]

#: (transcript, phrase, code, origin, important)
CODINGS = [
    ("EAS-S02-HT", "Every September we count the Year 7 numbers and compare with the school down the road.", "markets/competition", "manual", True),
    ("EAS-S02-HT", "We lost forty pupils to them three years ago [inaudible] and we have not forgotten it.", "markets/competition", "accepted", False),
    ("EAS-S02-HT", "It brings status but also pressure.", "markets", "accepted", False),
    ("EAS-S01-HT", "we buy in support from the teaching school.", "markets", "manual", False),
    ("EAS-S01-HT", "we buy in support from the teaching school.", "networks/tsa", "accepted", False),
    ("EAS-S01-HT", "The alliance matters most to us.", "networks/tsa", "manual", False),
    ("EAS-S01-DH", "It has opened doors.", "networks", "manual", False),
    ("NAT-I01", "Some areas have strong partnerships and others have almost none.", "networks", "suggested", False),
    ("NAT-I01", "The schools that most need help are often the ones left outside.", "networks", "auto", False),
]

#: An identity key with one entry the fixture's words contain, to see pseudonymisation at work.
IDENTITY_KEY = "name,kind,variants,replacement,refers_to\nYear 7,place,,[year group],\n"


def make_coded_project(root: Path, corpus: Path, database_url: str | None = None) -> Project:
    project = init_project(root, database_url=database_url)
    import_paths(project, [corpus])
    for code in CODES:
        add_code(project, code, "tester")
    for transcript, phrase, code, origin, important in CODINGS:
        start, end = span_of(project, transcript, phrase)
        apply_codes(project, transcript, [code], "tester", span=(start, end), origin=origin)
        if important:
            with project.session() as session:
                for coding in session.scalars(select(Coding).where(Coding.transcript_id == transcript, Coding.start == start)):
                    coding.important = True
    add_memo(project, "school", "EAS-S01", "The head sees the alliance as the school's lifeline.", "tester")
    add_memo(project, "locality", "Eastern", "Competition is sharper among the secondaries.", "tester")
    (root / "identity-key.csv").write_text(IDENTITY_KEY, encoding="utf-8")
    return project


def span_of(project: Project, transcript: str, phrase: str) -> tuple[int, int]:
    with project.session() as session:
        text = session.get(Transcript, transcript).text
    start = text.index(phrase)
    return start, start + len(phrase)


def words(phrase: str) -> int:
    return len(phrase.split())


def tallies(project) -> dict[tuple[int, str], int]:
    """The database's own `code_tallies`."""
    with project.session() as session:
        rows = session.execute(select(CodeTally.code_id, CodeTally.transcript_id, CodeTally.segments)).all()
    return {(code, transcript): n for code, transcript, n in rows}


def counted_spans(project) -> dict[tuple[int, str], int]:
    """What the triggers must keep: distinct spans of counted, placed codings per code and transcript, counted in Python."""
    with project.session() as session:
        codings = session.execute(select(Coding.code_id, Coding.transcript_id, Coding.start, Coding.end)
                                  .where(Coding.origin.in_(COUNTED_ORIGINS), Coding.anchor != "unplaced")).all()
    spans: dict[tuple[int, str], set] = {}
    for code, transcript, start, end in codings:
        spans.setdefault((code, transcript), set()).add((start, end))
    return {key: len(found) for key, found in spans.items()}


def change_codings(project, changes: list[tuple[str, int, object]]) -> None:
    """Apply (kind, place, value) edits to the codings, by place in the table: delete, or set origin, code, anchor, or span
    (to the span of the coding at place `value`). An edit that would give a coder two placed codings of one passage and
    code is refused by the database (migration 0009) and leaves everything as it was."""
    from sqlalchemy.exc import IntegrityError

    with project.session() as session:
        for kind, place, value in changes:
            codings = session.scalars(select(Coding).order_by(Coding.id)).all()
            if not codings:
                return
            coding = codings[place % len(codings)]
            try:
                with session.begin_nested():
                    _change(session, coding, codings, kind, value)
            except IntegrityError:
                session.expire_all()


def _change(session, coding: Coding, codings: list[Coding], kind: str, value: object) -> None:
    if kind == "delete":
        session.delete(coding)
    elif kind == "span":
        other = codings[value % len(codings)]
        coding.transcript_id, coding.start, coding.end = other.transcript_id, other.start, other.end
    else:
        setattr(coding, "code_id" if kind == "code" else kind, value)
    session.flush()
