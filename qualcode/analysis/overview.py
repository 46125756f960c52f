"""Looking at the corpus: the transcript list, corpus statistics, one transcript line by line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qualcode.coding.blind import visible
from qualcode.config import UnknownValue
from qualcode.errors import QualcodeError
from qualcode.models import UNPLACED, Code, Coding, Participant, School, Transcript
from qualcode.project import Project
from qualcode.ingest.transcript import line_starts

if TYPE_CHECKING:
    import pandas as pd

#: `transcript_table` filters: option name -> (vocabulary, column in the table).
FILTERS = {
    "locality": ("locality", "locality"),
    "role": ("role", "role"),
    "phase": ("phase", "phase"),
    "school_type": ("school_type", "school_type"),
    "ofsted": ("ofsted", "ofsted"),
    "informant_kind": ("informant_kind", "informant_kind"),
    "kind": ("transcript_kind", "kind"),
}


def transcript_table(project: Project, informants: bool | None = None, **filters: str | None) -> pd.DataFrame:
    """One row per transcript with its participant's and school's metadata.

    Filter values go through the vocabularies, so `ofsted="RI"` works and a
    typo gets a did-you-mean. `informants` True keeps only system informants,
    False only school staff.
    """
    codings = (
        select(Coding.transcript_id, func.count().label("codings")).where(visible(project))
        .group_by(Coding.transcript_id).subquery()
    )
    query = (
        select(
            Transcript.id.label("transcript"),
            Participant.id.label("participant"),
            Participant.role,
            Participant.informant_kind,
            School.id.label("school"),
            Participant.locality_name.label("locality"),
            School.phase,
            School.school_type,
            School.ofsted,
            Transcript.kind,
            Transcript.interview_date.label("date"),
            Transcript.words,
            func.coalesce(codings.c.codings, 0).label("codings"),
        )
        .join(Participant, Transcript.participant_id == Participant.id)
        .outerjoin(School, Participant.school_id == School.id)
        .outerjoin(codings, codings.c.transcript_id == Transcript.id)
        .order_by(Transcript.id)
    )
    import pandas as pd

    with project.engine.connect() as connection:
        table = pd.read_sql(query, connection)
    for name, value in filters.items():
        if value:
            vocabulary, column = FILTERS[name]
            table = table[table[column] == _resolve(project, vocabulary, value, name)]
    if informants is not None:
        table = table[table["informant_kind"].notna() == informants]
    return table.reset_index(drop=True)


def _resolve(project: Project, vocabulary: str, value: str, option: str) -> str:
    try:
        return project.settings.vocabularies.resolve(vocabulary, value)
    except UnknownValue as exc:
        raise QualcodeError(f"--{option.replace('_', '-')}: {exc}") from None


def corpus_stats(project: Project) -> dict:
    """Counts for `qualcode stats`: totals, per locality, and by phase, type, grade and role."""
    with project.session() as session:
        participants = session.scalars(select(Participant)).all()
        transcripts = session.execute(select(Transcript.participant_id, Transcript.words)).all()
        schools = session.scalars(select(School)).all()
        codings = session.scalar(select(func.count()).select_from(Coding).where(visible(project)))
        by_participant = {p.id: p for p in participants}
        per_locality: dict[str, dict[str, int]] = {}
        for school in schools:
            _locality(per_locality, school.locality_name)["schools"] += 1
        for participant_id, words in transcripts:
            participant = by_participant[participant_id]
            row = _locality(per_locality, participant.locality_name)
            row["system_informants" if participant.is_system_informant else "staff_interviews"] += 1
            row["words"] += words
        staff = [p for p in participants if not p.is_system_informant]
        return {
            "transcripts": len(transcripts),
            "schools": len(schools),
            "participants": len(participants),
            "system_informants": len(participants) - len(staff),
            "localities": len(per_locality),
            "words": sum(words for _, words in transcripts),
            "codings": codings,
            "per_locality": dict(sorted(per_locality.items())),
            "schools_by_phase": _count(s.phase for s in schools),
            "schools_by_type": _count(s.school_type for s in schools),
            "schools_by_ofsted": _count(s.ofsted or "not given" for s in schools),
            "participants_by_role": _count(p.role for p in staff),
            "informants_by_kind": _count(p.informant_kind for p in participants if p.is_system_informant),
        }


def _locality(table: dict, name: str) -> dict[str, int]:
    return table.setdefault(name, {"schools": 0, "staff_interviews": 0, "system_informants": 0, "words": 0})


def _count(values) -> dict[str, int]:
    return dict(sorted(Counter(values).items(), key=lambda item: (-item[1], item[0])))


@dataclass
class Line:
    number: int
    text: str
    #: For the line a turn's words start on: the turn's number, label and role ('3 Headteacher · participant').
    turn: str | None
    codes: list[str]


def transcript_lines(project: Project, transcript_id: str) -> tuple[Transcript, list[Line]]:
    """The transcript's lines, numbered from 1, with the turns that start on them and the codes touching them."""
    with project.session() as session:
        transcript = get_transcript(session, transcript_id)
        starts = line_starts(transcript.text)
        turn_lines = {
            _line_of(starts, turn.start): f"{turn.number} {turn.speaker} · {turn.role}" for turn in transcript.turns
        }
        spans = session.execute(
            select(Coding.start, Coding.end, Code.id).join(Code)
            .where(Coding.transcript_id == transcript.id, Coding.anchor != UNPLACED, visible(project))
        ).all()
        paths = code_paths(session)
        lines = []
        for number, start in enumerate(starts, start=1):
            end = starts[number] if number < len(starts) else len(transcript.text)
            text = transcript.text[start:end].rstrip("\n")
            codes = sorted({paths[code] for s, e, code in spans if s < max(end, start + 1) and e > start})
            lines.append(Line(number, text, turn_lines.get(number), codes))
        return transcript, lines


