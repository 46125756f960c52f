"""Re-importing over coded work: what a file would change, refused unless the researcher says `--update`.

A stored transcript with codings, and a stored participant, are coded work:
a copy-pasted `id` or a `participant:` typo must not silently replace an
interview or re-attribute its quotes. `review` compares what an import
brings with what is stored, before anything is written, and returns each
change with its size (text added and removed, codings re-anchored exactly,
fuzzily or not at all, attribution lines that change) and, for each, a
`Problem` naming the file, line and field, which the import raises unless
`--update` is given. A transcript without codings may change freely.
"""

from __future__ import annotations

import difflib
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from qualcode.ingest import anchoring, focusgroups
from qualcode.reports.attribution import Speaker, render, speaker_for
from qualcode.errors import Problem
from qualcode.ingest.metadata import InterviewRecord, SchoolRecord
from qualcode.models import Participant, School, Transcript

#: The refusal's fix, at the end of each message.
FIX = "if that is meant, import again with 'qualcode import --update' (a snapshot of the database is taken first)"
#: Stored participant fields an import may not change silently -> the front-matter field that sets each.
PARTICIPANT_FIELDS = {"role": "role", "informant_kind": "informant_kind", "school_id": "school"}


@dataclass
class TextChange:
    """A coded transcript's new text: how much changed, and where each coding goes (by coding id)."""

    transcript: str
    path: Path
    chars_added: int
    chars_removed: int
    lines_added: int
    lines_removed: int
    placements: dict[int, anchoring.Placement]

    @property
    def anchors(self) -> Counter:
        """How many codings are placed exactly, fuzzily, or not at all ("unplaced")."""
        return Counter(placement.anchor for placement in self.placements.values())

    def summary(self) -> str:
        anchors = self.anchors
        return (f"+{self.chars_added}/-{self.chars_removed} characters, +{self.lines_added}/-{self.lines_removed} lines;"
                f" {len(self.placements)} codings: {anchors['exact']} re-anchored exactly, {anchors['fuzzy']} fuzzily,"
                f" {anchors['unplaced']} unplaced")


@dataclass
class AttributionChange:
    transcript: str
    old: str
    new: str


@dataclass
class Changes:
    """What an import changes in coded work, and the refusals to raise without `--update`."""

    texts: list[TextChange] = field(default_factory=list)
    attributions: list[AttributionChange] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def placements(self, transcript_id: str) -> dict[int, anchoring.Placement] | None:
        return next((change.placements for change in self.texts if change.transcript == transcript_id), None)

    def as_json(self) -> dict:
        return {
            "texts": [{"transcript": c.transcript, "chars_added": c.chars_added, "chars_removed": c.chars_removed,
                       "lines_added": c.lines_added, "lines_removed": c.lines_removed, **c.anchors} for c in self.texts],
            "attributions": [vars(change) for change in self.attributions],
        }


def review(session: Session, settings, interviews: list, schools: dict[str, SchoolRecord]) -> Changes:
    """Compare each interview (`record`, `parsed`, `text_hash`) with the stored transcript and participant."""
    changes = Changes()
    ids = [interview.record.transcript_id for interview in interviews]
    stored = {t.id: t for t in session.scalars(select(Transcript).where(Transcript.id.in_(ids)))}
    # Loaded in one query each, not one per file: a re-import of a whole corpus reviews every file.
    wanted = {interview.record.participant_id for interview in interviews}
    participants = {p.id: p for p in session.scalars(
        select(Participant).where(Participant.id.in_(wanted))
        .options(selectinload(Participant.transcripts), selectinload(Participant.school)))}
    affected: dict[str, Speaker] = {}
    for interview in interviews:
        record, transcript = interview.record, stored.get(interview.record.transcript_id)
        new_speaker = _speaker(session, record, schools)
        if transcript is not None:
            affected[transcript.id] = new_speaker
            if transcript.sha256 != interview.text_hash and transcript.codings:
                _text_change(changes, transcript, interview)
            if transcript.participant_id != record.participant_id:
                name = "participant" if "participant" in record.where.lines else "id"
                changes.problems.append(_problem(record, name, (
                    f"'{record.participant_id}' would take {transcript.id} (imported from {transcript.source}) from"
                    f" participant '{transcript.participant_id}', and re-attribute its quotes")))
            mapped = focusgroups.speaker_map(record.voices)
            if (transcript.speakers or None) != mapped and transcript.codings:
                changes.problems.append(_problem(record, "speakers", (
                    f"would change whose words the turns of {transcript.id} are (speakers: {transcript.speakers or 'none'}"
                    f" -> {mapped or 'none'}), and re-attribute its quotes")))
        participant = participants.get(record.participant_id)
        if participant is not None:
            _participant_change(changes, participant, record)
            for other in participant.transcripts:
                affected.setdefault(other.id, new_speaker)
    for transcript_id, speaker in sorted(affected.items()):
        transcript = stored.get(transcript_id) or session.get(Transcript, transcript_id)
        old, new = render(settings, speaker_for(transcript.participant)), render(settings, speaker)
        if old != new:
            changes.attributions.append(AttributionChange(transcript_id, old, new))
    return changes


