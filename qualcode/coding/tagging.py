"""The interactive tagging session without its screen: which turn the coder is on, and what they do to it.

`Tagger` walks the participant turns of one transcript (interviewer turns and
notes are skipped: they are not data). Every action goes straight to
`qualcode.coding.manual` and is committed there, one transaction per action, so a
terminal that dies loses nothing; the coder's position is written to
``.qualcode/tag-state.json`` after each move, so the next session resumes at
the turn they stopped on. The Textual screen in `qualcode.coding.tui` only renders a
`TurnView` and calls these methods, which keeps the session testable without a
terminal.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from qualcode.coding import manual as coding
from qualcode.coding.blind import Blind, blind, shown
from qualcode.coding.codebook import complete_code
from qualcode.errors import QualcodeError
from qualcode.models import UNPLACED, Change, Coding, Transcript, Turn
from qualcode.analysis.overview import code_paths, get_transcript
from qualcode.project import Project
from qualcode.ingest.speakers import INTERVIEWER, PARTICIPANT

#: Origins that mean a person has coded a passage (suggestions do not count).
CODED = ("manual", "accepted")
STATE_FILE = Path(".qualcode") / "tag-state.json"
_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+))?\s*$")
_EDGE_PUNCTUATION = ".,;:!?\"'()[]"


@dataclass(frozen=True)
class TurnRef:
    """A turn in the walk: its number in the transcript and its character span."""

    number: int
    start: int
    end: int


@dataclass(frozen=True)
class OnTurn:
    """A coding or a suggestion that touches the current turn."""

    id: int
    code: str
    origin: str
    coder: str
    start: int
    end: int
    score: float | None
    memo: str | None
    text: str
    #: Why it was suggested: the matched words, or the learned model's strongest features.
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class Selection:
    """Part of the current turn chosen with `select`: the target of `apply` and `in_vivo`."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class TurnView:
    """Everything the screen shows about the current turn, read in one go."""

    transcript: str
    number: int
    position: int
    total: int
    speaker: str
    start: int
    end: int
    lines: str
    text: str
    codes: list[OnTurn]
    suggestions: list[OnTurn]
    #: The interviewer's turn just before, if there is one: what the participant is answering.
    question: str | None = None
    #: What a blind round open on this transcript hides from the coder (`qualcode.coding.blind`), said on screen.
    blind: str | None = None


@dataclass(frozen=True)
class MemoTarget:
    kind: str
    target: str
    label: str


