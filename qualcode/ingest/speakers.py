"""Who says each line of a transcript, read the way transcripts are really written.

Transcription services, meeting software and researchers write speakers in a
handful of ways. Each is a row of `LABEL_FORMS`: ``Label:``, ``**Label:**``
(Markdown bold, and a bold run in Word, which the Word reader writes as
Markdown bold), ``Label (00:01:23):`` (Rev), ``[00:01:23] Label:`` and
``00:01:23 Label:`` (timestamped services, and what the WebVTT/SubRip readers
write), and Otter's ``Name  0:17`` alone on a line with the words below.

A label opens a turn only when qualcode knows who it is (`SpeakerRules`): the
transcript's `interviewer:` field, the project's ``[speakers]`` settings, the
conventional labels, the vocabulary's roles and, in an informant's interview,
the informant kinds. Anything else that merely looks like a label is accepted
as a speaker only when it recurs and looks like a name (two people talking), so
"Ofsted: they came in March" inside an answer stays speech; a label-like line
that is not accepted is reported, never dropped quietly. When no interviewer is
known among several speakers, the one asking most of the questions is taken
for the interviewer, and the reading says it guessed.

`start`/`end` of a turn cover its words only: the label, the timestamp and the
blank lines around are outside, so codings and quotes never include them.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain

INTERVIEWER = "interviewer"
PARTICIPANT = "participant"
NOTE = "note"
HEADER = "header"
ROLES = (INTERVIEWER, PARTICIPANT, NOTE, HEADER)

#: Labels by convention, before the project's `[speakers]` settings (which add to these).
CONVENTIONAL_LABELS = {
    INTERVIEWER: ("interviewer", "researcher", "int", "i", "q", "question", "facilitator", "moderator"),
    PARTICIPANT: ("interviewee", "respondent", "participant", "r", "a", "answer", "p"),
    NOTE: ("note", "notes"),
}
#: Numbered participants ('P1', 'Respondent 2') of focus groups and anonymised transcripts.
_NUMBERED_PARTICIPANT = re.compile(r"(?:p|r|participant|respondent|interviewee)\s?\d{1,3}")
#: Labels that name nobody: whoever asks the questions is the interviewer.
_GENERIC = re.compile(r"speaker\s?\d{1,3}|spk\s?\d{1,3}|unknown speaker|voice \d{1,3}")

#: Header fields transcription services write above the first turn (compared in lower case).
HEADER_FIELDS = frozenset({
    "client", "audio file", "audio", "file", "file name", "filename", "media", "media file", "recording",
    "duration", "length", "audio length", "transcriber", "transcribed by", "transcription date",
    "date transcribed", "date", "interview date", "time", "project", "job", "job number", "job id",
    "order", "order number", "reference", "title", "location", "speakers", "turnaround", "source",
    "transcript", "transcription", "notes for transcriber", "accuracy", "language",
})

TIGHT = "tight"
_TIME = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?"
# Up to five words, and a note in brackets that is not a time ('Jane Smith (she/her)', as Zoom shows names).
_LABEL = r"[A-Za-z][\w'’.\-]*+(?:[ \t][\w'’.\-]++){0,4}(?:[ \t]\([^()\n:\d][^()\n:]{0,30}\))?"
# Word and typists put a tab or spaces before a label, and a space (often a no-break space, as French
# typography does) before or after its colon: 'Respondent : words', '\tR: words'. A colon with no
# space after it ('Teacher:pupil ratios') stays speech.
_BLANK = "[ \t\u00a0]"
_INDENT = f"{_BLANK}*"
#: The line shapes that open a turn, tried in order. Each names `label`, and `time` if it has one.
LABEL_FORMS = (
    ("bold", rf"\*\*(?P<label>[^*\n:]{{1,60}}?)(?:[ \t]*\((?P<time>{_TIME})\))?:[ \t]*\*\*[ \t]*"),
    ("bold", rf"\*\*(?P<label>[^*\n:]{{1,60}}?)(?:[ \t]*\((?P<time>{_TIME})\))?\*\*:[ \t]*"),
    ("plain",
     rf"{_INDENT}(?:\[(?P<time>{_TIME})\][ \t]*|\((?P<ptime>{_TIME})\)[ \t]*|(?P<btime>{_TIME})[ \t]+)?"
     rf"(?P<label>{_LABEL}?)(?:[ \t]*\((?P<rtime>{_TIME})\))?{_BLANK}*:(?:{_BLANK}+|$)"),
    ("otter", rf"(?P<label>{_LABEL}?)[ \t]+(?P<time>{_TIME})[ \t]*$"),
    # Never opens a turn: a known label with no space after its colon ('Respondent:Yes'), or a dash or a
    # full stop for a colon ('Interviewer - How long?', 'Q. How long?'), is reported.
    (TIGHT, rf"{_INDENT}(?P<label>{_LABEL}?)(?:{_BLANK}*:+(?=[^\s:\d])|[ \t]*[-\u2013\u2014][ \t]+|(?<=\.)[ \t]+)"),
)


def _one_pattern(forms) -> tuple[re.Pattern, dict[str, tuple[str, str, list[str]]]]:
    """All forms as one expression, so each line start is tried once, in C.

    Each form's groups are renamed apart ('label2', 'time2', ...) and the form
    is a group of its own ('form2'): it closes last, so `match.lastgroup` names
    the form that matched. Returns the expression and, by that name, the form,
    its label group and its time groups.
    """
    alternatives, groups = [], {}
    for n, (form, expression) in enumerate(forms):
        names = re.findall(r"\(\?P<(\w+)>", expression)
        alternatives.append(f"(?P<form{n}>" + re.sub(r"\(\?P<(\w+)>", rf"(?P<\g<1>{n}>", expression) + ")")
        groups[f"form{n}"] = (form, f"label{n}", [f"{name}{n}" for name in names if name != "label"])
    return re.compile("^(?:" + "|".join(alternatives) + ")", re.MULTILINE), groups


_LABEL_LINE, _FORM_GROUPS = _one_pattern(LABEL_FORMS)
#: The same after a line break: a search for a pattern that starts with a literal character jumps from one to
#: the next, where '^' is tried at every character (no match spans lines, so the matches are the same).
_LABEL_AFTER_BREAK = re.compile("\n" + _LABEL_LINE.pattern.removeprefix("^"), re.MULTILINE)
_NAME_WORD = re.compile(r"(?:[A-Z][\w'’.\-]*|\d{1,3}|de|van|von|der|den|da|di|du|le|la|bin|al|\(.*\))$")


@dataclass(frozen=True)
class Turn:
    """One speaker turn: `start`/`end` are character offsets into the text; `time` is in seconds."""

    speaker: str
    start: int
    end: int
    role: str = PARTICIPANT
    time: float | None = None


@dataclass
class SpeakerRules:
    """Which labels mean whom, all in lower case; `from_settings` builds them for one transcript."""

    interviewer: frozenset[str]
    participant: frozenset[str]
    note: frozenset[str] = frozenset(CONVENTIONAL_LABELS[NOTE])
    #: Vocabulary words that are never a speaker unless named above ("Ofsted: they came in March").
    content_words: frozenset[str] = frozenset()

    def role_of(self, label: str) -> str | None:
        key = label_key(label)
        if key in self.interviewer:
            return INTERVIEWER
        if key in self.note:
            return NOTE
        if key in self.participant or _NUMBERED_PARTICIPANT.fullmatch(key):
            return PARTICIPANT
        return None

    @classmethod
    def from_settings(cls, settings, meta: dict | None = None) -> SpeakerRules:
        """The project's `[speakers]` labels, its roles and aliases, and this transcript's `interviewer:`.

        Informant kinds ('RSC:', 'LA officer:' through an alias) are participant
        labels only in a system informant's interview; elsewhere they are words.
        """
        meta = meta or {}
        vocabularies = settings.vocabularies
        configured = settings.raw.get("speakers", {})
        interviewer = [*CONVENTIONAL_LABELS[INTERVIEWER], *configured.get("interviewer", [])]
        if meta.get("interviewer"):
            interviewer.append(str(meta["interviewer"]))
        participant = [
            *CONVENTIONAL_LABELS[PARTICIPANT], *configured.get("participant", []),
            *vocabularies.values.get("role", []), *vocabularies.aliases.get("role", {}),
        ]
        kinds = [*vocabularies.values.get("informant_kind", []), *vocabularies.aliases.get("informant_kind", {})]
        if meta.get("informant_kind"):
            participant += kinds
        if isinstance(meta.get("speakers"), dict):  # a focus group's mapped labels are its participants'
            participant += [str(label) for label in meta["speakers"]]
        content = [word for name, values in vocabularies.values.items() if name != "role" for word in values]
        content += [*kinds, "ofsted"]
        note = [*CONVENTIONAL_LABELS[NOTE], *configured.get("note", [])]
        return cls(_keys(interviewer), _keys(participant), _keys(note), _keys(content))


def known_labels(settings) -> frozenset[str]:
    """Every label the project knows in any transcript (lower case): they name a role, not a person."""
    rules = SpeakerRules.from_settings(settings, {"informant_kind": True})
    return rules.interviewer | rules.participant | rules.note


@dataclass
class Speaker:
    """A label as read in one transcript: how it was read, and how often it spoke."""

    label: str
    role: str
    turns: int
    #: True when the role was worked out from who asks the questions, not known.
    guessed: bool = False
    questions: int = 0


@dataclass
class Reading:
    """The turns of one text, the speakers behind them, and what could not be read for sure."""

    turns: list[Turn]
    speakers: list[Speaker]
    #: 0-based lines that look like a speaker label but were read as speech, with the label.
    unread_labels: list[tuple[int, str]] = field(default_factory=list)
    #: 0-based lines that start with a speaker's label but not ': ' after it ('R:Yes', 'I - So?'), read as speech.
    unspaced_labels: list[tuple[int, str]] = field(default_factory=list)

    @property
    def participant_turns(self) -> int:
        return sum(1 for turn in self.turns if turn.role == PARTICIPANT)

    @property
    def guessed(self) -> list[Speaker]:
        return [speaker for speaker in self.speakers if speaker.guessed]


@dataclass(slots=True)
class _Candidate:
    offset: int
    label: str
    key: str
    form: str
    time: float | None
    #: Where the words after the label start, as an offset into the text.
    rest: int
    has_words: bool


def read_speakers(text: str, rules: SpeakerRules) -> Reading:
    """Find the turns of `text` and who speaks each (see the module docstring for the rules)."""
    found = _candidates(text)
    candidates = [c for c in found if c.form != TIGHT]
    header = _header_lines(candidates, rules)
    roles, guessed = _roles(text, candidates, header, rules)
    turns = _turns(text, candidates, header, roles)
    speakers = _speakers(turns, roles, guessed, text)
    unread = [
        (text.count("\n", 0, c.offset), c.label) for c in candidates
        if c.offset not in header and c.key not in roles and _looks_like_label(c, rules)
    ]
    unspaced = [
        (text.count("\n", 0, c.offset), c.label.rstrip(".")) for c in found
        if c.form == TIGHT and ((key := c.key.rstrip(".")) in roles or rules.role_of(key) is not None)
    ]
    return Reading(turns, speakers, unread, unspaced)


def _candidates(text: str) -> list[_Candidate]:
    """Every line that has the shape of a speaker label, whoever it names."""
    found = []
    size = len(text)
    first = _LABEL_LINE.match(text)
    for match in chain([first] if first else [], _LABEL_AFTER_BREAK.finditer(text, first.end() if first else 0)):
        form, label_group, time_groups = _FORM_GROUPS[match.lastgroup]
        label = match.group(label_group).strip()
        if label:
            time = next(filter(None, map(match.group, time_groups)), None)
            end = match.end()
            # Every form swallows the blanks after its label: words follow unless the line ends there.
            words = end < size and text[end] != "\n"
            found.append(_Candidate(match.start(match.lastgroup), label, label_key(label), form, _seconds(time), end, words))
    return found


def _header_lines(candidates: list[_Candidate], rules: SpeakerRules) -> set[int]:
    """Lines of a transcription service's header ('Duration: 00:45:12') above the first turn, by offset."""
    header: set[int] = set()
    for candidate in candidates:
        key = candidate.key
        if rules.role_of(key) is not None or key not in HEADER_FIELDS or not candidate.has_words:
            break
        header.add(candidate.offset)
    return header


