"""Deductive and inductive suggestions through the library: real spaCy, the small fixture corpus, SQLite in tmp."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from qualcode import history
from qualcode.suggestions.autocode import autocode
from qualcode.coding.codebook import load_codebook_file, path_of
from qualcode.coding.codebook_file import load_codebook
from qualcode.coding.manual import apply_codes, span_for_lines
from qualcode.ingest.corpus import import_paths
from qualcode.suggestions.evaluation import evaluate
from qualcode.suggestions.matching import CodebookMatcher
from qualcode.models import Code, Coding, Transcript
from qualcode.suggestions.nlp import ParseCache, load_pipeline, pipeline_version
from qualcode.suggestions.inductive import create_candidate, log_likelihood, suggest
from qualcode.suggestions.tokenmatch import COLUMNS, TokenPatterns, compile_pattern
from tests.conftest import REPO, table_rows

CODEBOOK = REPO / "codebooks" / "hierarchy-markets-networks.yaml"

#: A written-up interview and a full one at EAS-S01 that repeat an in-vivo phrase no code covers.
PLANTED = {
    "EAS-S01-T1.md": """---
id: EAS-S01-T1
role: Teacher
school: EAS-S01
date: 2015-06-11
kind: notes
---
Interviewer: How connected do you feel?

Note: The teacher said the school is a 'lonely island' since the advisers went.

Teacher: Honestly we are a lonely island. Nobody visits and the lonely island feeling gets worse every year.
""",
    "EAS-S01-AH.md": """---
id: EAS-S01-AH
role: Assistant headteacher
school: EAS-S01
date: 2015-06-12
kind: full
---
Interviewer: Is it a lonely island out here?

