"""The project's coders, and blind coding rounds: who codes which transcripts without seeing each other's work.

A lead starts a round (`start_round`) naming two or more coders and the
transcripts they are to code independently; while it is open each of them
sees only their own codings on those transcripts (`qualcode.coding.blind`), and when
it is closed (`close_round`) `agreement --round` compares them there.
Starting and closing a round are each one undoable change in the history.

Coders are the people named on codings (migration 0011 made a row for each)
and those added by `add_coder` before they code; `known_coders` is both, so a
coder who has coded since is never "unknown".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from qualcode import history
from qualcode.concurrency import retried
from qualcode.errors import QualcodeError
from qualcode.models import UNPLACED, Coder, Coding, Round, RoundCoder, RoundTranscript, utcnow
from qualcode.analysis.overview import get_transcript
from qualcode.project import Project
from qualcode.analysis.query import COUNTED_ORIGINS
from qualcode.analysis.query_where import Where, transcripts_where


def initials_of(name: str) -> str:
    """``ann lee`` -> ``AL``: the first letter of each word, at most three (as migration 0011 made them)."""
    return "".join(word[0] for word in re.split(r"[\s._-]+", name) if word)[:3].upper() or name[:1].upper()


# Coders


def known_coders(session: Session) -> dict[str, str | None]:
    """name -> initials of every coder: the `coders` rows, and anyone else on a coding (initials unknown)."""
    known: dict[str, str | None] = dict(session.execute(select(Coder.name, Coder.initials)).all())
    for name in session.scalars(select(Coding.coder).distinct()):
        known.setdefault(name, None)
    return dict(sorted(known.items()))


def coder_table(project: Project) -> list[dict]:
    """Each coder with their initials and how many codings they have made (suggestions they accepted included)."""
    with project.session(commit=False) as session:
        counts = dict(session.execute(
            select(Coding.coder, func.count()).where(Coding.origin.in_(COUNTED_ORIGINS)).group_by(Coding.coder)).all())
        return [{"name": name, "initials": initials or initials_of(name), "codings": counts.get(name, 0)}
                for name, initials in known_coders(session).items()]


@retried
def add_coder(project: Project, name: str, initials: str | None, by: str) -> Coder:
    """Name a team member (before they code, so a round can include them), or give a coder their initials."""
    name = name.strip()
    if not name or len(name) > 80 or "," in name:
        raise QualcodeError(f"'{name}' cannot be a coder's name: give 1-80 characters without commas")
    if initials is not None and not 1 <= len(initials.strip()) <= 10:
        raise QualcodeError("--initials takes 1-10 characters, e.g. --initials AL")
    with project.session() as session, history.recorded(session, by, "coder", f"coder {name}"):
        coder = session.get(Coder, name) or Coder(name=name)
        coder.initials = initials.strip() if initials else coder.initials or initials_of(name)
        session.add(coder)
        return coder


def _checked_coders(session: Session, names: list[str]) -> list[str]:
    """The names given, each a known coder (else a did-you-mean), at least two."""
    names = list(dict.fromkeys(name.strip() for name in names if name.strip()))
    if len(names) < 2:
        raise QualcodeError("a blind round needs two coders or more, e.g. --coders ann,ben")
    known = known_coders(session)
    for name in names:
        if name not in known:
            from rapidfuzz import process

            match = process.extractOne(name, list(known), score_cutoff=60)
            hint = f"; did you mean '{match[0]}'?" if match else ""
            raise QualcodeError(f"no coder '{name}'{hint} (coders: {', '.join(known) or 'none yet'}); name a new team"
                                f" member first with 'qualcode coders add {name}'")
    return names


# Rounds


@dataclass
class RoundSummary:
    name: str
    open: bool
    coders: list[str]
    transcripts: list[str]
    opened_by: str
    opened_at: str
    closed_at: str | None
    #: coder -> how many of the round's transcripts they have coded (any counted coding there)
    coded: dict[str, int]

    def as_json(self) -> dict:
        return self.__dict__.copy()


@retried
def start_round(project: Project, name: str, coders: list[str], by: str, transcripts: list[str] | None = None,
                where: Where | None = None) -> RoundSummary:
    """Open a blind round: from now on each of `coders` sees only their own codings on its transcripts
    (named, or those `where` keeps)."""
    name = name.strip()
    if not name or len(name) > 80:
        raise QualcodeError("name the round in 1-80 characters, e.g. 'round1'")
    if (transcripts is None) == (where is None):
        raise QualcodeError("give the round's transcripts as --transcripts ID,ID or --where FIELD=VALUE (one of them)")
    with project.session() as session:
        _refuse_taken(session, name)
        names = _checked_coders(session, coders)
        ids = _checked_transcripts(session, transcripts) if transcripts is not None else sorted(transcripts_where(project, where))
        description = f"start blind round {name}: {', '.join(names)} on {len(ids)} transcript{'s' if len(ids) != 1 else ''}"
        with history.recorded(session, by, "round", description):
            for coder in names:  # a coder known only from their codings gets a row, which the round points at
                if session.get(Coder, coder) is None:
                    session.add(Coder(name=coder, initials=initials_of(coder)))
            session.add(Round(name=name, opened_by=by, coders=[RoundCoder(coder=n) for n in names],
                              transcripts=[RoundTranscript(transcript_id=i) for i in ids]))
    return round_summary(project, name)


def _refuse_taken(session: Session, name: str) -> None:
    held = session.scalar(select(Round).where(Round.name == name))
    if held is None:
        return
    if held.closed_at is None:
        raise QualcodeError(f"round '{name}' is already open (since {held.opened_at:%Y-%m-%d %H:%M}); close it first with"
                            f" 'qualcode round close {name}', or give the new round another name")
    raise QualcodeError(f"a round '{name}' was held already (closed {held.closed_at:%Y-%m-%d %H:%M}); give the new"
                        " round another name")


def _checked_transcripts(session: Session, given: list[str]) -> list[str]:
    ids = list(dict.fromkeys(get_transcript(session, item.strip()).id for item in given if item.strip()))
    if not ids:
        raise QualcodeError("--transcripts names no transcript; give ids, comma-separated")
    return ids


@retried
def close_round(project: Project, name: str, by: str) -> RoundSummary:
    """Close an open round: its coders see everyone's codings again, and `agreement --round` can compare them."""
    with project.session() as session:
        held = _find_round(session, name)
        if held.closed_at is not None:
            raise QualcodeError(f"round '{held.name}' is closed already (at {held.closed_at:%Y-%m-%d %H:%M})")
        with history.recorded(session, by, "round", f"close blind round {held.name}"):
            held.closed_at, held.closed_by = utcnow(), by
    return round_summary(project, name)


