"""Caption files as meeting software delivers transcripts: WebVTT (Zoom, Teams) and SubRip.

A caption file is a list of short timed cues; a transcript is a list of
speaker turns. The reader joins consecutive cues of one speaker into one turn
and writes each turn as a paragraph ``[HH:MM:SS] Name: words`` (the time its
first cue starts), the canonical line that qualcode's speaker parser reads.
The speaker comes from a voice tag (``<v Jane Smith>``, Teams) or from
``Name: words`` at the start of a cue (Zoom); a cue without one continues the
turn before it. Timings, cue ids, header lines, NOTE/STYLE/REGION blocks,
inline tags and HTML entities are the format, not the words, and are dropped.

Hand-written rather than webvtt-py: that library skips a cue whose timing
line is broken without a word, reports no line numbers, keeps entities, and
sees only a voice tag on a cue's first line; a researcher must be told which
line of which file is wrong.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from qualcode.errors import Problem
from qualcode.ingest.transcript import ParsedTranscript, converted, read_text

CAPTION_SUFFIXES = (".vtt", ".srt")

# Lenient where the meaning is plain: SRT's comma, no hours, 1-3 digits of a second, no spaces round '-->'.
_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{2})[.,]\d{1,3}"
_TIMING = re.compile(rf"^\s*{_TIME}[ \t]*-->[ \t]*{_TIME}(?:[ \t].*)?$")
# What a timing line broken beyond reading still looks like: `00:00:01.000 -> ...`.
_TIMING_LIKE = re.compile(r"^\s*\d+:\d")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?[ \t]+([^>]*)>")
# Other inline tags: <c.yellow>, </c>, <i>, <b>, <u>, <lang en>, <font color=...> and <00:00:06.000>.
_TAG = re.compile(r"</?[A-Za-z][^<>]*>|<\d[\d:.]*>")
# Zoom's `Jane Smith: words`: a name of up to five words that starts with a capital
# (`Jane Smith (she/her)` too), so that "so what I said: ..." is not taken for a name.
_NAMED = re.compile(r"^(?P<name>[A-Z][\w'.\-]*(?: [\w'.\-()/]+){0,4})[ \t\u00a0]*:\s+(?P<words>.*)$")
# Subtitle dialogue: each speaker's line in a cue starts with a dash ('- Interviewer: How long?').
_DASHED = re.compile(r"^\s*[-\u2013\u2014]\s*(?=\S)")
_SKIPPED_BLOCK = re.compile(r"(?:NOTE|STYLE|REGION)(?:[ \t]|$)")
EXAMPLE_TIMING = "'00:00:01.000 --> 00:00:04.000'"


@dataclass
class Cue:
    """The words of one cue (or of one voice span in it), with who said them and when (in seconds)."""

    start: int
    speaker: str | None
    words: str


def parse_caption_file(path: Path) -> ParsedTranscript:
    """Read a ``.vtt`` or ``.srt`` file into a body of turns; metadata comes from a sidecar ``.yaml``.

    Each turn is written ``[HH:MM:SS] Name: words``, a timestamped form that
    `qualcode.ingest.speakers` takes as a speaker whatever the name, and reads like
    any other transcript (who is the interviewer, what could not be read).
    """
    text, encoding = read_text(path)
    cues = read_cues(text.split("\n"), path, webvtt=path.suffix.lower() == ".vtt")
    body = transcript_body(cues)
    return ParsedTranscript(path, {}, {}, body, 1, encoding, converted(encoding))


def read_cues(lines: list[str], path: Path, webvtt: bool) -> list[Cue]:
    """Every cue in the file, in order; a block without a good timing line is a `Problem` naming its line."""
    blocks = _blocks(lines)
    if webvtt:
        if not blocks or not re.match(r"WEBVTT(?:[ \t]|$)", blocks[0][1][0]):
            raise Problem(path, 1, None, "a WebVTT file starts with a 'WEBVTT' line")
        _no_timing_in(blocks[0], 1, path)
        blocks = [block for block in blocks[1:] if not _SKIPPED_BLOCK.match(block[1][0])]
    cues: list[Cue] = []
    for first, block in blocks:
        cues += _cue(first, block, path)
    if not cues:
        raise Problem(path, 1, None, f"no cues: expected timing lines such as {EXAMPLE_TIMING}")
    return cues


def _blocks(lines: list[str]) -> list[tuple[int, list[str]]]:
    """Runs of non-blank lines, each with the file line (1-based) it starts on."""
    blocks: list[tuple[int, list[str]]] = []
    after_blank = True
    for number, line in enumerate(lines, start=1):
        if line.strip() and after_blank:
            blocks.append((number, [line]))
        elif line.strip():
            blocks[-1][1].append(line)
        after_blank = not line.strip()
    return blocks


def _cue(first: int, block: list[str], path: Path) -> list[Cue]:
    """One cue block: an optional identifier, the timing line, then the payload."""
    at = next((i for i, line in enumerate(block[:2]) if "-->" in line or _TIMING_LIKE.match(line)), None)
    if at is None:
        raise Problem(path, first, None, f"expected a cue timing line such as {EXAMPLE_TIMING}, found {block[0]!r}")
    timing = _TIMING.match(block[at])
    if timing is None:
        raise Problem(path, first + at, None, f"broken cue timing line {block[at]!r}: expected one such as {EXAMPLE_TIMING}")
    _no_timing_in((first, block), at + 1, path)
    hours, minutes, seconds = (int(part or 0) for part in timing.groups()[:3])
    start = hours * 3600 + minutes * 60 + seconds
    return [cue for lines in _speaker_lines(block[at + 1 :]) for cue in _segments(start, " ".join(lines))]


def _speaker_lines(payload: list[str]) -> list[list[str]]:
    """A cue's lines, split where a dashed line names its speaker ('- Respondent: Six years.'), the dash
    dropped; joined, two speakers' words went into one speakerless paragraph."""
    groups: list[list[str]] = [[]]
    for line in payload:
        undashed = _DASHED.sub("", line, count=1)
        if undashed != line and _NAMED.match(_plain(undashed)):
            groups.append([undashed])
        else:
            groups[-1].append(line)
    return [lines for lines in groups if lines]


