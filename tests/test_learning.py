"""`autocode --learn` and `evaluate --cv`: models trained on a small hand-coded corpus whose answer is known.

The corpus: six interviews of six answers each. An answer about inspection
uses inspection words, one about parents' choice uses those; which is which is
fixed by its position, so the right code of every turn is known. The first
four interviews are coded by hand, the last two are not; two turns are also
coded `rare`, too few to model.
"""

from __future__ import annotations

import csv
import re
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from qualcode.coding.codebook import add_code
from qualcode.ingest.corpus import import_paths
from qualcode.exchange.coding_tables import import_codings
from qualcode.suggestions.learning import LEARNED, cross_validate, learn, read_turns, train
from qualcode.models import Coding
from qualcode.analysis.overview import code_paths
from qualcode.project import Project, init_project

INSPECTION = ["The inspectors came in March and the inspection grade shaped everything.",
              "Ofsted inspectors judged our lessons and the inspection report was hard.",
              "We prepare for inspection all year because the inspectors can arrive any day.",
              "Our grade from the inspection team decided what the governors worried about."]
CHOICE = ["Parents choose the popular school and admissions keep falling here.",
          "Families shop around, parents choose by reputation and our admissions suffer.",
          "The open evening matters because parents choose where their children go.",
          "Admissions rose once parents saw the new building and chose us."]
INTERVIEWS = 6
CODED = 4