def transcript_turns(project: Project, transcript_id: str) -> dict:
    """A transcript's turns as `qualcode show --json` prints them.

    `label` is the speaker as written; `speaker` is who that is: the
    participant's id for the participant's turns (in a focus group, the
    participant its label is mapped to), the interviewer (as the
    metadata names them, else 'interviewer') for the interviewer's, none for
    notes and header lines.
    """
    from qualcode.ingest.speakers import INTERVIEWER, PARTICIPANT, format_time

    with project.session(commit=False) as session:
        transcript = get_transcript(session, transcript_id)
        starts, text = line_starts(transcript.text), transcript.text
        who = {PARTICIPANT: transcript.participant_id, INTERVIEWER: transcript.interviewer or INTERVIEWER}
        turns = [
            {"n": turn.number, "speaker": turn.participant_id or who.get(turn.role), "label": turn.speaker,
             "role": turn.role, "start": turn.start, "end": turn.end,
             "lines": [_line_of(starts, turn.start), _line_of(starts, max(turn.start, turn.end - 1))],
             "time": format_time(turn.time), "text": text[turn.start:turn.end]}
            for turn in transcript.turns
        ]
        return {"id": transcript.id, "participant": transcript.participant_id, "turns": turns}


def _line_of(starts: list[int], offset: int) -> int:
    from bisect import bisect_right

    return bisect_right(starts, offset)


def get_transcript(session: Session, transcript_id: str) -> Transcript:
    """A transcript by id, or an error with the closest ids (compared ignoring case: an id typed
    in lower case, 'nor-s03-ht', is otherwise too far from 'NOR-S03-HT' to be suggested)."""
    transcript = session.get(Transcript, transcript_id)
    if transcript is None:
        from rapidfuzz import process, utils

        ids = list(session.scalars(select(Transcript.id)))
        match = process.extractOne(transcript_id, ids, score_cutoff=60, processor=utils.default_process)
        hint = f"; did you mean '{match[0]}'?" if match else ""
        raise QualcodeError(f"no transcript '{transcript_id}'{hint}")
    return transcript


def code_paths(session: Session) -> dict[int, str]:
    """Every code's full path (``markets/competition/pupils``) by id, in one query."""
    rows = session.execute(select(Code.id, Code.parent_id, Code.name)).all()
    parents = {code_id: parent for code_id, parent, _ in rows}
    names = {code_id: name for code_id, _, name in rows}

    def path(code_id: int) -> str:
        parts = []
        while code_id is not None:
            parts.append(names[code_id])
            code_id = parents[code_id]
        return "/".join(reversed(parts))

    return {code_id: path(code_id) for code_id in names}