def _roles(text, candidates, header, rules) -> tuple[dict[str, str], set[str]]:
    """The role of each accepted label (lower-cased), and the labels whose role was guessed."""
    roles: dict[str, str] = {}
    unknown: Counter[str] = Counter()
    strong: set[str] = set()
    for candidate in candidates:
        if candidate.offset in header:
            continue
        key = candidate.key
        role = rules.role_of(key)
        if role is not None:
            roles[key] = role
        elif _name_like(candidate.label) and key not in rules.content_words and key not in HEADER_FIELDS:
            unknown[key] += 1
            if candidate.form != "plain" or candidate.time is not None:
                strong.add(key)
    # A name that speaks more than once, or in a form nobody writes by accident, is a speaker.
    others = [key for key, count in unknown.items() if count >= 2 or key in strong or _GENERIC.fullmatch(key)]
    guessed: set[str] = set()
    if not others:
        return roles, guessed
    if INTERVIEWER in roles.values():
        roles.update({key: PARTICIPANT for key in others})
        return roles, guessed
    questions = _questions(text, candidates, header, {**roles, **{key: "?" for key in others}})
    asker = max(others, key=lambda key: (questions.get(key, 0), -others.index(key)))
    known_askers = [key for key in roles if roles[key] == PARTICIPANT and questions.get(key, 0) > questions.get(asker, 0)]
    for key in others:
        roles[key] = INTERVIEWER if key == asker and not known_askers and questions.get(asker, 0) else PARTICIPANT
        guessed.add(key)
    return roles, guessed