Assistant headteacher: A lonely island, yes, that is how the staff describe it.
""",
}


@pytest.fixture
def coded(project, corpus):
    import_paths(project, [corpus])
    load_codebook_file(project, CODEBOOK, "setup")
    return project


@pytest.fixture
def planted(project, corpus):
    for name, text in PLANTED.items():
        (corpus / "eastern" / name).write_text(text, encoding="utf-8")
    import_paths(project, [corpus])
    load_codebook_file(project, CODEBOOK, "setup")
    return project


def codings(project, **where) -> list[Coding]:
    with project.session() as session:
        query = select(Coding).order_by(Coding.transcript_id, Coding.start)
        for key, value in where.items():
            query = query.where(getattr(Coding, key) == value)
        return list(session.scalars(query))


def turns(project) -> dict[str, list]:
    with project.session() as session:
        return {t.id: list(t.turns) for t in session.scalars(select(Transcript))}


# Matchers


def test_matchers_are_built_from_every_pattern_kind() -> None:
    nlp = load_pipeline()
    codes = {
        1: {"lemmas": ["inspector"]},
        2: {"phrases": ["league tables"]},
        3: {"tokens": [[{"LEMMA": {"IN": ["poach", "steal"]}}, {"OP": "?"}, {"LEMMA": "teacher"}]]},
        4: {"tokens": [[{"LEMMA": "charge", "POS": "VERB"}, {"OP": "*"}, {"LOWER": "fees"}]]},
        5: {"tokens": [[{"LOWER": "rsc", "OP": "?"}, {"TEXT": {"REGEX": "^Commission"}}]]},
    }
    paths = {1: "a", 2: "b", 3: "c", 4: "d", 5: "e"}
    matcher = CodebookMatcher(nlp, codes, paths)
    assert matcher.indexed.size == 2 and len(matcher.other) == 1  # the REGEX pattern goes to spaCy's Matcher
    doc = nlp("The Inspectors came. League tables rule. They poached our teachers. "
              "We charge schools modest fees. The Commissioner rang.")
    found = {code: {hit.kind for hit in hits} for sentence in matcher.hits(doc).values() for code, hits in sentence.items()}
    assert found == {1: {"lemma"}, 2: {"phrase"}, 3: {"tokens"}, 4: {"tokens"}, 5: {"tokens"}}
    assert sorted(matcher.hits(nlp("We charge schools. Fees are low."))) == []  # `*` never crosses a sentence


def test_a_word_inside_a_longer_match_counts_only_for_that_match() -> None:
    nlp = load_pipeline()
    codes = {1: {"lemmas": ["council"]}, 2: {"phrases": ["teaching schools council"]},
             3: {"lemmas": ["government"], "phrases": ["the government"]}}
    matcher = CodebookMatcher(nlp, codes, {1: "h/la", 2: "n/sl", 3: "h"})
    doc = nlp("The government asked the Teaching Schools Council. The council agreed.")
    found = {(sentence, code): sorted(hit.words for hit in hits)
             for sentence, by_code in matcher.hits(doc).items() for code, hits in by_code.items()}
    # "government" and "council" inside longer matches are not evidence of their own; the lone "council" is
    assert found == {(0, 2): ["teaching schools council"], (0, 3): ["the government"], (1, 1): ["council"]}


def test_indexed_token_patterns_find_what_spacys_matcher_finds() -> None:
    """Every token pattern of the bundled codebook, on every example text: the same starts per sentence."""
    from spacy.matcher import Matcher

    nlp = load_pipeline()
    book = load_codebook(CODEBOOK)
    doc = nlp(" ".join(code.example for code in book.codes if code.example))
    sentences = [(s.start, s.end) for s in doc.sents]
    rows = doc.to_array(list(COLUMNS)).tolist()
    encode = lambda attr, value: nlp.vocab.strings.add(value) if attr != "POS" else __import__("spacy").parts_of_speech.IDS[value]  # noqa: E731
    compared = 0
    for code in book.codes:
        for number, pattern in enumerate(code.patterns.tokens):
            compiled = compile_pattern(pattern, encode)
            assert compiled is not None, (code.path, pattern)
            ours = TokenPatterns()
            ours.add("x", compiled)
            spacy_matcher = Matcher(nlp.vocab)
            spacy_matcher.add("x", [pattern])
            theirs = {start for _, start, end in spacy_matcher(doc) if _same_sentence(sentences, start, end)}
            assert {start for _, start, _ in ours.find(rows, sentences)} == theirs, (code.path, number)
            compared += len(theirs)
    assert compared > 10


def _same_sentence(sentences, start: int, end: int) -> bool:
    return any(first <= start and end <= stop for first, stop in sentences)


# autocode


def test_autocode_suggests_inside_participant_turns_only(coded) -> None:
    report = autocode(coded)
    assert report.transcripts == 4 and report.suggestions > 5 and report.parsed == 4
    stored = codings(coded)
    assert len(stored) == report.suggestions
    all_turns = turns(coded)
    with coded.session() as session:
        texts = dict(session.execute(select(Transcript.id, Transcript.text)).all())
    for coding in stored:
        assert (coding.origin, coding.coder) == ("suggested", "autocode")
        assert coding.quote == texts[coding.transcript_id][coding.start : coding.end] and coding.quote.strip() == coding.quote
        turn = next(t for t in all_turns[coding.transcript_id] if t.start <= coding.start and coding.end <= t.end)
        assert turn.role != "interviewer"
        assert 0 < coding.score <= 1
    # "How would you describe the competition locally?" is the interviewer's: never coded.
    interviewer = [t for t in all_turns["EAS-S02-HT"] if t.role == "interviewer"]
    assert not any(t.start <= c.start < t.end for t in interviewer for c in stored if c.transcript_id == "EAS-S02-HT")


def test_written_up_notes_are_coded_but_questions_are_not(planted) -> None:
    create_code_for_island(planted)
    autocode(planted, transcripts=["EAS-S01-T1"], codes="equity/island")
    quotes = [c.quote for c in codings(planted, transcript_id="EAS-S01-T1")]
    assert quotes[0].startswith("The teacher said the school is a 'lonely island'")
    assert not any("How connected" in quote for quote in quotes)


#: Answers that name nothing themselves: the question, or the answer before a probe, says what they are about.
CONTEXT = """---
id: EAS-S02-DH
role: Deputy headteacher
school: EAS-S02
date: 2015-06-12
kind: full
---
Interviewer: How much does Ofsted shape what you do?

