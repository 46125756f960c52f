"""`qualcode check`: is every quote in a report attributed right, said as quoted, and safe to publish?

Four checks per quote (see `reportfiles` for how quotes are found):

- **format**: the attribution line follows the project's format (`attribution.read`);
- **fidelity**: the words are in the corpus, allowing the usual editing marks
  (omissions, [insertions], (sic), typographic quotes and dashes, capitals),
  else the closest passage is reported with its rapidfuzz score;
- **truth**: the person who said them has metadata that renders to the line;
- **leak**: no name from the identity key appears anywhere in the report.

Matching is narrowed first: an index of adjacent word pairs (`WordPairs`)
picks the few transcripts that can hold a quote, and only those are searched
exactly; an inverted index from words to transcripts ranks them, and picks the
transcripts a quote found nowhere is compared with fuzzily. A report's lines
are matched against the identity key a chunk at a time (`line_leaks`).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from functools import cached_property
from itertools import accumulate, groupby
from pathlib import Path

from rapidfuzz import fuzz
from sqlalchemy import Row, select
from sqlalchemy.orm import selectinload

from qualcode.reports import attribution
from qualcode.models import Participant, School, Transcript, Turn
from qualcode.project import Project
from qualcode.reports.reportfiles import Document, Quote, read_document
from qualcode.ingest.speakers import HEADER, INTERVIEWER, NOTE, PARTICIPANT
from qualcode.ingest.transcript import read_text

#: 1:1 character folding, so offsets in folded text are offsets in the original.
_FOLD = {"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-", "\n": " ", "\t": " ", "…": "."}
_OMISSION = re.compile(r"\s*(?:\[\s*(?:\.\.\.|…)\s*\]|\.\.\.|…|\[[^\]]*\])\s*")
_MARKS = re.compile(r"\((?:sic|original emphasis|emphasis added)\)|[*_]", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9']+")
#: The shape of qualcode's ids ('SOU-S03-BM', 'Q-EAS-S04-HT-0153'); only those the project holds are masked.
_ID_SHAPE = re.compile(r"\b(?:Q-)?([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+)\b")
_QUOTE_NUMBER = re.compile(r"-\d{4}$")
#: Who said a quote that no participant said, by the role of the turn that holds it.
#: A quote whose pieces are said by more than one speaker (a focus group's turns joined by an omission).
_SEVERAL = "several"
_NOT_SAID_BY_PARTICIPANT = {
    INTERVIEWER: "the interviewer", NOTE: "the researcher's notes", HEADER: "the transcript's header",
    _SEVERAL: "more than one speaker",
}
FUZZY_WARNING = 85.0


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
    #: Where each of the quote's pieces is (one span for the whole quote, or a fuzzy passage).
    spans: tuple[tuple[int, int], ...] = ()

    def __post_init__(self) -> None:
        self.spans = self.spans or ((self.start, self.end),)


class Corpus:
    """The project's transcripts, folded for matching, with a word → transcripts index.

    Turns are read as plain rows, and only when a speaker is asked for: a
    corpus of 1,800 interviews has a quarter of a million of them.
    """

    def __init__(self, project: Project):
        self.project = project
        with project.session() as session:
            transcripts = session.scalars(
                select(Transcript).options(
                    selectinload(Transcript.participant).selectinload(Participant.school).selectinload(School.partnerships),
                )
            ).all()
        self.sources = {t.id: _Source(t, fold(t.text), t.participant) for t in transcripts}
        self.known_ids = _known_ids(transcripts)
        self.index: dict[str, set[str]] = defaultdict(set)
        pairs = []
        for transcript_id, source in self.sources.items():
            said = _WORD.findall(source.folded)
            for word in set(said):
                self.index[word].add(transcript_id)
            pairs.append(WordPairs.of(said))
        self.pairs = WordPairs(list(self.sources), pairs)

    def rarest(self, words: list[str]) -> list[str]:
        """The quote's (at most eight) rarest words the corpus holds: the ones that rank transcripts."""
        return sorted({w for w in words if w in self.index}, key=lambda w: (len(self.index[w]), w))[:8]

    def candidates(self, words: list[str]) -> list[str]:
        """Transcripts ranked by how many of the quote's rarest words they hold, ties by id.

        Ties are broken by id, not by where a set happens to hold them (which
        changes from run to run), so a finding names the same transcript every time.
        """
        known = self.rarest(words)
        votes = Counter(t for word in known for t in self.index[word])
        return sorted(votes, key=lambda t: (-votes[t], t))

    def ranked(self, found: set[str], known: list[str]) -> list[str]:
        """`found` in the order `candidates` gives them, without counting every transcript.

        Ranking the corpus costs a count over the rarest words' transcripts
        (tens of thousands at scale); only the few that hold the quote need it.
        """
        votes = {t: sum(t in self.index[word] for word in known) for t in found}
        return sorted(found, key=lambda t: (-votes[t], t))

    def holding(self, fragments: list[str]) -> set[str] | None:
        """Transcripts that hold every inner word of `fragments`, the only places they can all be; None if no word tells.

        A fragment's first and last words may be cut (''principles' from
        "'principles'.", 'ing' from 'thinking'); the words inside it are whole.
        """
        words = {word for fragment in fragments for word in _WORD.findall(fragment)[1:-1]}
        sets = sorted((self.index.get(word, set()) for word in words), key=len)
        return set.intersection(*sets) if sets else None

    def locate(self, quote: str, hint: str | None = None) -> list[Match]:
        """Every transcript holding all the quote's fragments in order (`hint` first), else the best fuzzy passage.

        The same words can be said in more than one interview; all exact
        matches are returned so the truth check can ask whether any of their
        speakers fits the attribution, ranked as `candidates` ranks them.
        """
        fragments = fragments_of(quote)
        if not fragments:
            return []
        words = [w for fragment in fragments for w in _WORD.findall(fragment)]
        # The pieces between omissions are in any transcript that holds the quote, so are their words.
        pieces = fragments[1:] or fragments
        # A transcript holding the pieces holds their inner pairs, hence their inner words: `holding` can only
        # leave out transcripts the search would not find them in.
        holding = self.pairs.holding(pieces)
        holding = self.holding(pieces) if holding is None else holding
        if holding is None:
            return self._locate_anywhere(fragments, words, hint)
        known = self.rarest(words)
        exact = {}
        for transcript_id in holding:  # searched as before: the hint, and transcripts holding a rare word
            if transcript_id == hint or any(transcript_id in self.index[word] for word in known):
                found = _in_order(self.sources[transcript_id].folded, fragments)
                if found is not None:
                    exact[transcript_id] = _exact(transcript_id, found)
        if exact:
            order = ([hint] if hint in exact else []) + self.ranked(set(exact) - {hint}, known)
            return [exact[t] for t in order]
        return self._inexact(fragments, self._order(words, hint))

    def _locate_anywhere(self, fragments: list[str], words: list[str], hint: str | None) -> list[Match]:
        """`locate` for a quote with no inner word to narrow the search: every ranked transcript is searched."""
        exact, order = [], self._order(words, hint)
        for transcript_id in order:
            found = _in_order(self.sources[transcript_id].folded, fragments)
            if found is not None:
                exact.append(_exact(transcript_id, found))
        return exact or self._inexact(fragments, order)

    def _order(self, words: list[str], hint: str | None) -> list[str]:
        ranked = self.candidates(words)
        return ([hint] if hint in self.sources else []) + [t for t in ranked if t != hint]

    def _inexact(self, fragments: list[str], order: list[str]) -> list[Match]:
        fuzzy = self._fuzzy(" ".join(fragments[1:]) or fragments[0], order[:5])
        return [fuzzy] if fuzzy else []

    def _fuzzy(self, needle: str, candidates: list[str]) -> Match | None:
        best = None
        for transcript_id in candidates:
            alignment = fuzz.partial_ratio_alignment(needle, self.sources[transcript_id].folded)
            if alignment and (best is None or alignment.score > best.score):
                best = Match(transcript_id, alignment.dest_start, alignment.dest_end, round(alignment.score, 1), False)
        return best

    def speaker_at(self, match: Match) -> tuple[str | None, Participant]:
        """The role of the turns that hold the match (None outside every turn), and the participant who speaks.

        Every piece of the quote must be in one participant's turns: a quote that runs on into the
        interviewer's question, or joins two focus-group speakers across an omission, is not one
        participant's words, so the role is then the other speaker's (or `_SEVERAL`). A transcript
        with no turns at all (its speakers could not be read) holds no participant's words.
        """
        starts, turns = self.turns.get(match.transcript_id, ([], []))
        held = [_turns_over(starts, turns, start, end) for start, end in match.spans]
        participant = self.sources[match.transcript_id].participant
        if not all(held):
            return None, participant
        held = [turn for of_span in held for turn in of_span]
        other = next((turn for turn in held if turn.role != PARTICIPANT), None)
        if other is not None:
            return other.role, participant
        voices = {turn.participant_id for turn in held}
        if len(voices) > 1:
            return _SEVERAL, participant
        voice = voices.pop()  # a focus group's participant, else None: the interview's
        return PARTICIPANT, self.voices[voice] if voice else participant

    @cached_property
    def voices(self) -> dict[str, Participant]:
        """The participants who speak in focus groups, by id (few; read when a focus-group turn is met)."""
        with self.project.session() as session:
            wanted = select(Turn.participant_id).where(Turn.participant_id.is_not(None))
            return {p.id: p for p in session.scalars(
                select(Participant).where(Participant.id.in_(wanted))
                .options(selectinload(Participant.school).selectinload(School.partnerships)))}

    @cached_property
    def turns(self) -> dict[str, tuple[list[int], list[Row]]]:
        """Each transcript's turn starts and turns, read in one query (as rows, not objects) when first needed."""
        query = select(Turn.transcript_id, Turn.start, Turn.end, Turn.role, Turn.participant_id)
        with self.project.engine.connect() as connection:
            rows = connection.execute(query.order_by(Turn.transcript_id, Turn.start)).all()
        by_transcript = {}
        for transcript_id, group in groupby(rows, key=lambda row: row.transcript_id):
            turns = list(group)
            by_transcript[transcript_id] = ([turn.start for turn in turns], turns)
        return by_transcript

    def mask_ids(self, text: str) -> str:
        """`text` with qualcode's own ids blanked out: 'SOU-S03-BM' must not be read as someone's initials."""
        def blank(match: re.Match) -> str:
            known = match.group(1) in self.known_ids or _QUOTE_NUMBER.sub("", match.group(1)) in self.known_ids
            return " " * len(match.group(0)) if known else match.group(0)

        return _ID_SHAPE.sub(blank, text)

    def passage(self, match: Match) -> str:
        """The source's words at `match`, whole words and pseudonymised: findings are pasted and shared like reports."""
        from qualcode.privacy.pseudonyms import project_key

        text = self.sources[match.transcript_id].transcript.text
        start, end = match.start, match.end
        while start > 0 and text[start - 1].isalnum():  # a name cut at the passage's edge is still a name
            start -= 1
        while end < len(text) and text[end].isalnum():
            end += 1
        return project_key(self.project).pseudonymise(" ".join(text[start:end].split()))[0]


