"""Focus groups and joint interviews: one transcript, several participants, each quoted as themself.

A transcript's metadata may map speaker labels to participants:

    speakers:
      Teacher A: {participant: EAS-S01-T1, role: Teacher}
      Teacher B: {participant: EAS-S01-T2, role: Teaching assistant}
      Head: EAS-S01-HT          # a participant this import or the project already knows

Each mapped label is read as a participant's label, and each of its turns
records whose words they are (`turns.participant_id`). Everything that says
who said something (quote banks, case studies, `query find/text`, `check`,
matrices by role) asks the turn first and the transcript second, so a quote
from Teacher B never carries Teacher A's attribution line.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select

from qualcode.models import Turn
from qualcode.ingest.speakers import label_key

#: Where a participant's metadata goes in a `speakers:` entry (the rest is an error).
ENTRY_FIELDS = ("participant", "role", "informant_kind")
#: The query columns that describe the speaker rather than the school: in a focus group they vary by turn.
SPEAKER_COLUMNS = ("participant", "role", "informant_kind", "informant")


@dataclass(frozen=True)
class Voice:
    """One mapped speaker: their label, their participant, and the role or kind the entry gives (if any)."""

    label: str
    participant_id: str
    role: str | None = None
    informant_kind: str | None = None

    @property
    def defined(self) -> bool:
        """The entry describes the participant; otherwise it names one described elsewhere."""
        return self.role is not None or self.informant_kind is not None


def read_voices(validator, data: dict, where) -> list[Voice]:
    """The `speakers:` mapping of one transcript's metadata, each entry checked; problems go to `validator`."""
    given = data.get("speakers")
    if given is None:
        return []
    if not isinstance(given, dict) or not given:
        validator.fail(where, "speakers", "expected a mapping of speaker labels to participants, e.g."
                       " 'speakers: {Teacher A: {participant: EAS-S01-T1, role: Teacher}}'")
        return []
    voices = [_voice(validator, str(label).strip(), entry, where) for label, entry in given.items()]
    voices = [voice for voice in voices if voice is not None]
    _check_distinct(validator, voices, where)
    return voices


def _voice(validator, label: str, entry, where) -> Voice | None:
    if isinstance(entry, str | int):
        entry = {"participant": str(entry)}
    if not isinstance(entry, dict):
        validator.fail(where, "speakers", f"'{label}': expected a participant id or {{participant: ID, role: ROLE}}")
        return None
    unknown = sorted(set(entry) - set(ENTRY_FIELDS))
    if unknown:
        validator.fail(where, "speakers", f"'{label}': unknown field {', '.join(map(repr, unknown))}; an entry holds"
                       f" {', '.join(ENTRY_FIELDS)}")
    participant = validator.text(entry, "participant", where, required=False)
    if not participant:
        validator.fail(where, "speakers", f"'{label}': no 'participant' id")
        return None
    validator.identifier(participant, "participant", where, "speakers")
    role = validator.term(entry, "role", "role", where, required=False)
    kind = validator.term(entry, "informant_kind", "informant_kind", where, required=False)
    if role and kind:
        validator.fail(where, "speakers", f"'{label}': give 'role' or 'informant_kind', not both")
    return Voice(label, participant, role, kind)


def _check_distinct(validator, voices: list[Voice], where) -> None:
    described: dict[str, Voice] = {}
    for voice in voices:
        other = described.get(voice.participant_id)
        differ = other is not None and (other.role, other.informant_kind) != (voice.role, voice.informant_kind)
        if differ and voice.defined:
            validator.fail(where, "speakers", f"'{voice.label}' and '{other.label}' are both {voice.participant_id}"
                           " with different roles: one participant has one role")
        if voice.defined:
            described.setdefault(voice.participant_id, voice)


def speaker_map(voices: list[Voice]) -> dict[str, str] | None:
    """What the transcript keeps (`transcripts.speakers`): label -> participant id."""
    return {voice.label: voice.participant_id for voice in voices} or None


def participant_of(mapping: dict[str, str] | None, label: str) -> str | None:
    """The participant a turn's label maps to, if the transcript maps any."""
    if not mapping:
        return None
    return {label_key(k): v for k, v in mapping.items()}.get(label_key(label))


class Voices:
    """The focus-group turns of some transcripts: whose words lie where, looked up by character position."""

    def __init__(self, rows):
        self._starts: dict[str, list[int]] = defaultdict(list)
        self._turns: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for transcript, start, end, participant in rows:
            self._starts[transcript].append(start)
            self._turns[transcript].append((end, participant))

    @classmethod
    def load(cls, connection, transcript_ids=None) -> Voices:
        """Read in one query; empty (and cheap) when no transcript is a focus group."""
        query = (
            select(Turn.transcript_id, Turn.start, Turn.end, Turn.participant_id)
            .where(Turn.participant_id.is_not(None))
            .order_by(Turn.transcript_id, Turn.start)
        )
        if transcript_ids is not None:
            query = query.where(Turn.transcript_id.in_(sorted(set(transcript_ids))))
        return cls(connection.execute(query).all())

    def __bool__(self) -> bool:
        return bool(self._starts)

    @property
    def participants(self) -> set[str]:
        return {participant for turns in self._turns.values() for _, participant in turns}

    def at(self, transcript: str, start: int, end: int | None = None) -> str | None:
        """The participant of the first mapped turn that the span `start`-`end` touches (holds `start`, with no
        `end`), or None: not a focus group, or no mapped speaker's turn there."""
        starts = self._starts.get(transcript)
        if not starts:
            return None
        end = start + 1 if end is None else max(end, start + 1)
        turns = self._turns[transcript]
        for index in range(max(bisect_right(starts, start) - 1, 0), len(starts)):
            turn_end, participant = turns[index]
            if starts[index] >= end:
                break
            if start < turn_end:
                return participant
        return None

    def speaker_columns(self, frame, people: dict[str, dict]):
        """`frame` (rows with transcript, start and end) with each focus-group row's speaker metadata taken
        from the participant whose turn it is in (`people`: participant id -> those columns)."""
        speakers = [self.at(t, s, e) for t, s, e in zip(frame["transcript"], frame["start"], frame["end"])]
        for column in SPEAKER_COLUMNS:
            frame[column] = [people[p][column] if p else held for p, held in zip(speakers, frame[column])]
        return frame
