"""`qualcode check`: is every quote in a report attributed right, said as quoted, and safe to publish?

Four checks per quote (see `reportfiles` for how quotes are found):

- **format**: the attribution line follows the project's format (`attribution.read`);
- **fidelity**: the words are in the corpus, allowing the usual editing marks
  (omissions, [insertions], (sic), typographic quotes and dashes, capitals),
  else the closest passage is reported with its rapidfuzz score;
- **truth**: the person who said them has metadata that renders to the line;
- **leak**: no name from the identity key appears anywhere in the report.

Matching is narrowed first: an inverted index from words to transcripts picks
the few transcripts that hold a quote's rarest words, and only those are
searched (exactly, then fuzzily).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rapidfuzz import fuzz
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from qualcode import attribution
from qualcode.models import Participant, School, Transcript
from qualcode.project import Project
from qualcode.reportfiles import Document, Quote, read_document

#: 1:1 character folding, so offsets in folded text are offsets in the original.
_FOLD = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-", "\n": " ", "\t": " ", "…": "."})
_OMISSION = re.compile(r"\s*(?:\[\s*(?:\.\.\.|…)\s*\]|\.\.\.|…|\[[^\]]*\])\s*")
_MARKS = re.compile(r"\((?:sic|original emphasis|emphasis added)\)|[*_]", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9']+")
FUZZY_WARNING = 85.0
MIN_FRAGMENT_WORDS = 2


@dataclass
class Finding:
    file: str
    line: int
    check: str  # format | fidelity | truth | leak
    severity: str  # error | warning
    message: str
    found: str | None = None
    expected: str | None = None


@dataclass
class CheckResult:
    quotes: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    def to_json(self) -> dict:
        return {"quotes": self.quotes, "findings": [asdict(f) for f in self.findings]}


@dataclass
class _Source:
    transcript: Transcript
    folded: str
    participant: Participant


@dataclass
class Match:
    transcript_id: str
    start: int
    end: int
    score: float
    exact: bool


class Corpus:
    """The project's transcripts, folded for matching, with a word → transcripts index."""

    def __init__(self, project: Project):
        with project.session() as session:
            transcripts = session.scalars(
                select(Transcript).options(
                    selectinload(Transcript.turns),
                    selectinload(Transcript.participant).selectinload(Participant.school).selectinload(School.designations),
                )
            ).all()
        self.sources = {t.id: _Source(t, t.text.lower().translate(_FOLD), t.participant) for t in transcripts}
        self.index: dict[str, set[str]] = defaultdict(set)
        for transcript_id, source in self.sources.items():
            for word in set(_WORD.findall(source.folded)):
                self.index[word].add(transcript_id)

    def candidates(self, words: list[str], limit: int = 5) -> list[str]:
        """Transcripts holding the most of the quote's rarest words."""
        known = sorted({w for w in words if w in self.index}, key=lambda w: len(self.index[w]))[:8]
        votes = Counter(t for word in known for t in self.index[word])
        return [transcript_id for transcript_id, _ in votes.most_common(limit)]

    def locate(self, quote: str) -> Match | None:
        """Where the quote was said: all its fragments in order in one transcript, else the best fuzzy passage."""
        fragments = fragments_of(quote)
        if not fragments:
            return None
        words = [w for fragment in fragments for w in _WORD.findall(fragment)]
        candidates = self.candidates(words)
        for transcript_id in candidates:
            found = _in_order(self.sources[transcript_id].folded, fragments)
            if found is not None:
                return Match(transcript_id, found[0], found[1], 100.0, True)
        return self._fuzzy(" ".join(fragments), candidates)

    def _fuzzy(self, needle: str, candidates: list[str]) -> Match | None:
        best = None
        for transcript_id in candidates:
            alignment = fuzz.partial_ratio_alignment(needle, self.sources[transcript_id].folded)
            if alignment and (best is None or alignment.score > best.score):
                best = Match(transcript_id, alignment.dest_start, alignment.dest_end, round(alignment.score, 1), False)
        return best

    def speaker_at(self, match: Match) -> tuple[str | None, Participant]:
        """The speaker label of the turn that holds the match, and the interview's participant."""
        source = self.sources[match.transcript_id]
        turns = source.transcript.turns
        starts = [turn.start for turn in turns]
        index = bisect_right(starts, match.start) - 1
        turn = turns[index] if index >= 0 and match.start < turns[index].end else None
        label = None if turn is None else ("interviewer" if turn.is_interviewer else turn.speaker)
        return label, source.participant

    def passage(self, match: Match) -> str:
        return " ".join(self.sources[match.transcript_id].transcript.text[match.start : match.end].split())


def fragments_of(quote: str) -> list[str]:
    """A quote's own words: split at omissions and [insertions], marks removed, folded for matching."""
    text = _MARKS.sub("", quote).translate(_FOLD).lower()
    text = text.strip(" '\"")
    pieces = [" ".join(piece.split()).strip(" .,;:'\"-") for piece in _OMISSION.split(text)]
    return [piece for piece in pieces if len(piece.split()) >= MIN_FRAGMENT_WORDS]