class Tagger:
    """One coder's walk through the participant turns of a transcript.

    With no `transcript`, the walk starts in the transcript the coder last
    tagged (if it still has uncoded turns) or else the first one that has
    any, and carries on into the next such transcript at the end. With
    `uncoded`, turns that already carry a manual or accepted coding are left
    out of the walk (the list is fixed when a transcript is opened, so going
    back still finds the turns coded in this session).
    """

    def __init__(self, project: Project, coder: str, transcript: str | None = None, uncoded: bool = False,
                 uncertain: bool = False):
        self.project = project
        self.coder = coder
        self.uncoded = uncoded
        self.uncertain = uncertain
        self.follow = transcript is None
        self.selection: Selection | None = None
        self.turns: list[TurnRef] = []
        self.index = 0
        self.header: dict[str, str] = {}
        self.transcript_id = ""
        self._text = ""
        self._open(transcript or self._starting_transcript())

    # -- where we are ---------------------------------------------------------

    @property
    def turn(self) -> TurnRef:
        return self.turns[self.index]

    @property
    def turn_text(self) -> str:
        return self._text[self.turn.start : self.turn.end]

    def view(self) -> TurnView:
        """The current turn with its codes and its suggestions (best score first), fresh from the database."""
        hidden = self._blind()
        with self.project.session() as session:
            transcript = get_transcript(session, self.transcript_id)
            turn, before = _turn_and_before(session, transcript.id, self.turn.number)
            touching = _touching(session, transcript, self.turn.start, self.turn.end, shown(hidden))
        codes = [c for c in touching if c.origin != "suggested"]
        suggestions = sorted((c for c in touching if c.origin == "suggested"), key=lambda c: (-(c.score or 0), c.start))
        return TurnView(
            transcript=transcript.id,
            number=turn.number,
            position=self.index + 1,
            total=len(self.turns),
            speaker=turn.speaker,
            start=turn.start,
            end=turn.end,
            lines=coding.lines_of(transcript.text, turn.start, turn.end),
            text=transcript.text[turn.start : turn.end],
            codes=codes,
            suggestions=suggestions,
            question=transcript.text[before.start : before.end] if before and before.role == INTERVIEWER else None,
            blind=hidden.notice if hidden and transcript.id in hidden.transcripts else None,
        )

    def _blind(self) -> Blind | None:
        """The blind rounds the coder is in, if any: asked afresh, since a round may close during a session."""
        return blind(self.project, self.coder)

    def next(self) -> bool:
        """Move to the next turn (or, when walking the corpus, the next transcript); False at the very end."""
        if self.index + 1 < len(self.turns):
            return self._go(self.index + 1)
        following = self._next_transcript(after=self.transcript_id) if self.follow else None
        if following is None:
            return False
        self._open(following, resume=False)
        return True

    def previous(self) -> bool:
        """Go back one turn; False on the first."""
        return self.index > 0 and self._go(self.index - 1)

    def _go(self, index: int) -> bool:
        self.index = index
        self.selection = None
        save_position(self.project, self.coder, self.transcript_id, self.turn.number)
        return True

    # -- selecting part of the turn --------------------------------------------

    def words(self) -> list[tuple[int, int]]:
        """The current turn's words as character spans, numbered from 1 on screen."""
        text = self.turn_text
        return [(self.turn.start + m.start(), self.turn.start + m.end()) for m in re.finditer(r"\S+", text)]

    def select(self, spec: str) -> Selection | None:
        """Select words of the current turn by number (``3`` or ``3-7``) or by quoting them; empty clears."""
        if not spec.strip():
            self.selection = None
            return None
        start, end = self._range(spec) if _RANGE.match(spec) else self._phrase(spec)
        text = self.turn_text
        offset = self.turn.start
        while start < end and text[start - offset] in _EDGE_PUNCTUATION:
            start += 1
        while end > start and text[end - 1 - offset] in _EDGE_PUNCTUATION:
            end -= 1
        if end <= start:
            raise QualcodeError(f"'{spec}' selects no words")
        self.selection = Selection(start, end, text[start - offset : end - offset])
        return self.selection

    def _range(self, spec: str) -> tuple[int, int]:
        first, last = _RANGE.match(spec).groups()
        words = self.words()
        first_n, last_n = int(first), int(last or first)
        if not 1 <= first_n <= last_n <= len(words):
            raise QualcodeError(f"this turn has words 1-{len(words)}; '{spec.strip()}' is not a range of them")
        return words[first_n - 1][0], words[last_n - 1][1]

    def _phrase(self, spec: str) -> tuple[int, int]:
        pattern = r"\s+".join(re.escape(word) for word in spec.split())
        match = re.search(pattern, self.turn_text, flags=re.IGNORECASE)
        if match is None:
            raise QualcodeError(f"'{spec.strip()}' is not in this turn; give the words as typed there, or numbers like 3-7")
        return self.turn.start + match.start(), self.turn.start + match.end()

    @property
    def target(self) -> tuple[int, int]:
        """What `apply` codes: the selection, else the whole turn."""
        if self.selection is not None:
            return self.selection.start, self.selection.end
        return self.turn.start, self.turn.end

    # -- actions: each one its own committed, undoable change -------------------

    def accept(self, suggestion_id: int) -> str:
        return coding.review_suggestion(self.project, suggestion_id, self.coder, accept=True)

    def reject(self, suggestion_id: int) -> str:
        return coding.review_suggestion(self.project, suggestion_id, self.coder, accept=False)

    def apply(self, codes: list[str], new: bool = False) -> coding.Applied:
        """Code the selection (or the turn); an unknown code raises `UnknownCode` unless `new`."""
        return coding.apply_codes(self.project, self.transcript_id, codes, self.coder, new=new, span=self.target)

    def uncode(self, codes: list[str]) -> int:
        """Remove codings of `codes` that overlap the selection (or the turn)."""
        return coding.uncode(self.project, self.transcript_id, self.coder, codes=codes, span=self.target)

    def in_vivo(self, parent: str | None = None) -> coding.Applied:
        """Make the selected words a new inductive code and code them with it."""
        if self.selection is None:
            raise QualcodeError("select the words first (s), then make them an in-vivo code")
        start, end = self.target
        return coding.create_in_vivo(self.project, self.transcript_id, start, end, self.coder, parent)

    def memo_targets(self) -> list[MemoTarget]:
        """Where a memo can go from here: the coder's codings on this turn (newest first), then the transcript."""
        own = sorted(
            (c for c in self.view().codes if c.coder == self.coder and c.origin in CODED), key=lambda c: -c.id
        )
        targets = [MemoTarget("coding", str(c.id), f"coding {c.id} ({c.code})") for c in own]
        return [*targets, MemoTarget("transcript", self.transcript_id, f"transcript {self.transcript_id}")]

    def memo(self, target: MemoTarget, text: str) -> str:
        if not text.strip():
            raise QualcodeError("an empty memo was not saved")
        return coding.add_memo(self.project, target.kind, target.target, text.strip(), self.coder)

    def undo(self) -> Change:
        """Reverse the coder's last change, wherever it was."""
        return coding.undo(self.project, self.coder)

    def complete(self, text: str) -> list[str]:
        """Code paths for what has been typed so far, fuzzy-ranked."""
        with self.project.session() as session:
            return complete_code(session, text)

    def suggest(self) -> int:
        """Deductive suggestions for this transcript, made now if it has none; returns how many it has.

        spaCy is imported here, on demand, so that starting a session stays fast.
        """
        if count := self._suggestion_count():
            return count
        if (hidden := self._blind()) and self.transcript_id in hidden.transcripts:
            raise QualcodeError(f"{self.transcript_id} is in blind round {', '.join(hidden.rounds)}: suggestions would be"
                                " the autocoder's codings, hidden from you like everyone else's until the round is closed")
        try:
            from qualcode.suggestions.autocode import autocode
        except ImportError as exc:
            raise QualcodeError(f"automatic suggestions are not available: {exc}") from None
        autocode(self.project, transcripts=[self.transcript_id])
        return self._suggestion_count()

    def _suggestion_count(self) -> int:
        seen = shown(self._blind())
        with self.project.session() as session:
            return len(session.scalars(
                select(Coding.id).where(Coding.transcript_id == self.transcript_id, Coding.origin == "suggested", seen)
            ).all())

    # -- opening transcripts ----------------------------------------------------

    def _open(self, transcript_id: str, resume: bool = True) -> None:
        seen = shown(self._blind())
        with self.project.session() as session:
            transcript = get_transcript(session, transcript_id)
            turns = _walk(session, transcript.id, self.uncoded, seen)
            if self.uncertain:
                turns = most_uncertain_first(session, transcript.id, turns)
            if not turns and not self.uncoded:
                raise QualcodeError(
                    f"{transcript.id} has no participant turns to tag: qualcode could not read who speaks in it"
                    f" ('qualcode show {transcript.id}'); name its speaker labels under [speakers] in qualcode.toml"
                    f" and run 'qualcode import --reparse {transcript.id}'"
                )
            if not turns:
                raise QualcodeError(f"{transcript.id} has no uncoded participant turns to tag")
            self.header = _header(transcript)
            self._text = transcript.text
        self.transcript_id, self.turns = transcript.id, turns
        saved = load_position(self.project, self.coder, transcript.id) if resume else None
        self._go(_resume_index(turns, saved))

    def _starting_transcript(self) -> str:
        last = last_transcript(self.project, self.coder)
        seen = shown(self._blind())
        with self.project.session() as session:
            if last and session.get(Transcript, last) and _walk(session, last, True, seen):
                return last
        first = self._next_transcript(after=None)
        if first is None:
            raise QualcodeError("every participant turn has been coded; name a transcript to review it")
        return first

    def _next_transcript(self, after: str | None) -> str | None:
        """The first transcript (by id) after `after` that still has uncoded participant turns."""
        seen = shown(self._blind())
        with self.project.session() as session:
            ids = session.scalars(select(Transcript.id).order_by(Transcript.id)).all()
            for transcript_id in ids:
                if (after is None or transcript_id > after) and _walk(session, transcript_id, True, seen):
                    return transcript_id
        return None


