"""The two shapes of transcript: full interviews and interview notes.

Heads and system informants were transcribed in full (5,000-9,000 words):
every section of the schedule is asked, with follow-ups. Other staff were
written up as notes (1,200-3,000 words): the researcher's `Note:` summaries
mixed with a few verbatim exchanges. Both are built as blocks by a `Composer`
and trimmed or extended to a word target drawn per transcript.
"""

from __future__ import annotations

from qualcode.samplecorpus.bank import parse_lines
from qualcode.samplecorpus.compose import FULL_WORDS, NOTES_WORDS, Block, Composer, Segment, Turn, block_words, join_blocks

NOTE = "Note"


def compose_full(c: Composer) -> list[Block]:
    """A full transcript: opening, background, each schedule section, extra follow-ups, closing."""
    codes = c.choose_codes()
    blocks = _opening(c)
    for section in c.schedule["sections"]:
        here = [code for code in section["codes"] if code in codes]
        if here:
            blocks += _section(c, section, here)
        elif c.rng.random() < 0.5:
            blocks.append(Block([c.interviewer(c.question(section)), c.answer([[Segment(c.pick("deflections"))]])]))
    target = c.rng.randint(5500, 7600)
    _fit(c, blocks, codes, target, FULL_WORDS, notes=False)
    return blocks + _closing(c)


def _opening(c: Composer) -> list[Block]:
    kind = "informant" if c.interview.is_informant else "school"
    blocks = [Block([c.interviewer(c.pick_fitting(c.schedule["openings"][kind])), c.answer([[Segment(c.pick("consent_replies"))]])])]
    who = "informant" if c.interview.is_informant else ("head" if c.interview.is_head else "staff")
    sentences = _fitting(c, c.schedule["background"])
    c.rng.shuffle(sentences)
    first = [Segment(c.slots.fill(s, c.speaker)) for s in sentences[:3]]
    rest = [Segment(c.slots.fill(s, c.speaker)) for s in sentences[3:6]]
    paragraphs = [first] + ([rest] if rest else [])
    blocks.append(Block([c.interviewer(c.rng.choice(c.schedule["background_questions"][who])), c.answer(paragraphs)]))
    if c.interview.is_informant:
        talk = _fitting(c, c.schedule["role_talk"])
        c.rng.shuffle(talk)
        blocks.append(Block([c.interviewer(c.rng.choice(c.schedule["role_questions"])),
                             c.answer([[Segment(c.slots.fill(t)) for t in talk[:3]], [Segment(c.slots.fill(t)) for t in talk[3:5]]])]))
    return blocks


def _fitting(c: Composer, raws: list[str]) -> list[str]:
    return [line.text for line in parse_lines(raws) if line.fits(c.tags)]


def _section(c: Composer, section: dict, codes: list[str]) -> list[Block]:
    """Each code's topic question, then one to three passages on it, with follow-ups between."""
    blocks: list[Block] = []
    for n, code in enumerate(codes):
        for k in range(c.rng.choice([1, 2, 2, 3])):
            segment = c.passage(code, c.rng.choice([2, 2, 3, 3, 4]))
            if segment is None:
                break
            if k == 0 and n > 0 and c.rng.random() < 0.3:
                blocks[-1].turns[-1].paragraphs.append([Segment(c.pick("connectors")), segment])
                continue
            if k == 0:
                question = c.question(section, code) if n == 0 else c.topic_question(code)
            else:
                question = c.fresh("followups", "backchannels")
            blocks.append(_exchange(c, question, segment, droppable=code if k else None, code=code))
    return blocks


def _exchange(c: Composer, question: str, segment: Segment, droppable: str | None = None, code: str | None = None) -> Block:
    """Interviewer asks, participant answers with the passage; sometimes cross-talk first, or a digression after."""
    turns = [c.interviewer(question)]
    if c.rng.random() < (0.06 if c.interview.kind == "full" else 0.02):
        turns += [c.answer([[Segment(c.fresh("false_starts"))]]), c.interviewer(c.fresh("interruptions"))]
        paragraphs = [[Segment(c.fresh("resumptions")), segment]]
    else:
        paragraphs = [c.opener(segment)]
    turns.append(c.answer(paragraphs))
    if c.rng.random() < 0.12:
        paragraphs.append([Segment(c.pick("digressions"))])
    return Block(turns, droppable, code)


def _closing(c: Composer) -> list[Block]:
    closing = c.schedule["closings"]
    return [Block([c.interviewer(c.rng.choice(closing["question"])), c.answer([[Segment(c.rng.choice(closing["answer"]))]]),
                   c.interviewer(c.rng.choice(closing["thanks"]))])]


