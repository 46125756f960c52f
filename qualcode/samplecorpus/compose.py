"""Composing one transcript: choosing what the speaker talks about, then writing it.

A transcript is built as a list of `Block`s (an exchange or a notes
paragraph), each a list of `Turn`s made of paragraphs of `Segment`s. A
segment written for a code carries that code; when the blocks are joined into
the body text, each coded segment's character span becomes a gold coding.
Building blocks first and joining last lets the composer add or drop whole
exchanges to hit the word range without breaking any offset.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from functools import cache

from qualcode.samplecorpus.bank import CodeBank, Line, load, parse_lines, statement_bank, variation
from qualcode.samplecorpus.design import Design, Interview, speaker_tags
from qualcode.samplecorpus.names import World
from qualcode.samplecorpus.slots import Slots

#: What a parser could take for a speaker label at the start of a line (see qualcode.ingest.transcript).
_LABEL_LIKE = re.compile(r"^[A-Z][\w'.\-]*(?: [\w'.\-]+){0,4}:")
FULL_WORDS = (5000, 9000)
NOTES_WORDS = (1200, 3000)
#: Words that may be doubled as a false start ("we, we've").
_FALSE_START = {"We", "It", "The", "They", "There", "That", "You", "Our", "If", "So", "When", "This", "I",
                "It's", "We're", "We've", "There's", "They're", "I'm", "I've", "Some", "Every", "Nobody", "Everyone"}
_LOWER_AFTER_OPENER = _FALSE_START - {"I", "I'm", "I've"}


@dataclass
class Segment:
    text: str
    codes: tuple[str, ...] = ()


@dataclass
class Turn:
    label: str
    paragraphs: list[list[Segment]]


@dataclass
class Block:
    turns: list[Turn]
    #: The code this block was written for, if it can be dropped to shorten the transcript.
    droppable: str | None = None
    #: The code the block is about, so that later returns to it follow on from it.
    code: str | None = None


@dataclass
class Composed:
    body: str
    codings: list[tuple[int, int, str]] = field(default_factory=list)


def word_count(text: str) -> int:
    return len(text.split())


def block_words(block: Block) -> int:
    """Words the block adds to the body (labels included), without joining any text."""
    return sum(len(turn.label.split()) + sum(len(seg.text.split()) for para in turn.paragraphs for seg in para)
               for turn in block.turns)


def join_blocks(blocks: list[Block]) -> Composed:
    """The body text (turns separated by a blank line) and each coded segment's span."""
    out: list[str] = []
    codings: list[tuple[int, int, str]] = []
    pos = 0

    def emit(text: str) -> None:
        nonlocal pos
        out.append(text)
        pos += len(text)

    first = True
    for block in blocks:
        for turn in block.turns:
            if not first:
                emit("\n")
            first = False
            for p, paragraph in enumerate(turn.paragraphs):
                if p == 0:
                    emit(f"{turn.label}: ")
                elif _LABEL_LIKE.match(paragraph[0].text):
                    # A new line opening with "Some words:" would read as a speaker label; run it on instead.
                    out[-1] = " "
                for s, segment in enumerate(paragraph):
                    if s:
                        emit(" ")
                    start = pos
                    emit(segment.text)
                    codings += [(start, pos, code) for code in segment.codes]
                emit("\n")
    return Composed("".join(out), codings)