def _in_order(text: str, fragments: list[str]) -> tuple[int, int] | None:
    """Start of the first and end of the last fragment, each found after the one before."""
    position, first = 0, None
    for fragment in fragments:
        found = text.find(fragment, position)
        if found == -1:
            return None
        first = found if first is None else first
        position = found + len(fragment)
    return first, position


def check_report(project: Project, path: Path, fmt: str | None = None, corpus: Corpus | None = None) -> CheckResult:
    """Run every check on one report file."""
    document = read_document(path, fmt)
    corpus = corpus or Corpus(project)
    result = CheckResult(quotes=len(document.quotes))
    for quote in document.quotes:
        result.findings += _check_quote(project, corpus, document, quote)
    result.findings += _leaks(project, document)
    result.findings.sort(key=lambda f: (f.line, f.check))
    return result


def _check_quote(project: Project, corpus: Corpus, document: Document, quote: Quote) -> list[Finding]:
    file = str(document.path)
    findings: list[Finding] = []
    match = corpus.locate(quote.text)
    truth = None
    if match is None or match.score < FUZZY_WARNING:
        closest = f"; the closest passage ({match.score:.0f}) is in {match.transcript_id}: '{corpus.passage(match)[:120]}'" if match else ""
        findings.append(Finding(file, quote.line, "fidelity", "error", f"quote not found in the corpus{closest}", _short(quote.text)))
    else:
        if not match.exact:
            findings.append(Finding(
                file, quote.line, "fidelity", "warning",
                f"quote differs from the source ({match.score:.0f}% alike); the source in {match.transcript_id} reads "
                f"'{corpus.passage(match)}'",
                _short(quote.text), corpus.passage(match),
            ))
        label, participant = corpus.speaker_at(match)
        if label in (None, "interviewer") or label.lower() in ("note", "notes"):
            who = "the interviewer" if label == "interviewer" else "the researcher's notes" if label else "no speaker turn"
            findings.append(Finding(file, quote.line, "truth", "error",
                                    f"quote is from {who} in {match.transcript_id}, not from a participant", _short(quote.text)))
        else:
            truth = attribution.speaker_for(participant)
    if quote.inline:
        return findings
    if quote.attribution is None:
        return findings + [Finding(file, quote.line, "format", "error", "quote has no attribution line after it")]
    return findings + _check_attribution(project, file, quote, truth, match)


def _check_attribution(project: Project, file: str, quote: Quote, truth, match: Match | None) -> list[Finding]:
    settings = project.settings
    line, written = quote.attribution_line, quote.attribution
    reading = attribution.read(settings, written)
    if reading is None:
        expected = attribution.render(settings, truth) if truth else None
        return [Finding(file, line, "format", "error", f"'{written}' is not an attribution line", written, expected)]
    findings = []
    expected = attribution.corrected(settings, reading, truth)
    if expected != written:
        detail = f"; expected '{expected}'" if expected else f"; it does not state the {', '.join(reading.missing)}"
        notes = f" ({'; '.join(reading.notes)})" if reading.notes else ""
        findings.append(Finding(file, line, "format", "error", f"'{written}' does not follow the format{detail}{notes}", written, expected))
    if truth is not None:
        actual = attribution.render(settings, truth)
        stated = attribution.corrected(settings, reading, truth)
        if stated != actual:
            findings.append(Finding(
                file, line, "truth", "error",
                f"attributed to '{stated}' but said by {match.transcript_id}: '{actual}'", written, actual,
            ))
    return findings


def _leaks(project: Project, document: Document) -> list[Finding]:
    """Any identity-key name, or a near spelling of one, anywhere in the report."""
    try:
        from qualcode.anonymise import leaks
    except ImportError:  # anonymisation not installed in this build
        return []
    findings = []
    for number, line in enumerate(document.lines, start=1):
        for leak in leaks(project, line):
            findings.append(Finding(str(document.path), number, "leak", "error",
                                    f"'{leak.text}' is a name in the identity key ({leak.entry_kind})", leak.text))
    return findings


def _short(text: str, limit: int = 100) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def fix_report(document: Document, result: CheckResult, out: Path) -> Path:
    """Write a copy of the report with each attribution line corrected; quote text is never touched."""
    fixes = {f.line: (f.found, f.expected) for f in result.findings if f.check in ("format", "truth") and f.expected and f.found}
    if document.fmt == "docx":
        import docx

        word = docx.Document(str(document.path))
        for number, paragraph in enumerate(word.paragraphs, start=1):
            if number in fixes and paragraph.text.strip() == fixes[number][0]:
                paragraph.text = fixes[number][1]
        word.save(str(out))
        return out
    lines = document.path.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    for number, (found, expected) in fixes.items():
        if found in lines[number - 1]:
            lines[number - 1] = lines[number - 1].replace(found, expected, 1)
    out.write_text("".join(lines), encoding="utf-8")
    return out
