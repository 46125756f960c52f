"""A transcript's turns in the project: reading them at import, warning, storing, re-reading.

`qualcode.ingest.speakers` finds turns in a text; this module says, per transcript,
which speakers it found and how each was read, warns about what it could not
read for sure (no participant turns, lines that look like labels but were
read as speech, a guessed interviewer), stores the turns, and re-reads the
turns of stored transcripts when the `[speakers]` settings change
(`qualcode import --reparse`), which never moves a coding: only the turns
around the codings change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from qualcode import history
from qualcode.ingest import focusgroups
from qualcode.config import default_coder
from qualcode.db import insert_rows
from qualcode.errors import Problem, QualcodeError
from qualcode.models import Coding, Participant, Transcript, Turn
from qualcode.ingest.speakers import PARTICIPANT, Reading, SpeakerRules, label_key, read_speakers

FIX = "see 'Bringing your own study' in the README"


@dataclass
class SpeakerSummary:
    """What one transcript's reading found: shown after every import, and as `--json`."""

    transcript: str
    path: str
    speakers: list[dict]
    turns: int
    participant_turns: int
    #: What is not surely right (no participant turns, label-like lines read as speech, a guessed
    #: interviewer); `--strict` refuses the import on any of them.
    warnings: list[Problem] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "transcript": self.transcript, "path": self.path, "speakers": self.speakers, "turns": self.turns,
            "participant_turns": self.participant_turns, "warnings": [str(w) for w in self.warnings],
        }


def read(text: str, meta: dict, settings) -> Reading:
    return read_speakers(text, SpeakerRules.from_settings(settings, meta))


def summarise(
    transcript_id: str, path: Path | str, reading: Reading, first_line: int = 1, mapped: dict[str, str] | None = None
) -> SpeakerSummary:
    """The speakers of one reading, with a warning for each thing that is not surely right.

    `first_line` is the file line on which the text starts, so that warnings
    point at the file's own lines (after the front matter). `mapped` is a focus
    group's `speakers:` (label -> participant).
    """
    speakers = [
        {"label": s.label, "role": s.role, "turns": s.turns, "guessed": s.guessed,
         "participant": focusgroups.participant_of(mapped, s.label) if s.role == PARTICIPANT else None}
        for s in reading.speakers
    ]
    summary = SpeakerSummary(
        transcript_id, str(path), speakers, len(reading.turns), reading.participant_turns,
    )
    summary.warnings += _unread_label_warnings(path, reading, first_line, transcript_id)
    if not reading.participant_turns:
        summary.warnings.append(Problem(path, None, None, _no_participant_message(reading, transcript_id)))
    summary.warnings += _unmapped_voice_warnings(path, reading, transcript_id, mapped)
    for speaker in reading.guessed:
        if speaker.role == "interviewer":
            others = "".join(f", '{s.label}' {s.questions}" for s in reading.speakers if s is not speaker)
            summary.warnings.append(Problem(
                path, None, None, f"guessed that '{speaker.label}' is the interviewer, who asks the most questions"
                f" ('{speaker.label}' {speaker.questions}{others}); if wrong, set 'interviewer:' in its metadata or"
                f" [speakers] interviewer in qualcode.toml, then 'qualcode import --reparse {transcript_id}'",
            ))
    return summary


def _unmapped_voice_warnings(path, reading: Reading, transcript_id: str, mapped: dict[str, str] | None) -> list[Problem]:
    """Participant speakers whose turns would be attributed to someone else, or mapped labels never heard."""
    voices = [s.label for s in reading.speakers if s.role == PARTICIPANT]
    if not mapped:
        if len(voices) < 2:
            return []
        return [Problem(path, None, None, (
            f"{len(voices)} participant speakers ({', '.join(voices)}): all their turns are attributed to"
            f" {transcript_id}'s one participant, so a quote from any other carries the wrong attribution line;"
            " for a joint interview or focus group, map each label to its participant under 'speakers:' in the"
            " metadata (see 'Focus groups' in the README)"
        ))]
    unmapped = [label for label in voices if focusgroups.participant_of(mapped, label) is None]
    heard = {label_key(label) for label in voices}
    silent = [label for label in mapped if label_key(label) not in heard]
    warnings = []
    if unmapped:
        warnings.append(Problem(path, None, "speakers", (
            f"participant speaker{'s' if len(unmapped) > 1 else ''} {', '.join(map(repr, unmapped))} not under"
            f" 'speakers:': {'their' if len(unmapped) > 1 else 'its'} turns are attributed to {transcript_id}'s"
            " participant; add them to 'speakers:', then import again"
        )))
    if silent:
        warnings.append(Problem(path, None, "speakers", (
            f"{', '.join(map(repr, silent))} under 'speakers:' never speak{'s' if len(silent) == 1 else ''} in the"
            " text: check the label's spelling against the transcript"
        )))
    return warnings