class Composer:
    """Writes one interview. All choices come from a random stream seeded by (seed, interview id)."""

    def __init__(self, interview: Interview, design: Design, world: World, seed: int):
        self.interview = interview
        self.rng = random.Random(f"{seed}:{interview.id}")
        self.partnerships = {p.id: p for p in design.partnerships}
        self.tags = speaker_tags(interview, self.partnerships)
        self.slots = Slots(self.rng, interview, world, design)
        self.schedule = load("schedule")
        self.bank = statement_bank()
        self.questions = load("questions")
        self.used: set[str] = set()
        #: Lines of each code this speaker can say, worked out once.
        self._fitting: dict[tuple[str, bool], list[Line]] = {}
        self.label = "Interviewee" if interview.is_informant else interview.role
        self.speaker = _speaker_phrase(interview)

    # --- what the speaker talks about ------------------------------------------------
    def weight(self, code: str) -> float:
        """Probability of the code for this speaker: the base, overridden by each matching rule in turn."""
        spec = self.schedule["code_weights"].get(code, {"base": 0.3})
        p = spec["base"]
        for rule in spec.get("rules", []):
            if _holds(rule["when"], self.tags):
                p = rule["p"]
        if self.interview.kind == "full" and not spec.get("tied"):
            p = 1 - (1 - p) ** (3 if self.interview.is_informant else 2)
        return p

    def choose_codes(self) -> list[str]:
        """Codes this transcript carries, in interview order, each drawn with its speaker-tied probability."""
        chosen = []
        for section in self.schedule["sections"]:
            for code in section["codes"]:
                if self.rng.random() < self.weight(code) and len(self.eligible(code)) >= 2:
                    chosen.append(code)
        return chosen

    def eligible(self, code: str, notes: bool = False) -> list[Line]:
        """Lines for `code` this speaker may say (or, with `notes`, summaries) not yet used in this transcript."""
        key = (code, notes)
        if key not in self._fitting:
            entry: CodeBank | None = self.bank.get(code)
            lines = () if entry is None else (entry.notes if notes else entry.say)
            self._fitting[key] = [line for line in lines if line.fits(self.tags)]
        return [line for line in self._fitting[key] if line.text not in self.used]

    # --- texture ---------------------------------------------------------------------
    def pick(self, key: str) -> str:
        """A random uncoded line from schedule.yaml, filled for this speaker; unused ones first."""
        options = [line.text for line in parse_lines(self.schedule[key]) if line.fits(self.tags)]
        fresh = [line for line in options if line not in self.used]
        line = self.rng.choice(fresh or options)
        self.used.add(line)
        return self.slots.fill(line, self.speaker)

    def fresh(self, *keys: str) -> str:
        """One of the schedule's lines under `keys`, preferring those not yet used in this transcript."""
        options = [line for key in keys for line in self.schedule[key]]
        unused = [line for line in options if line not in self.used]
        line = self.rng.choice(unused or options)
        self.used.add(line)
        return line

    def pick_fitting(self, lines: list[str]) -> str:
        """A random line of `lines` that this speaker may say, filled."""
        options = [line for line in parse_lines(lines) if line.fits(self.tags)]
        return self.slots.fill(self.rng.choice(options).text, self.speaker)

    def spoken(self, text: str) -> str:
        """Add the marks of speech to one sentence or two: fillers at a comma, false starts, noises."""
        rng = self.rng
        if rng.random() < 0.35 and ", " in text:
            commas = [m.start() for m in re.finditer(", ", text)]
            at = rng.choice(commas)
            filler = rng.choice(["erm,", "you know,", "I mean,", "to be honest,", "sort of,", "basically,"])
            text = f"{text[:at]}, {filler} {text[at + 2:]}"
        first = text.split(" ", 1)[0]
        if rng.random() < 0.08 and first in _FALSE_START and " " in text:
            text = f"{first}, {_lower(first)} {text.split(' ', 1)[1]}" if first != "I" else f"I, I {text[2:]}"
        if rng.random() < 0.05:
            words = text.split(" ")
            if len(words) > 8:
                at = rng.randrange(3, len(words) - 3)
                words.insert(at, rng.choice(["[inaudible]", "erm", "[inaudible] ..."]))
                text = " ".join(words)
        if rng.random() < 0.04:
            text = f"{text} [laughs]"
        return text

    def passage(self, code: str, count: int) -> Segment | None:
        """`count` unused lines the speaker can say for `code`, filled and made spoken, as one coded segment."""
        lines = self.eligible(code)
        if not lines:
            return None
        chosen = self.rng.sample(lines, min(count, len(lines)))
        self.used |= {line.text for line in chosen}
        sentences = [self.spoken(self.slots.fill(vary(line.text, self.rng), self.speaker)) for line in chosen]
        tails = [t for t in self.schedule["tails"] if t not in self.used]
        if tails and self.rng.random() < 0.35:
            tail = self.rng.choice(tails)
            self.used.add(tail)
            sentences.append(tail)
        also = [extra for line in chosen for extra in line.also if extra != code]
        return Segment(" ".join(sentences), tuple(dict.fromkeys([code, *also])))

    def summary(self, code: str, count: int) -> Segment | None:
        """A researcher's summary of what was said about `code`, for notes files."""
        lines = self.eligible(code, notes=True)
        if not lines:
            return None
        chosen = self.rng.sample(lines, min(count, len(lines)))
        self.used |= {line.text for line in chosen}
        return Segment(" ".join(self.slots.fill(line.text, self._speaker_ref(line.text)) for line in chosen), (code,))

    def _speaker_ref(self, text: str) -> str:
        """'The deputy headteacher', or now and then 'They' where the sentence opens with the subject."""
        opens = text.startswith("{Speaker} ")
        return "They" if opens and self.rng.random() < 0.25 else self.speaker

    def opener(self, segment: Segment) -> list[Segment]:
        """Maybe put a spoken opener in front of a passage (outside its span).

        After an opener that runs on ("Well," "Right, so") an ordinary first
        word loses its capital; names and acronyms keep theirs.
        """
        if self.rng.random() >= 0.4:
            return [segment]
        opener = self.fresh("openers")
        first = segment.text.split(" ", 1)[0]
        names = {word for _, form in self.slots.mentions for word in form.split()}
        if opener[-1] not in ".?!:" and _plain_word(first) and first not in names:
            segment = Segment(first[0].lower() + segment.text[1:], segment.codes)
        return [Segment(opener), segment]

    def interviewer(self, text: str) -> Turn:
        return Turn("Interviewer", [[Segment(text)]])

    def answer(self, paragraphs: list[list[Segment]]) -> Turn:
        return Turn(self.label, paragraphs)

    def question(self, section: dict, code: str | None = None) -> str:
        """The question that opens a section (on `code` if given), in full interviews often after a line of context."""
        question = self.topic_question(code) if code else self.slots.fill(self.rng.choice(section["questions"]))
        preambles = self.schedule["preambles"].get(section["id"], [])
        if self.interview.kind == "full" and preambles and self.rng.random() < 0.6:
            question = f"{self.slots.fill(self.rng.choice(preambles))} {question}"
        return question

    def topic_question(self, code: str, fresh_only: bool = False) -> str:
        """A question that leads into `code` (see data/questions.yaml), preferring one not yet asked.

        With `fresh_only`, returns "" once every question on the code has been asked.
        """
        options = self.questions.get(code) or self.questions[code.rsplit("/", 1)[0]]
        unused = [q for q in options if q not in self.used]
        if fresh_only and not unused:
            return ""
        question = self.rng.choice(unused or options)
        self.used.add(question)
        return self.slots.fill(question)


