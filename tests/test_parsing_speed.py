"""What makes autocode's parsing fast must not change a parse: the memoised attribute rules, two processes.

Timings are in benchmarks/ (`make bench`); these tests only check that the fast
paths give what the plain ones give, with the real pipeline.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from qualcode.suggestions import nlp
from qualcode.suggestions.nlp import PIPELINE, load_pipeline, parse_sources, read_sources
from tests.conftest import REPO

ATTRS = ["ORTH", "TAG", "POS", "MORPH", "LEMMA", "DEP", "HEAD"]
#: Words the attribute rules treat specially: two-token rules, a rule on the dependency, spaces.
TEXTS = [
    "We're gon na convert, and I ain't sure the LA got ta agree. Let's see.",
    "There is a Regional Schools Commissioner; there are academies   everywhere now.\n\nY'all know it.",
    "The head said: 'it gets harder' and he got the Ofsted grade he wanted.",
]


def test_memoised_attribute_rules_set_what_spacys_ruler_sets() -> None:
    stock = importlib.import_module(PIPELINE).load(exclude=["ner"])
    memoised = load_pipeline(syntax=True)
    assert type(memoised.get_pipe("attribute_ruler").matcher).__name__ == "MemoMatcher"
    for _ in range(2):  # the second time every token comes from the memo
        for text in TEXTS:
            assert (memoised(text).to_array(ATTRS) == stock(text).to_array(ATTRS)).all(), text


def test_the_default_pipeline_splits_sentences_without_the_parser() -> None:
    pipeline = load_pipeline()
    assert "parser" not in pipeline.pipe_names and "senter" in pipeline.pipe_names
    doc = pipeline("The LA used to help. Now nobody visits us.")
    assert [s.text for s in doc.sents] == ["The LA used to help.", "Now nobody visits us."]


def test_two_processes_parse_what_one_does(project, corpus, monkeypatch) -> None:
    from qualcode.ingest.corpus import import_paths

    import_paths(project, [corpus])
    with project.session() as session:
        sources = read_sources(session)
    one = [d.to_bytes() for p in parse_sources(project, sources) for d in p.docs]
    for path in (project.root / ".qualcode" / "cache").rglob("*.spacy"):
        path.unlink()
    monkeypatch.setattr(nlp, "PROCESS_WORDS", 0)
    assert nlp.processes(1) == (2 if len(__import__("os").sched_getaffinity(0)) >= 2 else 1)
    parsed = list(parse_sources(project, sources))
    assert [p.source.id for p in parsed] == [s.id for s in sources]
    assert [d.to_bytes() for p in parsed for d in p.docs] == one


@pytest.mark.parametrize("args", [["--help"], ["--quick", "--dry-run"]])
def test_the_benchmark_script_starts(args) -> None:
    result = subprocess.run([sys.executable, str(REPO / "benchmarks" / "run.py"), *args],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert ("plan: scale 1 on sqlite; peer qc: no" in result.stdout) if "--quick" in args else "--quick" in result.stdout