def _unread_label_warnings(path, reading: Reading, first_line: int, transcript_id: str) -> list[Problem]:
    warnings = []
    for label, lines in _lines_by_label(reading.unread_labels, first_line).items():
        warnings.append(Problem(
            path, lines[0], None,
            f"'{label}:' looks like a speaker label but was read as speech{_more_lines(lines)}; if it is a speaker,"
            f' add "{label}" to participant (or interviewer) under [speakers] in qualcode.toml, then import'
            f" again or run 'qualcode import --reparse {transcript_id}'",
        ))
    for label, lines in _lines_by_label(reading.unspaced_labels, first_line).items():
        warnings.append(Problem(
            path, lines[0], None,
            f"'{label}' starts the line as a speaker's label does, but without ': ' after it, so the line was read"
            f" as speech in the turn before{_more_lines(lines)}; write '{label}: ' there, then import again",
        ))
    return warnings


def _lines_by_label(found: list[tuple[int, str]], first_line: int) -> dict[str, list[int]]:
    """(0-based line, label) pairs as label -> the file's lines: one warning per label, however often it comes."""
    lines: dict[str, list[int]] = {}
    for line, label in found:
        lines.setdefault(label, []).append(first_line + line)
    return lines


def _more_lines(lines: list[int]) -> str:
    """' (lines 3, 9 and 2 more)' for a warning about several lines; nothing for one."""
    shown = ", ".join(map(str, lines[:8])) + (f" and {len(lines) - 8} more" if len(lines) > 8 else "")
    return f" (lines {shown})" if len(lines) > 1 else ""


def _no_participant_message(reading: Reading, transcript_id: str) -> str:
    if not reading.speakers:
        return (
            "no speaker turns: no line starts with a speaker label qualcode knows (such as 'Interviewer:' and"
            f" 'Respondent:'); name the labels under [speakers] in qualcode.toml ({FIX}), then import again"
            f" or run 'qualcode import --reparse {transcript_id}'"
        )
    found = ", ".join(f"'{s.label}' ({s.role}, {s.turns} turns)" for s in reading.speakers)
    return (
        f"no participant turns: the speakers read were {found}; add the interviewee's label to participant"
        " under [speakers] in qualcode.toml (or set 'interviewer:' in the metadata to the interviewer's label),"
        f" then import again or run 'qualcode import --reparse {transcript_id}'"
    )


def turn_rows(transcript_id: str, reading: Reading, mapped: dict[str, str] | None = None) -> list[dict]:
    """Rows for `turns`; with a focus group's `mapped` speakers, each participant turn says whose it is."""
    return [
        {"transcript_id": transcript_id, "number": n, "speaker": turn.speaker[:80], "role": turn.role,
         "start": turn.start, "end": turn.end, "time": turn.time,
         "participant_id": focusgroups.participant_of(mapped, turn.speaker) if turn.role == PARTICIPANT else None}
        for n, turn in enumerate(reading.turns, start=1)
    ]


def store(session: Session, readings: dict[str, Reading], mapped: dict[str, dict[str, str] | None] | None = None) -> None:
    """Replace the turns of these transcripts in two statements (tens of thousands of rows), recorded for undo.

    `mapped` gives a focus group's speakers (label -> participant) by transcript.
    """
    if not readings:
        return
    mapped = mapped or {}

    def replace() -> None:
        # Through the connection to the driver, not the ORM's bulk insert, which handles row by row.
        connection = session.connection()
        connection.execute(delete(Turn.__table__).where(Turn.transcript_id.in_(list(readings))))
        insert_rows(connection, Turn.__table__, [row for transcript_id, reading in readings.items()
                                                 for row in turn_rows(transcript_id, reading, mapped.get(transcript_id))])

    history.bulk_replaced(session, Turn.__table__, "transcript_id", list(readings), replace)
    # Transcripts loaded in this session hold stale turns; one not loaded has nothing to forget.
    for transcript_id in readings:
        if (transcript := session.identity_map.get(identity_key(Transcript, transcript_id))) is not None:
            session.expire(transcript, ["turns"])