def _problem(record: InterviewRecord, name: str, what: str) -> Problem:
    where = record.where
    line = where.lines.get(name, where.line)
    return Problem(where.file(name), line, name if name in where.lines else None, f"{what}; {FIX}")


def _text_change(changes: Changes, transcript: Transcript, interview) -> None:
    parsed = interview.parsed
    placements = {
        coding.id: anchoring.place(coding.quote, coding.start, len(transcript.text), parsed.text)
        for coding in transcript.codings
    }
    change = TextChange(transcript.id, parsed.path, *diff_size(transcript.text, parsed.text), placements)
    changes.texts.append(change)
    changes.problems.append(Problem(parsed.path, parsed.body_line, None, (
        f"would replace the text of {transcript.id} (imported from {transcript.source}), which has codings:"
        f" {change.summary()}; if this is another interview, give it an 'id' of its own;"
        f" {FIX}")))


def _participant_change(changes: Changes, participant: Participant, record: InterviewRecord) -> None:
    """A stored participant's role, informant kind or school may change only with `--update`."""
    named = sorted(t.id for t in participant.transcripts)
    for attribute, name in PARTICIPANT_FIELDS.items():
        old, new = getattr(participant, attribute), getattr(record, attribute)
        if old != new:
            changes.problems.append(_problem(record, name, (
                f"would change {name} of participant '{participant.id}' from '{old or 'none'}' to '{new or 'none'}'"
                f" (interviewed in {', '.join(named) or 'no stored transcript'}); if this is another person, give a"
                f" 'participant:' of their own")))


def _speaker(session: Session, record: InterviewRecord, schools: dict[str, SchoolRecord]) -> Speaker:
    """The speaker the attribution line will name after the import."""
    if record.informant_kind:
        return Speaker(informant_kind=record.informant_kind)
    school = schools.get(record.school_id) or (session.get(School, record.school_id) if record.school_id else None)
    return Speaker(role=record.role, phase=getattr(school, "phase", None), school_type=getattr(school, "school_type", None),
                   ofsted=getattr(school, "ofsted", None), federation=bool(getattr(school, "federation", False)))


def diff_size(old: str, new: str) -> tuple[int, int, int, int]:
    """Characters added and removed, lines added and removed, from `old` to `new`.

    Lines are matched with difflib; within a block of changed lines, the characters
    counted are those between what the old and new block start and end with alike.
    """
    old_lines, new_lines = old.splitlines(keepends=True), new.splitlines(keepends=True)
    chars_added = chars_removed = lines_added = lines_removed = 0
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        lines_removed += i2 - i1
        lines_added += j2 - j1
        before, after = "".join(old_lines[i1:i2]), "".join(new_lines[j1:j2])
        alike = len(os.path.commonprefix([before, after]))
        alike += len(os.path.commonprefix([before[alike:][::-1], after[alike:][::-1]]))
        chars_removed, chars_added = chars_removed + len(before) - alike, chars_added + len(after) - alike
    return chars_added, chars_removed, lines_added, lines_removed