#: First words that keep their capital after an opener.
_KEEP_CAPITAL = {"I", "I'm", "I've", "I'd", "I'll", "Ofsted", "English", "Christian", "Progress", "Year", "Key", "Teaching",
                 "Regional", "Mrs", "Mr", "Ms", "Miss", "Dr", "St"}


def _plain_word(word: str) -> bool:
    """A capitalised ordinary word ("The", "We've"), not a name, acronym or "I"."""
    return word not in _KEEP_CAPITAL and word[:1].isupper() and word[1:].replace("'", "").replace(",", "").islower()


def vary(text: str, rng: random.Random, rate: float = 0.7) -> str:
    """Swap phrases for others from their group in data/variation.yaml (each occurrence with probability `rate`)."""
    _, groups = variation()
    spans = _variable_spans(text)
    if not spans:
        return text
    out, last, swapped = [], 0, False
    for start, end, phrase in spans:
        choice = rng.choice(groups[phrase]) if rng.random() < rate else phrase
        swapped = swapped or choice != phrase
        out += [text[last:start], choice]
        last = end
    out.append(text[last:])
    result = "".join(out)
    return _articles(result, groups) if swapped else result


@cache
def _variable_spans(text: str) -> tuple[tuple[int, int, str], ...]:
    """Where the phrases of data/variation.yaml occur in a line (found once per line, then reused)."""
    pattern, _ = variation()
    return tuple((m.start(), m.end(), m.group(0)) for m in pattern.finditer(text))


def _articles(text: str, groups: dict[str, list[str]]) -> str:
    """Make 'a'/'an' agree with a swapped-in word ('a very big' -> 'an extremely big')."""
    def fix(match: re.Match) -> str:
        article, word = match.group(1), match.group(2)
        want = "an" if word[0].lower() in "aeio" else "a"
        if article[0].isupper():
            want = want.capitalize()
        return f"{want} {word}"

    return _article_pattern(tuple(groups)).sub(fix, text)


@cache
def _article_pattern(phrases: tuple[str, ...]) -> re.Pattern:
    words = sorted({phrase.split()[0] for phrase in phrases}, key=len, reverse=True)
    return re.compile(rf"\b(an|a|An|A) ({'|'.join(re.escape(w) for w in words)})\b")


def _lower(word: str) -> str:
    return word[0].lower() + word[1:] if word in _LOWER_AFTER_OPENER else word


def _holds(when: list[str], tags: frozenset[str]) -> bool:
    """A code-weight rule applies if all its tags are present and none of its !tags."""
    return all((tag[1:] not in tags) if tag.startswith("!") else (tag in tags) for tag in when)


def _speaker_phrase(interview: Interview) -> str:
    """How notes refer to the interviewee: 'The deputy headteacher'."""
    if interview.is_informant:
        return "The interviewee"
    return f"The {interview.role[0].lower()}{interview.role[1:]}".replace("The mAT CEO", "The MAT CEO")