def interview(number: int) -> tuple[str, list[tuple[str, str]]]:
    answers = [(INSPECTION[(number + i // 2) % 4], "inspection") if i % 2 == 0 else (CHOICE[(number + i // 2) % 4], "choice")
               for i in range(6)]
    body = "".join(f"Interviewer: Could you say more?\n\nParticipant: {text}\n\n" for text, _ in answers)
    front = f"---\nid: T{number}\ninformant_kind: LA\nlocality: National\nkind: full\n---\n"
    return front + body, answers


@pytest.fixture(scope="module")
def learned_project(tmp_path_factory) -> Project:
    folder = tmp_path_factory.mktemp("learning")
    (folder / "corpus").mkdir()
    rows = []
    for number in range(1, INTERVIEWS + 1):
        text, answers = interview(number)
        (folder / "corpus" / f"T{number}.md").write_text(text, encoding="utf-8")
        body = text.split("---\n", 2)[2]
        if number <= CODED:
            for i, (answer, code) in enumerate(answers):
                start = body.index(answer)
                rows.append((f"T{number}", start, start + len(answer), code))
                if number == 1 and i < 2:
                    rows.append((f"T{number}", start, start + len(answer), "rare"))
    project = init_project(folder / "project")
    import_paths(project, [folder / "corpus"])
    for code in ("inspection", "choice", "rare"):
        add_code(project, code, "test")
    with (folder / "gold.csv").open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("transcript", "start", "end", "code"), *rows])
    import_codings(project, folder / "gold.csv", "ann")
    return project


def test_learn_suggests_the_right_code_for_every_uncoded_turn(learned_project, run) -> None:
    report = learn(learned_project)
    assert report.modelled == ["choice", "inspection"] and report.too_few == {"rare": 2}
    assert report.trained_on == CODED * 6 and report.suggestions == (INTERVIEWS - CODED) * 6
    with learned_project.session() as session:
        paths = code_paths(session)
        rows = session.execute(select(Coding.transcript_id, Coding.quote, Coding.code_id, Coding.origin, Coding.score)
                               .where(Coding.coder == LEARNED)).all()
    expected = {text: code for n in range(CODED + 1, INTERVIEWS + 1) for text, code in interview(n)[1]}
    assert {(quote, paths[code]) for _, quote, code, _, _ in rows} == set(expected.items())
    assert all(origin == "suggested" and score > 0.5 for *_, origin, score in rows)
    # a rerun replaces the learned suggestions instead of adding to them
    learn(learned_project)
    with learned_project.session() as session:
        assert session.query(Coding).filter(Coding.coder == LEARNED).count() == len(rows)
    listed = json.loads(run("codings", "--coder", LEARNED, "--json", "--project", str(learned_project.root)).stdout)
    assert len(listed) == len(rows) and all(row["score"] > 0.5 and row["evidence"] for row in listed)


def test_weak_learned_suggestions_are_held_back_and_counted(learned_project) -> None:
    every = learn(learned_project, min_score=0.0)
    assert every.held_back == 0 and learn(learned_project).held_back == 0  # the default floor, MIN_SCORE, keeps these
    scores = sorted(p.score for p in every.predictions)
    floor = scores[len(scores) // 2]
    weak = learn(learned_project, min_score=floor)
    assert weak.held_back == sum(s < floor for s in scores) > 0
    assert weak.suggestions == len(scores) - weak.held_back
    with learned_project.session() as session:
        stored = session.scalars(select(Coding.score).where(Coding.coder == LEARNED)).all()
    assert len(stored) == weak.suggestions and min(stored) >= floor


def test_scores_are_probabilities_and_evidence_names_the_words(learned_project) -> None:
    turns = read_turns(learned_project)
    models = train(turns)
    uncoded = [turn for turn in turns if not turn.coded]
    for prediction, probabilities in zip(models.predict(uncoded), models.probabilities(uncoded)):
        assert all(0.0 <= p <= 1.0 for p in probabilities.values())
        other = "choice" if prediction.path == "inspection" else "inspection"
        assert probabilities[prediction.path] > 0.7 and probabilities[other] < 0.3  # calibrated, not just ranked
        words = {"inspection": {"inspection", "inspector", "grade", "ofsted"}, "choice": {"parent", "choose", "admission"}}
        assert set(prediction.evidence) & words[prediction.path], prediction.evidence


def test_cross_validation_finds_the_known_answer(learned_project) -> None:
    result = cross_validate(learned_project, 2)
    assert result["transcripts"] == CODED and result["turns"] == CODED * 6
    for code in ("inspection", "choice"):
        assert result["per_code"][code]["f1"] == 1.0 and result["per_code"][code]["kappa"] == 1.0
        assert result["per_code"][code]["coded"] == CODED * 3
    assert result["too_few"] == {"rare": 2}


def test_evaluate_cv_on_the_command_line(learned_project, run) -> None:
    done = run("evaluate", "--cv", "2", "--json", "--project", str(learned_project.root))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["per_code"]["inspection"]["f1"] == 1.0


def test_more_folds_than_coded_transcripts_is_refused(learned_project) -> None:
    from qualcode.errors import QualcodeError

    with pytest.raises(QualcodeError, match="needs at least 5 transcripts"):
        cross_validate(learned_project, 5)


def test_too_few_codings_is_said_plainly(tmp_path: Path) -> None:
    project = init_project(tmp_path / "project")
    text, _ = interview(1)
    (tmp_path / "T1.md").write_text(text, encoding="utf-8")
    import_paths(project, [tmp_path / "T1.md"])
    from qualcode.errors import QualcodeError

    with pytest.raises(QualcodeError, match="too few coded turns"):
        learn(project)


def test_tag_uncertain_walks_the_most_unsure_turns_first(learned_project) -> None:
    from qualcode.coding.tagging import Tagger

    learn(learned_project)
    planted = [0.95, 0.55, None, 0.7, 0.05, 0.48]  # None: the suggestion is removed, nothing is known there
    with learned_project.session() as session:
        suggestions = session.scalars(select(Coding).where(Coding.coder == LEARNED, Coding.transcript_id == "T5")
                                      .order_by(Coding.start)).all()
        for coding, score in zip(suggestions, planted):
            if score is None:
                session.delete(coding)
            else:
                coding.score = score
    in_order = Tagger(learned_project, "ann", "T5").turns
    walked = Tagger(learned_project, "ann", "T5", uncertain=True).turns
    # unsureness 1 - |2p - 1|: none 1.0, 0.48 0.96, 0.55 0.9, 0.7 0.6, 0.05 0.1, 0.95 0.1 (ties in turn order)
    assert walked == [in_order[i] for i in (2, 5, 1, 3, 0, 4)]


def test_tag_finds_the_evidence_words_in_the_turn(learned_project) -> None:
    from qualcode.coding.tagging import Tagger, evidence_spans

    text = "The Inspectors came; our inspection grade fell. Parents noticed."
    spans = evidence_spans(text, ("inspector", "inspection grade", "pattern:inspection"))
    assert [text[s:e] for s, e in spans] == ["Inspectors", "inspection grade"]
    learn(learned_project)
    view = Tagger(learned_project, "ann", "T6").view()
    suggestion = view.suggestions[0]
    shown = [view.text[s:e] for s, e in evidence_spans(view.text, suggestion.evidence)]
    assert suggestion.evidence and shown  # the learned suggestion's strongest words are found in the turn


def test_autocode_learn_needs_no_patterns(learned_project, run) -> None:
    """A codebook made in the terminal has no patterns: --learn still suggests; without it, autocode says why not."""
    root = ["--project", str(learned_project.root)]
    refused = run("autocode", *root)
    assert refused.returncode == 1 and "no codes have patterns" in refused.stderr
    done = run("autocode", "--learn", "--min-score", "0", *root)
    assert done.returncode == 0, done.stderr
    assert "no code has patterns: suggesting from the learned models only" in done.stderr
    with learned_project.session() as session:
        assert session.query(Coding).filter(Coding.coder == LEARNED).count() == (INTERVIEWS - CODED) * 6


def test_autocode_learn_says_how_many_it_held_back(learned_project, run) -> None:
    """Last in the module: it gives `inspection` a pattern, which `autocode` needs and the other tests do not."""
    from qualcode.models import Code

    with learned_project.session() as session:
        session.scalars(select(Code).where(Code.name == "inspection")).one().patterns = {"lemmas": ["inspector"]}
    done = run("autocode", "--learn", "--min-score", "0.99", "--project", str(learned_project.root))
    assert done.returncode == 0, done.stderr
    said = " ".join(done.stderr.split())
    held = re.search(r"(\d+) learned suggestions scoring under 0.99 held back", said)
    with learned_project.session() as session:
        stored = session.query(Coding).filter(Coding.coder == LEARNED).count()
    assert held and int(held.group(1)) + stored == (INTERVIEWS - CODED) * 6, said