class WordPairs:
    """Which transcripts hold each pair of adjacent words, to narrow a quote's search to the few that can hold it.

    Single words narrow little where interviews share their vocabulary (at
    scale, most quotes' words are in a tenth of the transcripts, the quote
    itself in few of them); pairs narrow far more. Pairs are kept by their
    hash, sorted, with the transcript that holds each: memory grows with the
    corpus's words, not with the number of pairs times transcripts. Two
    pairs sharing a hash only let a transcript through to the exact search.
    """

    def __init__(self, names: list[str], hashes: list):
        """`hashes`: each transcript's (of `names`) `of` its words."""
        import numpy as np

        self.names = names
        owners = np.repeat(np.arange(len(names), dtype=np.int32), [len(h) for h in hashes])
        hashes = np.concatenate(hashes) if hashes else np.zeros(0, dtype=np.int64)
        order = np.argsort(hashes, kind="stable")  # each pair's transcripts in order, as `intersect1d` wants them
        self.keys, self.owners = hashes[order], owners[order]

    @staticmethod
    def of(said: list[str]):
        """The distinct hashes of a text's pairs of adjacent words (its words as `_WORD` finds them)."""
        import numpy as np

        hashes = np.sort(np.fromiter(map(hash, zip(said, said[1:])), dtype=np.int64, count=max(len(said) - 1, 0)))
        return hashes[np.concatenate(([True], hashes[1:] != hashes[:-1]))] if len(hashes) else hashes

    def holding(self, fragments: list[str]) -> set[str] | None:
        """Transcripts holding the rarest pairs of inner words of `fragments` (a superset of those holding
        the fragments); None if no fragment has two inner words.

        Inner words are whole in the source and nothing but spaces and
        punctuation lies between them there, so they are a pair in it too.
        """
        import numpy as np

        pairs = {hash(pair) for fragment in fragments
                 for inner in [_WORD.findall(fragment)[1:-1]] for pair in zip(inner, inner[1:])}
        if not pairs:
            return None
        wanted = np.sort(np.fromiter(pairs, dtype=np.int64, count=len(pairs)))  # sorted, each search starts near the last
        low, high = np.searchsorted(self.keys, wanted, "left"), np.searchsorted(self.keys, wanted, "right")
        rarest = np.argsort(high - low, kind="stable")[:RAREST_PAIRS]
        found = self.owners[low[rarest[0]] : high[rarest[0]]]
        for i in rarest[1:]:
            found = np.intersect1d(found, self.owners[low[i] : high[i]], assume_unique=True)
        return {self.names[number] for number in found.tolist()}