def _questions(text, candidates, header, roles) -> Counter[str]:
    """How many question marks each accepted label's turns hold."""
    counts: Counter[str] = Counter()
    for turn in _turns(text, candidates, header, roles):
        counts[label_key(turn.speaker)] += text.count("?", turn.start, turn.end)
    return counts


def _turns(text, candidates, header, roles) -> list[Turn]:
    """Cut the text into turns at the accepted labels; the lines between continue the turn before.

    A turn's words run from after its label (or from the next line's first
    word, when the label stands alone) to the last word before the next label.
    """
    opening = [c for c in candidates if c.offset in header or c.key in roles]
    turns = []
    for candidate, following in zip(opening, [*opening[1:], None]):
        stop = following.offset if following is not None else len(text)
        words = text[candidate.rest:stop]
        start = candidate.rest + len(words) - len(words.lstrip())
        end = candidate.rest + len(words.rstrip())
        if end > start:
            turns.append(_turn(candidate, start, end, header, roles))
    return turns


def _turn(candidate: _Candidate, start: int, end: int, header: set[int], roles: dict[str, str]) -> Turn:
    role = HEADER if candidate.offset in header else roles[candidate.key]
    return Turn(candidate.label, start, end, role, candidate.time)


def _speakers(turns: list[Turn], roles: dict[str, str], guessed: set[str], text: str) -> list[Speaker]:
    """One `Speaker` per label that opened a turn, in order of first appearance."""
    speakers: dict[str, Speaker] = {}
    for turn in turns:
        if turn.role == HEADER:
            continue
        key = label_key(turn.speaker)
        speaker = speakers.setdefault(key, Speaker(turn.speaker, turn.role, 0, key in guessed))
        speaker.turns += 1
        speaker.questions += text.count("?", turn.start, turn.end)
    return list(speakers.values())


def _looks_like_label(candidate: _Candidate, rules: SpeakerRules) -> bool:
    """Worth a warning: a name-like label, not a word of the study's vocabularies said in passing."""
    if candidate.form != "plain" or candidate.time is not None:
        return True
    return _name_like(candidate.label) and candidate.key not in rules.content_words


def _name_like(label: str) -> bool:
    """Up to four words, each capitalised (or a number, as in 'Speaker 2'): how names and labels are written."""
    words = label.split()
    return 1 <= len(words) <= 4 and all(_NAME_WORD.match(word) for word in words)


def _seconds(time: str | None) -> float | None:
    if not time:
        return None
    parts = [float(part) for part in time.replace(",", ".").split(":")]
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds


def format_time(seconds: float | None) -> str | None:
    """``01:02:03`` for 3723 seconds: how timestamps are shown and exported."""
    if seconds is None:
        return None
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


@lru_cache(maxsize=4096)
def label_key(label: str) -> str:
    return " ".join(label.lower().replace("’", "'").split())


def _keys(labels) -> frozenset[str]:
    return frozenset(label_key(str(label)) for label in labels)