def _find_round(session: Session, name: str) -> Round:
    held = session.scalar(select(Round).where(Round.name == name.strip()).options(
        selectinload(Round.coders), selectinload(Round.transcripts)))
    if held is None:
        from rapidfuzz import process

        names = list(session.scalars(select(Round.name)))
        match = process.extractOne(name, names, score_cutoff=60) if names else None
        hint = f"; did you mean '{match[0]}'?" if match else ""
        raise QualcodeError(f"no round '{name}'{hint} ('qualcode rounds' lists them)")
    return held


def round_summary(project: Project, name: str) -> RoundSummary:
    with project.session(commit=False) as session:
        return _summary(session, _find_round(session, name))


def list_rounds(project: Project) -> list[RoundSummary]:
    """Every round, oldest first, open or closed, with how far each coder has got."""
    with project.session(commit=False) as session:
        rounds = session.scalars(select(Round).order_by(Round.id).options(
            selectinload(Round.coders), selectinload(Round.transcripts))).all()
        return [_summary(session, held) for held in rounds]


def _summary(session: Session, held: Round) -> RoundSummary:
    coders = [c.coder for c in held.coders]
    transcripts = [t.transcript_id for t in held.transcripts]
    coded = dict(session.execute(
        select(Coding.coder, func.count(func.distinct(Coding.transcript_id)))
        .where(Coding.coder.in_(coders), Coding.transcript_id.in_(transcripts), Coding.origin.in_(COUNTED_ORIGINS),
               Coding.anchor != UNPLACED)
        .group_by(Coding.coder)).all())
    return RoundSummary(held.name, held.closed_at is None, coders, transcripts, held.opened_by,
                        held.opened_at.isoformat(sep=" ", timespec="minutes"),
                        held.closed_at.isoformat(sep=" ", timespec="minutes") if held.closed_at else None,
                        {coder: coded.get(coder, 0) for coder in coders})