#: How many of a quote's pairs narrow its search: the rarest few leave little for the rest to remove.
RAREST_PAIRS = 4


def fold(text: str) -> str:
    """Lower case and plain quotes, dashes and spaces, one character for one (str.replace is fast on 40 MB)."""
    text = text.lower()
    for typographic, plain in _FOLD.items():
        text = text.replace(typographic, plain)
    return text


def _known_ids(transcripts: list[Transcript]) -> set[str]:
    """qualcode's pseudonymised ids: transcripts, participants, schools, partnerships."""
    ids = {t.id for t in transcripts} | {t.participant_id for t in transcripts}
    for transcript in transcripts:
        school = transcript.participant.school
        if school is not None:
            ids.add(school.id)
            ids.update(p.id for p in school.partnerships)
    return ids


def fragments_of(quote: str) -> list[str]:
    """A quote's own words, folded for matching: whole if the source has them so, else split at omissions.

    The first item is the whole quote (transcripts hold '[inaudible]' and
    '[cross-talk]' themselves); the rest are the pieces between omissions and
    [insertions], for when the whole is not found.
    """
    text = fold(_MARKS.sub("", quote).replace("…", "...")).strip(" '\"")  # fold makes '…' a '.', not an omission
    whole = " ".join(text.split()).strip(" .,;:'\"-")
    if not whole:
        return []
    pieces = [" ".join(piece.split()).strip(" .,;:'\"-") for piece in _OMISSION.split(text)]
    return [whole] + [piece for piece in pieces if piece]  # one word between omissions is still a word said