@dataclass
class Reparsed:
    """How re-reading one transcript's speakers changed it."""

    summary: SpeakerSummary
    turns_before: int
    participant_turns_before: int
    #: Codings (counted by id) inside a participant turn before and after.
    codings_in_participant_turns: tuple[int, int]

    @property
    def changed(self) -> bool:
        return (self.turns_before, self.participant_turns_before) != (self.summary.turns, self.summary.participant_turns) \
            or self.codings_in_participant_turns[0] != self.codings_in_participant_turns[1]


def reparse(
    project, transcript_ids: Iterable[str] | None = None, dry_run: bool = False, coder: str | None = None
) -> list[Reparsed]:
    """Re-read the speakers of stored transcripts (all if `transcript_ids` is empty) with the current settings.

    Texts and codings are untouched: a coding's characters stay where they
    were; only which turn holds them, and whose turn it is, may change. The
    new turns are one change by `coder`, which `qualcode undo` takes back.
    """
    wanted = list(transcript_ids or [])
    what = f"{len(wanted)} transcript{'s' if len(wanted) != 1 else ''}" if wanted else "every transcript"
    with project.session(commit=not dry_run, bulk=True) as session:
        with history.recorded(session, coder or default_coder(), "reparse", f"import --reparse: {what}"):
            return _reparse(session, project.settings, wanted)


def _reparse(session: Session, settings, transcript_ids: Iterable[str] | None) -> list[Reparsed]:
    query = select(Transcript).order_by(Transcript.id)
    wanted = list(dict.fromkeys(transcript_ids or []))
    if wanted:
        query = query.where(Transcript.id.in_(wanted))
    transcripts = list(session.scalars(query))
    missing = sorted(set(wanted) - {t.id for t in transcripts})
    if missing:
        raise QualcodeError(f"no transcript {', '.join(missing)}; see 'qualcode transcripts'")
    results, readings = [], {}
    for transcript in transcripts:
        participant = session.get(Participant, transcript.participant_id)
        meta = {"interviewer": transcript.interviewer, "informant_kind": participant.informant_kind if participant else None,
                "speakers": transcript.speakers}
        reading = read(transcript.text, meta, settings)
        spans = session.execute(select(Coding.start, Coding.end).where(Coding.transcript_id == transcript.id)).all()
        before = [(t.start, t.end) for t in transcript.turns if t.role == PARTICIPANT]
        after = [(t.start, t.end) for t in reading.turns if t.role == PARTICIPANT]
        path, first_line = _text_start(transcript)
        results.append(Reparsed(
            summarise(transcript.id, path, reading, first_line, mapped=transcript.speakers),
            len(transcript.turns), len(before), (_inside(spans, before), _inside(spans, after)),
        ))
        readings[transcript.id] = reading
    store(session, readings, {t.id: t.speakers for t in transcripts})
    return results


def _text_start(transcript: Transcript) -> tuple[str, int]:
    """Where a warning about a stored text points: its file and the line the text starts on there (after
    front matter), as at import; the transcript's id, with `qualcode show`'s line numbers, when the file
    no longer holds this text. Given the file and the text's own line, a warning pointed lines too high."""
    from qualcode.ingest.transcript import parse_text_file

    source = Path(transcript.source or "")
    if not source.is_file():
        return transcript.id, 1
    if source.suffix.lower() not in (".txt", ".md"):
        return str(source), 1  # Word and caption files number the text's lines, as their import does
    try:
        parsed = parse_text_file(source)
    except Problem:
        return transcript.id, 1
    return (str(source), parsed.body_line) if parsed.text == transcript.text else (transcript.id, 1)


def _inside(spans: list[tuple[int, int]], turns: list[tuple[int, int]]) -> int:
    """How many coded spans lie within one of the turns (both sorted lists are small: one transcript)."""
    return sum(1 for start, end in spans if any(a <= start and end <= b for a, b in turns))


def unread(project, transcript_ids: Iterable[str] | None = None) -> list[str]:
    """Stored transcripts with no participant turn: qualcode could not read who speaks in them, so
    nothing in them is searched, suggested or quoted as a participant's words."""
    participant = select(Turn.id).where(Turn.transcript_id == Transcript.id, Turn.role == PARTICIPANT).exists()
    query = select(Transcript.id).where(~participant).order_by(Transcript.id)
    if transcript_ids:
        query = query.where(Transcript.id.in_(list(transcript_ids)))
    with project.engine.connect() as connection:
        return list(connection.scalars(query))
