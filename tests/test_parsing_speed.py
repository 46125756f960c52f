"""What makes autocode fast must not change a parse or a suggestion: the memoised attribute rules and lemmas,
repeated texts parsed once, two processes.

Timings are in benchmarks/ (`make bench`); these tests only check that the fast
paths give what the plain ones give, with the real pipeline.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys

import pytest

from qualcode.suggestions import nlp
from qualcode.suggestions.nlp import PIPELINE, Passage, Source, load_pipeline, parse_sources, read_sources
from qualcode.suggestions.parallel import map_parsed
from tests.conftest import REPO

CODEBOOK = REPO / "codebooks" / "hierarchy-markets-networks.yaml"

ATTRS = ["ORTH", "TAG", "POS", "MORPH", "LEMMA", "DEP", "HEAD"]
#: Words the attribute rules treat specially: two-token rules, a rule on the dependency, spaces.
TEXTS = [
    "We're gon na convert, and I ain't sure the LA got ta agree. Let's see.",
    "There is a Regional Schools Commissioner; there are academies   everywhere now.\n\nY'all know it.",
    "The head said: 'it gets harder' and he got the Ofsted grade he wanted.",
]


@pytest.mark.parametrize("syntax", [True, False])
def test_memoised_attribute_rules_set_what_spacys_ruler_sets(syntax) -> None:
    stock = importlib.import_module(PIPELINE).load(exclude=["ner"] if syntax else ["ner", "parser"])
    if not syntax:
        stock.enable_pipe("senter")
    memoised = load_pipeline(syntax=syntax)
    assert type(memoised.get_pipe("attribute_ruler").matcher).__name__ == "MemoMatcher"
    # Without the parser the ruler and the lemmatizer are answered together from one memo.
    assert ("qualcode_token_attributes" in memoised.pipe_names) is not syntax
    for _ in range(2):  # the second time every token comes from the memo
        for text in TEXTS:
            assert (memoised(text).to_array(ATTRS) == stock(text).to_array(ATTRS)).all(), text


def test_a_repeated_text_is_parsed_once_and_parsed_as_alone(project) -> None:
    text = "Can you give me an example?\nWe work with the LA. Can you give me an example?\nThe trust decides."
    first, second = text.index("Can"), text.rindex("Can")
    source = Source("T1", "0" * 64, text, [Passage(first, first + 27), Passage(second, second + 27),
                                           Passage(text.index("The"), len(text))])
    docs = next(iter(parse_sources(project, [source]))).docs
    assert docs[0] is docs[1]  # one parse, shared
    assert (docs[0].to_array(ATTRS) == load_pipeline()("Can you give me an example?").to_array(ATTRS)).all()
def test_a_text_in_two_transcripts_is_remembered_for_the_third(project) -> None:
    """Across transcripts a parse is kept once a text comes again: most short texts never do, and keeping every
    one grew to gigabytes on a large corpus."""
    question = "Can you give me an example?"
    sources = [Source(f"R{n}", str(n) * 64, f"{question}\nAnswer {n}.", [Passage(0, len(question))])
               for n in range(1, 4)]
    first, second, third = (parsed.docs[0] for parsed in parse_sources(project, sources))
    assert third is second and second is not first
    assert (first.to_array(ATTRS) == third.to_array(ATTRS)).all()


def test_the_default_pipeline_splits_sentences_without_the_parser() -> None:
    pipeline = load_pipeline()
    assert "parser" not in pipeline.pipe_names and "senter" in pipeline.pipe_names
    doc = pipeline("The LA used to help. Now nobody visits us.")
    assert [s.text for s in doc.sents] == ["The LA used to help.", "Now nobody visits us."]


def test_two_processes_parse_what_one_does(project, corpus, monkeypatch) -> None:
    """`map_parsed` in two processes gives, in the transcripts' order, what one process gives, and writes the cache."""
    from qualcode.ingest.corpus import import_paths

    import_paths(project, [corpus])
    with project.session() as session:
        sources = read_sources(session)
    one = [d.to_bytes() for p in parse_sources(project, sources) for d in p.docs]
    cached = [d.to_array(nlp.DOC_ATTRS).tolist() for p in parse_sources(project, sources) for d in p.docs]
    for path in (project.root / ".qualcode" / "cache").rglob("*.spacy"):
        path.unlink()
    monkeypatch.setattr(nlp, "PROCESS_WORDS", 0)
    assert nlp.processes(1) == (2 if len(__import__("os").sched_getaffinity(0)) >= 2 else 1)
    stats = nlp.ParseStats()
    worked = list(map_parsed(project, sources, lambda p: (p.source.id, [d.to_bytes() for d in p.docs], os.getpid()),
                             stats=stats))
    assert [source_id for source_id, _, _ in worked] == [s.id for s in sources]
    assert [d for _, docs, _ in worked for d in docs] == one
    assert (stats.parsed, stats.cached) == (len(sources), 0)
    if nlp.processes(1) == 2:
        assert len({pid for _, _, pid in worked} - {os.getpid()}) == 2  # really two other processes
    # the cache they wrote, read back, holds what the cache one process writes holds
    assert [d.to_array(nlp.DOC_ATTRS).tolist() for p in parse_sources(project, sources) for d in p.docs] == cached


def test_a_failing_worker_is_reported(project, corpus, monkeypatch) -> None:
    from qualcode.ingest.corpus import import_paths

    import_paths(project, [corpus])
    with project.session() as session:
        sources = read_sources(session)
    monkeypatch.setattr(nlp, "PROCESS_WORDS", 0)

    def fails(parsed):
        raise ValueError(f"cannot read {parsed.source.id}")

    with pytest.raises(RuntimeError, match="cannot read"):
        list(map_parsed(project, sources, fails))


def test_autocode_in_two_processes_stores_what_one_process_stores(tmp_path, corpus, monkeypatch) -> None:
    from qualcode.coding.codebook import load_codebook_file
    from qualcode.ingest.corpus import import_paths
    from qualcode.project import init_project
    from sqlalchemy import text

    from qualcode.suggestions.autocode import autocode

    stored = []
    for words in (10**9, 0):  # one process, then two
        monkeypatch.setattr(nlp, "PROCESS_WORDS", words)
        project = init_project(tmp_path / f"p{words}")
        import_paths(project, [corpus])
        load_codebook_file(project, CODEBOOK, "setup")
        report = autocode(project)
        assert report.parsed == report.transcripts > 1
        with project.engine.connect() as connection:
            stored.append(sorted(map(tuple, connection.execute(text(
                "SELECT transcript_id, start, \"end\", code_id, coder, origin, score, evidence FROM codings")))))
        project.close()
    assert stored[0] and stored[0] == stored[1]


@pytest.mark.parametrize("args", [["--help"], ["--quick", "--dry-run"]])
def test_the_benchmark_script_starts(args) -> None:
    result = subprocess.run([sys.executable, str(REPO / "benchmarks" / "run.py"), *args],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    if "--quick" in args:
        assert "plan: scale 1 on sqlite;" in result.stdout and "peer qc: no" in result.stdout
    else:
        assert "--quick" in result.stdout