#: How far apart (in characters) two pieces of one quote may lie in the source.
MAX_GAP = 1500


def _in_order(text: str, fragments: list[str]) -> list[tuple[int, int]] | None:
    """Where the quote is, as spans: the whole of it, else its pieces in order, each close after the one before."""
    whole, pieces = fragments[0], fragments[1:]
    found = text.find(whole)
    if found != -1:
        return [(found, found + len(whole))]
    if not pieces or pieces == [whole]:  # one piece, the whole: not there either
        return None
    start = text.find(pieces[0])
    while start != -1:
        rest = _rest_in_order(text, pieces[1:], start + len(pieces[0]))
        if rest is not None:
            return [(start, start + len(pieces[0]))] + rest
        start = text.find(pieces[0], start + 1)
    return None


def _rest_in_order(text: str, pieces: list[str], position: int) -> list[tuple[int, int]] | None:
    spans = []
    for piece in pieces:
        found = text.find(piece, position, position + MAX_GAP + len(piece))
        if found == -1:
            return None
        position = found + len(piece)
        spans.append((found, position))
    return spans


def _exact(transcript_id: str, spans: list[tuple[int, int]]) -> Match:
    return Match(transcript_id, spans[0][0], spans[-1][1], 100.0, True, tuple(spans))


def _turns_over(starts: list[int], turns: list[Row], start: int, end: int) -> list[Row]:
    """The turns (sorted by start, not overlapping) that hold any of the characters from `start` to `end`."""
    first = max(bisect_right(starts, start) - 1, 0)
    last = bisect_right(starts, max(start, end - 1))
    return [turn for turn in turns[first:last] if turn.start < end and turn.end > start]