def _no_timing_in(block: tuple[int, list[str]], skip: int, path: Path) -> None:
    """A timing line inside a block means a missing blank line: two cues would silently run together."""
    first, lines = block
    for number, line in enumerate(lines[skip:], start=first + skip):
        if "-->" in line:
            raise Problem(path, number, None, "a cue timing line with no blank line before it")


def _segments(start: int, payload: str) -> list[Cue]:
    """Split a cue's text at voice tags; without any, a leading `Name:` names the speaker."""
    voices = list(_VOICE.finditer(payload))
    if not voices:
        words = _plain(payload)
        named = _NAMED.match(words)
        return [Cue(start, named["name"], named["words"]) if named else Cue(start, None, words)]
    cues = [Cue(start, None, _plain(payload[: voices[0].start()]))]
    for voice, after in zip(voices, [*voices[1:], None]):
        words = payload[voice.end() : after.start() if after else len(payload)]
        cues.append(Cue(start, _plain(voice[1]) or None, _plain(words)))
    return cues


def _plain(text: str) -> str:
    """Words without tags or entities, on one line with single spaces."""
    return " ".join(html.unescape(_TAG.sub("", text)).split())


def transcript_body(cues: list[Cue]) -> str:
    """Paragraphs ``[HH:MM:SS] Name: words`` joined by blank lines.

    A cue with no speaker joins the turn before it; with no turn before it,
    it is a paragraph ``[HH:MM:SS] words`` of its own, not a turn.
    """
    paragraphs: list[tuple[int, str | None, list[str]]] = []
    for cue in cues:
        if not cue.words:
            continue
        last = paragraphs[-1] if paragraphs else None
        if last and last[1] is not None and cue.speaker in (None, last[1]):
            last[2].append(cue.words)
        else:
            paragraphs.append((cue.start, cue.speaker, [cue.words]))
    body = ""
    for start, speaker, words in paragraphs:
        hours, rest = divmod(start, 3600)
        lead = f"[{hours:02d}:{rest // 60:02d}:{rest % 60:02d}] " + (f"{speaker}: " if speaker else "")
        body += lead + " ".join(words) + "\n\n"
    return body.rstrip("\n") + "\n"