def _walk(session: Session, transcript_id: str, uncoded: bool, seen: ColumnElement[bool]) -> list[TurnRef]:
    """The participant turns of a transcript in order; with `uncoded`, only those nobody has coded (that the
    coder can see: in a blind round, only their own codings count)."""
    turns = [
        TurnRef(t.number, t.start, t.end)
        for t in session.scalars(
            select(Turn).where(Turn.transcript_id == transcript_id, Turn.role == PARTICIPANT).order_by(Turn.number)
        )
    ]
    if not uncoded:
        return turns
    coded = session.execute(
        select(Coding.start, Coding.end)
        .where(Coding.transcript_id == transcript_id, Coding.origin.in_(CODED), Coding.anchor != UNPLACED, seen)
    ).all()
    return [t for t in turns if not any(s < t.end and e > t.start for s, e in coded)]


def most_uncertain_first(session: Session, transcript_id: str, turns: list[TurnRef]) -> list[TurnRef]:
    """The turns ordered by how unsure the suggestions on them are, most unsure first (then in order).

    A turn's certainty is its best suggestion's score; the learned models'
    (coder ``learned``), being calibrated, are preferred where they exist.
    Unsureness is ``1 - |2p - 1|``: 1 at a score of one half, 0 at 0 or 1; a
    turn without any suggestion counts as most unsure, since nothing there
    tells the models what it is. Coding those turns first teaches the models most.
    """
    from qualcode.suggestions.learning import LEARNED

    rows = session.execute(select(Coding.start, Coding.end, Coding.score, Coding.coder).where(
        Coding.transcript_id == transcript_id, Coding.origin == "suggested", Coding.anchor != UNPLACED)).all()

    def unsureness(turn: TurnRef) -> float:
        on = [(coder == LEARNED, score or 0.0) for start, end, score, coder in rows if start < turn.end and end > turn.start]
        if not on:
            return 1.0
        learned = [score for is_learned, score in on if is_learned]
        best = max(learned or [score for _, score in on])
        return 1 - abs(2 * best - 1)

    return sorted(turns, key=lambda turn: (-unsureness(turn), turn.number))