def check_report(project: Project, path: Path, fmt: str | None = None, corpus: Corpus | None = None) -> CheckResult:
    """Run every check on one report file."""
    document = read_document(path, fmt)
    corpus = corpus or Corpus(project)
    result = CheckResult(quotes=len(document.quotes))
    lines = _Lines(project.settings)
    for quote in document.quotes:
        result.findings += _check_quote(project, corpus, document, quote, lines)
    result.findings += _leaks(project, document, corpus)
    result.findings.sort(key=lambda f: (f.line, f.check))
    return result


def _check_quote(project: Project, corpus: Corpus, document: Document, quote: Quote, lines: _Lines) -> list[Finding]:
    file = str(document.path)
    matches = corpus.locate(quote.text, quote.source)
    best = matches[0] if matches else None
    if best is None or best.score < FUZZY_WARNING:
        closest = f"; the closest passage ({best.score:.0f}) is in {best.transcript_id}: '{corpus.passage(best)[:120]}'" if best else ""
        return [Finding(file, quote.line, "fidelity", "error", f"quote not found in the corpus{closest}", _short(quote.text))]
    findings = []
    if not best.exact:
        findings.append(Finding(
            file, quote.line, "fidelity", "warning",
            f"quote differs from the source ({best.score:.0f}% alike); the source in {best.transcript_id} reads "
            f"'{corpus.passage(best)}'",
            _short(quote.text), corpus.passage(best),
        ))
    speakers = [(match, *corpus.speaker_at(match)) for match in matches]
    said = [(match, participant) for match, role, participant in speakers if role == PARTICIPANT]
    if not said:
        match, role, _ = speakers[0]
        who = _NOT_SAID_BY_PARTICIPANT.get(role, "no speaker turn (qualcode could not read who speaks there)")
        findings.append(Finding(file, quote.line, "truth", "error",
                                f"quote is from {who} in {match.transcript_id}, not from a participant", _short(quote.text)))
        return findings if quote.inline or quote.attribution is not None else findings + _unattributed(file, quote)
    if quote.inline:
        return findings
    if quote.attribution is None:
        return findings + _unattributed(file, quote)
    return findings + _check_attribution(project, file, quote, said, lines)


def _unattributed(file: str, quote: Quote) -> list[Finding]:
    return [Finding(file, quote.line, "format", "error", "quote has no attribution line after it")]


class _Lines:
    """A report's attribution lines read, and its speakers' coarser lines, each once: a bank repeats them."""

    def __init__(self, settings):
        self.settings = settings
        self._read: dict[str, attribution.Reading | None] = {}
        self._coarse: dict[str, str] = {}

    def read(self, written: str):
        """`attribution.read` of a line (its reading is shared: treat it as read-only)."""
        if written not in self._read:
            self._read[written] = attribution.read(self.settings, written)
        return self._read[written]

    def coarse(self, participant: Participant) -> str:
        """The line `--coarsen` gives the participant."""
        from qualcode.privacy.anonymise import coarsen

        if participant.id not in self._coarse:
            speaker = coarsen(attribution.speaker_for(participant), self.settings)
            self._coarse[participant.id] = attribution.render(self.settings, speaker)
        return self._coarse[participant.id]