Deputy headteacher: More than it should, honestly. Everyone feels it.

Interviewer: Can you give me an example?

Deputy headteacher: Last spring we rewrote the whole timetable in a week.

Interviewer: Who do you compete with for pupils?

Deputy headteacher: Mostly the one nearest us, every September.
"""


def test_a_turn_is_read_with_its_question_and_a_probe_keeps_the_subject(project, corpus) -> None:
    (corpus / "eastern" / "EAS-S02-DH.md").write_text(CONTEXT, encoding="utf-8")
    import_paths(project, [corpus])
    load_codebook_file(project, CODEBOOK, "setup")
    autocode(project, transcripts=["EAS-S02-DH"])
    answers = [t for t in turns(project)["EAS-S02-DH"] if t.role != "interviewer"]
    with project.session() as session:
        found = [(c.start, c.end, path_of(c.code), c.score) for c in session.scalars(select(Coding).order_by(Coding.start))]
    assert found == [
        (answers[0].start, answers[0].end, "hierarchy/accountability/inspection", 0.4),  # the question's word, in full
        (answers[1].start, answers[1].end, "hierarchy/accountability/inspection", 0.2254),  # carried over at half weight
        (answers[2].start, answers[2].end, "markets/competition", 0.6),  # a question naming something changes the subject
        # ("compete with for pupils" is one token pattern's match: its "compete" does not count again as a word)
    ]


def create_code_for_island(project) -> None:
    with project.session() as session:
        parent = session.scalar(select(Code).where(Code.name == "equity", Code.parent_id.is_(None)))
        session.add(Code(name="island", parent=parent, patterns={"lemmas": [], "phrases": ["lonely island"], "tokens": []}))


def test_each_suggestion_carries_the_words_that_counted(coded) -> None:
    from qualcode.coding.manual import codings_table

    autocode(coded, transcripts=["EAS-S01-HT"])
    table = codings_table(coded, transcript="EAS-S01-HT", coder="autocode")
    assert len(table) and all(0 < score <= 1 for score in table["score"])
    for text, evidence in zip(table["text"], table["evidence"]):
        assert evidence and all(word.split()[-1][:4] in text.lower() for word in evidence), (text, evidence)


def test_rerun_replaces_suggestions_and_keeps_manual_codings(coded) -> None:
    apply_codes(coded, "EAS-S02-HT", ["markets/competition/pupils"], "ann", lines="3")
    first = autocode(coded)
    again = autocode(coded)
    assert again.replaced == first.suggestions and again.suggestions == first.suggestions
    assert len(codings(coded, origin="suggested")) == first.suggestions
    assert [(c.coder, c.origin) for c in codings(coded, origin="manual")] == [("ann", "manual")]


def test_codes_and_transcripts_narrow_what_is_replaced(coded) -> None:
    autocode(coded)
    before = {(c.transcript_id, c.code_id) for c in codings(coded)}
    report = autocode(coded, transcripts=["EAS-S01-HT"], codes="hierarchy")
    assert report.transcripts == 1 and set(report.per_code) <= {p for p in report.per_code if p.startswith("hierarchy")}
    assert {(c.transcript_id, c.code_id) for c in codings(coded)} == before


def test_accept_stores_accepted_codings_that_a_rerun_leaves_alone(coded) -> None:
    accepted = autocode(coded, accept=True)
    assert accepted.origin == "accepted" and {c.origin for c in codings(coded)} == {"accepted"}
    autocode(coded)
    assert len(codings(coded, origin="accepted")) == accepted.suggestions


def test_min_score_leaves_out_weak_passages(coded) -> None:
    everything = autocode(coded)
    strong = autocode(coded, min_score=0.6)
    assert 0 < strong.suggestions < everything.suggestions
    assert all(c.score >= 0.6 for c in codings(coded))


def test_second_run_reads_the_parse_cache(coded) -> None:
    progress: list[tuple[int, int]] = []
    assert autocode(coded, progress=lambda done, total: progress.append((done, total))).parsed == 4
    assert progress[-1] == (4, 4)
    cache = ParseCache(coded.root, pipeline_version(load_pipeline()))
    assert len(list(cache.folder.glob("*.spacy"))) == 4
    second = autocode(coded)
    assert (second.parsed, second.cached) == (0, 4)


def test_a_changed_turn_layout_is_parsed_again(coded) -> None:
    autocode(coded)
    with coded.session() as session:
        session.get(Transcript, "EAS-S02-HT").turns[1].end -= 10
    assert autocode(coded).parsed == 1


def test_undo_reverses_a_whole_run(coded) -> None:
    autocode(coded)
    before = table_rows(coded)
    autocode(coded, min_score=0.5)
    with coded.session() as session:
        history.undo(session, "autocode")
    after = table_rows(coded)
    assert after["codings"] == before["codings"]


# evaluate


def test_evaluate_gives_exact_figures_on_a_handmade_gold(coded, tmp_path: Path) -> None:
    def span(lines: str) -> tuple[int, int]:
        with coded.session() as session:
            found = span_for_lines(session.get(Transcript, "EAS-S01-HT"), lines)
        return found.start, found.end

    for lines, code in (("4", "hierarchy/accountability/inspection"), ("8", "networks/tsa"), ("9", "markets")):
        apply_codes(coded, "EAS-S01-HT", [code], "autocode", lines=lines, origin="suggested")
    inspection, moderation, meals = span("4"), span("9"), span("3")
    gold = tmp_path / "gold.csv"
    gold.write_text(
        "transcript,start,end,code\n"
        f"EAS-S01-HT,{inspection[0] + 5},{inspection[0] + 20},hierarchy/accountability\n"  # found
        f"EAS-S01-HT,{moderation[0]},{moderation[1]},networks/clusters\n"  # a markets suggestion there: missed
        f"EAS-S01-HT,{meals[0]},{meals[1]},equity/disadvantage\n",  # nothing suggested: missed
        encoding="utf-8",
    )
    result = evaluate(coded, gold)
    assert result["per_code"]["hierarchy"] == pytest.approx({"precision": 1, "recall": 1, "f1": 1, "gold": 1, "suggested": 1, "correct": 1, "found": 1})
    assert result["per_code"]["networks"]["precision"] == 0 and result["per_code"]["networks"]["recall"] == 0
    assert result["per_code"]["markets"] == {"precision": 0, "recall": 0, "f1": 0, "gold": 0, "suggested": 1, "correct": 0, "found": 0}
    assert result["per_code"]["equity"]["recall"] == 0
    third = round(1 / 3, 4)
    assert result["overall"] == {"precision": third, "recall": third, "f1": third, "gold": 3, "suggested": 3, "correct": 1, "found": 1}
    assert result["per_path"]["hierarchy/accountability"]["recall"] == 1


# suggest


def test_suggest_finds_a_repeated_in_vivo_phrase(planted) -> None:
    candidates = {c.phrase: c for c in suggest(planted, top=100)}
    island = candidates["lonely island"]
    assert island.kind == "quoted" and island.frequency == 4 and island.transcripts == 2 and island.schools == 1
    assert {e["transcript"] for e in island.examples} == {"EAS-S01-T1", "EAS-S01-AH"} and len(island.examples) == 3
    assert all(re.fullmatch(r"\d+(-\d+)?", e["lines"]) and "lonely island" in e["text"].lower() for e in island.examples)


def test_suggest_by_locality_ranks_by_keyness(planted) -> None:
    by_locality = [c for c in suggest(planted, by="locality", top=50) if c.phrase == "lonely island"]
    assert [c.group for c in by_locality] == ["locality=Eastern"] and by_locality[0].keyness > 0


@pytest.mark.parametrize("phrase, covered", [("lonely island", True), ("lonely isl", False)])
def test_suggest_leaves_out_phrases_the_codebook_has_among_many(planted, phrase, covered) -> None:
    """A codebook phrase covers a candidate containing it as whole words, even among more phrases than `re` caches."""
    with planted.session() as session:
        code = session.scalar(select(Code).where(Code.name == "isolated-schools"))
        fillers = [f"filler phrase {n}" for n in range(600)]
        code.patterns = {**(code.patterns or {}), "phrases": [*fillers, phrase.upper()]}
    assert ("lonely island" not in {c.phrase for c in suggest(planted, top=100, clusters=0)}) is covered


def test_log_likelihood_matches_dunnings_formula() -> None:
    assert log_likelihood(10, 0, 100, 100) == pytest.approx(2 * 10 * 0.6931471805599453)
    assert log_likelihood(0, 10, 100, 100) == pytest.approx(-2 * 10 * 0.6931471805599453)
    assert log_likelihood(5, 5, 100, 100) == 0


def test_create_turns_a_candidate_into_an_inductive_code_with_suggestions(planted) -> None:
    before = table_rows(planted)
    created = create_candidate(planted, "Lonely island", "equity/isolated-schools/lonely-island", "ann")
    assert created.code == "equity/isolated-schools/lonely-island" and created.suggestions == 3  # two sentences of one turn make one passage
    with planted.session() as session:
        code = session.scalar(select(Code).where(Code.name == "lonely-island"))
        assert (code.origin, code.created_by, code.patterns["phrases"]) == ("inductive", "ann", ["lonely island"])
        assert code.source_transcript_id in {"EAS-S01-T1", "EAS-S01-AH"}
        assert session.scalar(select(func.count()).select_from(Coding).where(Coding.code_id == code.id)) == 3
        history.undo(session, "ann")
    assert table_rows(planted)["codings"] == before["codings"] and table_rows(planted)["codes"] == before["codes"]


# Boundaries


def test_commands_without_nlp_do_not_import_spacy() -> None:
    script = "import sys, qualcode.cli, qualcode.coding.manual, qualcode.coding.codebook; assert 'spacy' not in sys.modules, 'spacy imported'"
    subprocess.run([sys.executable, "-c", script], check=True, cwd=REPO)
    code_help = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "qualcode", "code", "--help"], capture_output=True, text=True, cwd=REPO
    )
    assert code_help.returncode == 0 and not re.search(r"\|\s+spacy\b", code_help.stderr)


@pytest.mark.skipif(not (REPO / "transcripts").exists(), reason="the bundled corpus is not generated yet")
def test_codebook_patterns_and_corpus_statements_are_separate_sources() -> None:
    from qualcode.samplecorpus import distinct_statements

    sentences = {
        _words(sentence) for statement in distinct_statements() for sentence in re.split(r"(?<=[.!?])\s+", statement)
    }
    book = load_codebook(CODEBOOK)
    long_phrases = [p for code in book.codes for p in code.patterns.phrases if len(p.split()) >= 4]
    assert long_phrases and not [p for p in long_phrases if _words(p) in sentences]
    text = CODEBOOK.read_text(encoding="utf-8").lower()
    assert "samplecorpus" not in text and "statements_" not in text and "gold-codings" not in text
    # Nor does the suggester read them: its figures come from the codebook and the transcripts alone.
    for module in ("nlp.py", "tokenmatch.py"):
        source = (REPO / "qualcode" / "suggestions" / module).read_text(encoding="utf-8")
        assert "samplecorpus" not in source and "gold-codings" not in source, module


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", text.lower()))