def _turn_and_before(session: Session, transcript_id: str, number: int) -> tuple[Turn, Turn | None]:
    rows = session.scalars(
        select(Turn).where(Turn.transcript_id == transcript_id, Turn.number.in_([number - 1, number]))
    ).all()
    by_number = {row.number: row for row in rows}
    return by_number[number], by_number.get(number - 1)


def _touching(session: Session, transcript: Transcript, start: int, end: int, seen: ColumnElement[bool]) -> list[OnTurn]:
    paths = code_paths(session)
    rows = session.scalars(
        select(Coding)
        .where(Coding.transcript_id == transcript.id, Coding.start < end, Coding.end > start, Coding.anchor != UNPLACED,
               seen)
        .order_by(Coding.start, Coding.id)
    )
    return [
        OnTurn(c.id, paths[c.code_id], c.origin, c.coder, c.start, c.end, c.score, c.memo, transcript.text[c.start : c.end],
               tuple(json.loads(c.evidence)) if c.evidence else ())
        for c in rows
    ]


def evidence_spans(text: str, evidence: tuple[str, ...]) -> list[tuple[int, int]]:
    """Where a suggestion's evidence is in `text`: each word or phrase, in any case and with any ending.

    Evidence is stored as lemmas ("inspector") and lower-cased phrases, so
    "Inspectors" is found by its start; a learned model's ``pattern:<code>``
    feature names no words and is skipped.
    """
    spans = []
    for item in evidence:
        if item.startswith("pattern:"):
            continue
        words = r"\W+".join(re.escape(word) for word in item.split())
        spans += [m.span() for m in re.finditer(rf"\b{words}\w*", text, flags=re.IGNORECASE)]
    return sorted(spans)


def _header(transcript: Transcript) -> dict[str, str]:
    """The participant's metadata the coder needs in view: who is speaking, from which school and where."""
    participant = transcript.participant
    school = participant.school
    fields = {
        "transcript": transcript.id,
        "participant": participant.id,
        "role": participant.role or participant.informant_kind,
        "school": school.id if school else None,
        "locality": participant.locality_name,
        "phase": school.phase if school else None,
        "type": school.school_type if school else None,
        "ofsted": school.ofsted if school else None,
        "date": transcript.interview_date.isoformat() if transcript.interview_date else None,
        "kind": transcript.kind,
    }
    return {key: str(value) for key, value in fields.items() if value}


def _resume_index(turns: list[TurnRef], saved: int | None) -> int:
    """The saved turn, or the first one after it if it has left the walk (coded, with --uncoded)."""
    if saved is None:
        return 0
    later = [i for i, turn in enumerate(turns) if turn.number >= saved]
    return later[0] if later else len(turns) - 1


# -- the resume position ----------------------------------------------------------


def _state_path(project: Project) -> Path:
    return project.root / STATE_FILE


def _read_state(project: Project) -> dict:
    try:
        state = json.loads(_state_path(project).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def load_position(project: Project, coder: str, transcript_id: str) -> int | None:
    """The turn number `coder` was last on in `transcript_id`, if any."""
    return _read_state(project).get(coder, {}).get("transcripts", {}).get(transcript_id)


def last_transcript(project: Project, coder: str) -> str | None:
    return _read_state(project).get(coder, {}).get("last")


def save_position(project: Project, coder: str, transcript_id: str, turn: int) -> None:
    """Record where `coder` is, atomically (write a temporary file, then rename) so a crash never leaves half a file."""
    state = _read_state(project)
    mine = state.setdefault(coder, {})
    mine["last"] = transcript_id
    mine.setdefault("transcripts", {})[transcript_id] = turn
    path = _state_path(project)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tag-state-", suffix=".json")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(state, file, indent=2, sort_keys=True)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