def _check_attribution(project: Project, file: str, quote: Quote, said: list[tuple[Match, Participant]],
                       lines: _Lines) -> list[Finding]:
    """Format against the project's template; truth against whoever said the words (any of them, if several did)."""
    settings = project.settings
    line, written = quote.attribution_line, quote.attribution
    if any(written == lines.coarse(p) for _, p in said):
        return []  # the coarser line `--coarsen` gives a small cell: true, and in the format
    reading = lines.read(written)
    match, participant = _speaker_fitting(settings, reading, said)
    truth = attribution.speaker_for(participant)
    if reading is None:
        expected = attribution.render(settings, truth)
        return [Finding(file, line, "format", "error", f"'{written}' is not an attribution line", written, expected)]
    findings = []
    expected = attribution.corrected(settings, reading, truth)
    if expected != written:
        detail = f"; expected '{expected}'" if expected else f"; it does not state the {', '.join(reading.missing)}"
        notes = f" ({'; '.join(reading.notes)})" if reading.notes else ""
        findings.append(Finding(file, line, "format", "error", f"'{written}' does not follow the format{detail}{notes}", written, expected))
    actual = attribution.render(settings, truth)
    if expected != actual:
        findings.append(Finding(
            file, line, "truth", "error",
            f"attributed to '{expected}' but said by {match.transcript_id}: '{actual}'", written, actual,
        ))
    return findings


def _speaker_fitting(settings, reading, said: list[tuple[Match, Participant]]) -> tuple[Match, Participant]:
    """Of the people who said these words, the one the line describes; else the first (the quote id's, if given)."""
    if reading is not None:
        for match, participant in said:
            truth = attribution.speaker_for(participant)
            if attribution.corrected(settings, reading, truth) == attribution.render(settings, truth):
                return match, participant
    return said[0]


def _leaks(project: Project, document: Document, corpus: Corpus) -> list[Finding]:
    """Any identity-key name, or a near spelling of one, anywhere in the report (qualcode's ids aside)."""
    try:
        from qualcode.privacy.pseudonyms import project_key
    except ImportError:  # anonymisation not installed in this build
        return []
    findings = []
    key = project_key(project)  # read once: a report has thousands of lines
    for first in range(0, len(document.lines), LEAK_LINES):
        for number, leak in line_leaks(project, key, corpus, document.lines[first : first + LEAK_LINES]):
            findings.append(Finding(str(document.path), first + number, "leak", "error",
                                    f"'{leak.text}' is a name in the identity key ({leak.entry_kind})", leak.text))
    return findings


#: How many of a report's lines are matched against the key at once (a search for a title before a
#: misspelt name reads back from the start of the text, so the text is kept short).
LEAK_LINES = 200
#: Joins lines for the key: neither a letter, a digit, white space nor an apostrophe, so no name, title,
#: possessive or id reads across it, and every line's first word starts a word as it does alone.
_LINE_BREAK = "\x00"


def line_leaks(project: Project, key, corpus: Corpus, lines: list[str]) -> list[tuple[int, object]]:
    """(line number from 1, `Leak`) of each name in `lines`, exactly as matching each line alone finds them.

    One match over the lines joined by `_LINE_BREAK` instead of one per line:
    a report has hundreds of thousands of lines, most without a name.
    """
    from qualcode.privacy.pseudonyms import leaks

    if any(_LINE_BREAK in line for line in lines):  # never in a report qualcode writes
        return [(number, leak) for number, line in enumerate(lines, start=1)
                for leak in leaks(project, corpus.mask_ids(line), key)]
    starts = list(accumulate((len(line) + 1 for line in lines[:-1]), initial=0))
    return [(bisect_right(starts, leak.start), leak) for leak in leaks(project, corpus.mask_ids(_LINE_BREAK.join(lines)), key)]


def _short(text: str, limit: int = 100) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def fix_report(document: Document, result: CheckResult, out: Path) -> Path:
    """Write a copy of the report with each attribution line corrected; quote text is never touched."""
    fixes = {f.line: (f.found, f.expected) for f in result.findings if f.check in ("format", "truth") and f.expected and f.found}
    if document.fmt == "docx":
        import docx

        from qualcode.reports.reportfiles import word_paragraphs

        word = docx.Document(str(document.path))
        for number, paragraph in enumerate(word_paragraphs(word), start=1):
            if number in fixes and paragraph.text.strip() == fixes[number][0]:
                paragraph.text = fixes[number][1]
        word.save(str(out))
        return out
    lines = read_text(document.path)[0].splitlines(keepends=True)
    for number, (found, expected) in fixes.items():
        if found in lines[number - 1]:
            lines[number - 1] = lines[number - 1].replace(found, expected, 1)
    out.write_text("".join(lines), encoding="utf-8")
    return out