def _fit(c: Composer, blocks: list[Block], codes: list[str], target: int, bounds: tuple[int, int], notes: bool) -> None:
    """Drop follow-up exchanges while over the target, add returns to earlier topics while under it."""
    low, high = bounds
    margin = 250 if not notes else 120
    words = sum(block_words(b) for b in blocks)
    while words > target + margin:
        droppable = [i for i, b in enumerate(blocks) if b.droppable]
        if not droppable:
            break
        i = droppable[-1] if c.rng.random() < 0.5 else c.rng.choice(droppable)
        words -= block_words(blocks[i])
        del blocks[i]
    cycle = [code for code in codes if c.eligible(code) or (notes and c.eligible(code, notes=True))]
    while words < target and cycle:
        code = cycle.pop(0)
        block = _more_on(c, code, notes)
        if block is None:
            continue
        cycle.append(code)
        blocks.insert(_after_topic(blocks, code), block)
        words += block_words(block)
    floor = low + (150 if not notes else 80)
    while words < floor:
        block = _filler(c, notes)
        blocks.append(block)
        words += block_words(block)
    while words > high - 100:
        droppable = [i for i, b in enumerate(blocks) if b.droppable]
        if not droppable:
            raise RuntimeError(f"{c.interview.id}: cannot shorten to {high} words")
        words -= block_words(blocks[droppable[-1]])
        del blocks[droppable[-1]]


def _more_on(c: Composer, code: str, notes: bool) -> Block | None:
    """Another exchange on a topic already raised (or, in notes, sometimes another summary of it)."""
    if notes and c.rng.random() < 0.4:
        summary = c.summary(code, 1)
        if summary:
            return Block([Turn(NOTE, [[summary]])], droppable=code, code=code)
    segment = c.passage(code, c.rng.choice([1, 2, 2]) if not notes else 1)
    if segment is None:
        return None
    prompt = c.fresh("returns", "followups")
    if c.rng.random() < 0.5:
        prompt = f"{prompt} {c.topic_question(code, fresh_only=True)}".strip()
    return _exchange(c, prompt, segment, droppable=code, code=code)


def _after_topic(blocks: list[Block], code: str) -> int:
    """Just after the last block on `code`, so a return to a topic follows the talk about it."""
    at = max((i for i, b in enumerate(blocks) if b.code == code), default=len(blocks) - 1)
    return at + 1


def _filler(c: Composer, notes: bool) -> Block:
    if notes:
        return _note(c, c.schedule["notes"]["filler"])
    return Block([c.interviewer(c.fresh("followups")), c.answer([[Segment(c.pick("digressions"))], [Segment(c.pick("digressions"))]])])


# --- notes -------------------------------------------------------------------------

def compose_notes(c: Composer) -> list[Block]:
    """Interview notes: header, setting, role, then per code a summary and/or a verbatim exchange."""
    notes = c.schedule["notes"]
    codes = c.choose_codes()
    if len(codes) > 8:
        keep = set(c.rng.sample(codes, 8))
        codes = [code for code in codes if code in keep]
    blocks = [
        _note(c, notes["header"]),
        _note(c, notes["setting"]),
        _note(c, notes["role"]),
    ]
    sections = {code: s for s in c.schedule["sections"] for code in s["codes"]}
    for code in codes:
        blocks += _notes_unit(c, code, sections[code])
        if c.rng.random() < 0.15:
            blocks.append(_note(c, notes["filler"]))
    _fit(c, blocks, codes, c.rng.randint(1450, 2600), NOTES_WORDS, notes=True)
    if c.rng.random() < 0.5:
        blocks.append(_note(c, notes["closing"]))
    return blocks


def _note(c: Composer, options: list[str]) -> Block:
    return Block([Turn(NOTE, [[Segment(c.slots.fill(c.rng.choice(options), c.speaker))]])])


def _notes_unit(c: Composer, code: str, section: dict) -> list[Block]:
    """A `Note:` summary of the point, a short verbatim exchange on it, or both."""
    blocks = []
    style = c.rng.choice(["summary", "exchange", "both", "both"])
    if style in ("summary", "both"):
        segment = c.summary(code, c.rng.choice([1, 2]))
        if segment:
            blocks.append(Block([Turn(NOTE, [[segment]])], code=code))
    if style in ("exchange", "both") or not blocks:
        segment = c.passage(code, c.rng.choice([1, 2, 2]))
        if segment:
            blocks.append(_exchange(c, c.question(section, code), segment, droppable=code if blocks else None, code=code))
    return blocks


def compose(c: Composer) -> list[Block]:
    return compose_full(c) if c.interview.kind == "full" else compose_notes(c)


__all__ = ["compose", "compose_full", "compose_notes", "join_blocks"]
