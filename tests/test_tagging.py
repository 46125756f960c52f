"""The tagging session's library: walking turns, --uncoded, resuming, and every action saved at once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from qualcode.coding.codebook import UnknownCode, find_code, load_codebook_file, path_of
from qualcode.coding.manual import apply_codes
from qualcode.ingest.corpus import import_paths
from qualcode.errors import QualcodeError
from qualcode.models import Code, Coding, Memo, Turn
from qualcode.project import Project
from qualcode.coding.tagging import STATE_FILE, Tagger, load_position

REPO = Path(__file__).resolve().parents[1]
CODEBOOK = REPO / "codebooks" / "hierarchy-markets-networks.yaml"


def suggest(project: Project, transcript: str, turn: int, code: str, score: float, words: str | None = None) -> int:
    """Store a suggestion as autocode would: a `suggested` coding on a turn (or on some words of it)."""
    with project.session() as session:
        row = session.scalar(select(Turn).where(Turn.transcript_id == transcript, Turn.number == turn))
        text = row.transcript.text
        start, end = row.start, row.end
        if words:
            start = text.index(words, row.start)
            end = start + len(words)
        coding = Coding(transcript_id=transcript, start=start, end=end, code=find_code(session, code), coder="autocode",
                        origin="suggested", score=score, quote=text[start:end])
        session.add(coding)
        session.flush()
        return coding.id


@pytest.fixture
def study(project: Project, corpus: Path) -> Project:
    """The fixture corpus, the study's codebook, and three suggestions on EAS-S01-HT."""
    import_paths(project, [corpus])
    load_codebook_file(project, CODEBOOK, "setup")
    suggest(project, "EAS-S01-HT", 2, "hierarchy/accountability/inspection", 0.9, "they came in last March")
    suggest(project, "EAS-S01-HT", 2, "equity/disadvantage", 0.6)
    suggest(project, "EAS-S01-HT", 4, "networks/tsa", 0.8)
    return project


def fresh(project: Project) -> Project:
    """The same project through a new engine: what another process would see."""
    return Project.open(project.root)


def codings(project: Project, **where) -> list[tuple]:
    with fresh(project).session() as session:
        rows = session.scalars(select(Coding).filter_by(**where).order_by(Coding.id))
        return [(c.code.name, c.origin, c.coder, c.quote) for c in rows]


def test_walks_the_participant_turns_only(study):
    tagger = Tagger(study, "x", "EAS-S01-HT")
    view = tagger.view()
    assert [t.number for t in tagger.turns] == [2, 4]
    assert (view.number, view.position, view.total, view.speaker, view.lines) == (2, 1, 2, "Headteacher", "3-4")
    assert view.text.startswith("Well, we're a two-form entry primary")
    assert view.question == "Could you tell me a little about the school?"
    assert [s.code for s in view.suggestions] == ["hierarchy/accountability/inspection", "equity/disadvantage"]
    assert view.codes == []
    assert tagger.next() and tagger.view().number == 4
    assert not tagger.next() and tagger.view().number == 4
    assert tagger.previous() and tagger.view().number == 2
    assert not tagger.previous()


def test_header_has_the_participants_metadata(study):
    header = Tagger(study, "x", "EAS-S01-HT").header
    assert header["role"] == "Headteacher"
    assert (header["school"], header["locality"], header["phase"], header["ofsted"]) == (
        "EAS-S01", "Eastern", "primary", "Good"
    )
    assert Tagger(study, "x", "NAT-I01").header["role"] == "NCTL"


def test_unknown_transcript_has_a_did_you_mean(study):
    with pytest.raises(QualcodeError, match="no transcript 'EAS-S01-H'; did you mean"):
        Tagger(study, "x", "EAS-S01-H")


def test_without_a_transcript_walks_on_through_the_corpus(study):
    tagger = Tagger(study, "x")
    assert tagger.transcript_id == "EAS-S01-DH"
    assert tagger.next()
    assert (tagger.transcript_id, tagger.view().number) == ("EAS-S01-HT", 2)


def test_uncoded_skips_turns_with_manual_or_accepted_codings(study):
    apply_codes(study, "EAS-S01-HT", ["markets"], "y", turn=2)
    assert [t.number for t in Tagger(study, "x", "EAS-S01-HT", uncoded=True).turns] == [4]
    apply_codes(study, "EAS-S01-HT", ["markets"], "y", turn=4)
    with pytest.raises(QualcodeError, match="no uncoded participant turns"):
        Tagger(study, "x", "EAS-S01-HT", uncoded=True)
    # suggestions alone do not make a turn coded
    assert Tagger(study, "x", "EAS-S02-HT", uncoded=True).turns


def test_coding_the_whole_corpus_leaves_nothing_to_start_on(study):
    for transcript, turns in {"EAS-S01-DH": [3], "EAS-S01-HT": [2, 4], "EAS-S02-HT": [2, 4], "NAT-I01": [2]}.items():
        for turn in turns:
            apply_codes(study, transcript, ["markets"], "y", turn=turn)
    with pytest.raises(QualcodeError, match="every participant turn has been coded"):
        Tagger(study, "x")


def test_resumes_where_the_coder_stopped(study):
    tagger = Tagger(study, "x", "EAS-S01-HT")
    tagger.next()
    assert load_position(fresh(study), "x", "EAS-S01-HT") == 4
    assert Tagger(fresh(study), "x", "EAS-S01-HT").view().number == 4
    assert Tagger(fresh(study), "y", "EAS-S01-HT").view().number == 2
    assert Tagger(fresh(study), "x").transcript_id == "EAS-S01-HT"
    state = json.loads((study.root / STATE_FILE).read_text())
    assert state["x"] == {"last": "EAS-S01-HT", "transcripts": {"EAS-S01-HT": 4}}
    assert not list((study.root / STATE_FILE).parent.glob(".tag-state-*"))


def test_resume_skips_forward_when_the_saved_turn_left_the_walk(study):
    Tagger(study, "x", "EAS-S01-HT").next()
    apply_codes(study, "EAS-S01-HT", ["markets"], "x", turn=4)
    apply_codes(study, "EAS-S01-HT", ["markets"], "x", turn=2)
    Tagger(study, "x", "EAS-S02-HT")
    tagger = Tagger(study, "x", "EAS-S02-HT", uncoded=True)
    assert tagger.view().number == 2


def test_accept_and_reject_are_saved_at_once(study):
    tagger = Tagger(study, "x", "EAS-S01-HT")
    first, second = tagger.view().suggestions
    assert tagger.accept(first.id) == "hierarchy/accountability/inspection"
    assert tagger.reject(second.id) == "equity/disadvantage"
    assert codings(study, transcript_id="EAS-S01-HT") == [
        ("inspection", "accepted", "x", "they came in last March"),
        ("tsa", "suggested", "autocode", codings(study, origin="suggested")[0][3]),
    ]
    view = tagger.view()
    assert [c.code for c in view.codes] == ["hierarchy/accountability/inspection"] and view.suggestions == []
    with pytest.raises(QualcodeError, match="no suggested coding"):
        tagger.accept(first.id)


def test_apply_codes_the_turn_or_the_selection(study):
    tagger = Tagger(study, "x", "EAS-S01-HT")
    applied = tagger.apply(["competition/pupils", "funding-pressure"])
    assert applied.codes == ["markets/competition/pupils", "hierarchy/funding-pressure"]
    selection = tagger.select("free school meals")
    assert selection.text == "free school meals"
    tagger.apply(["disadvantage"])
    rows = codings(study, coder="x")
    assert rows[-1] == ("disadvantage", "manual", "x", "free school meals")
    assert rows[0][3] == tagger.turn_text
    with pytest.raises(UnknownCode) as unknown:
        tagger.apply(["competiton"])
    assert "markets/competition" in unknown.value.suggestions
    tagger.apply(["localism"], new=True)
    with fresh(study).session() as session:
        code = session.scalar(select(Code).where(Code.name == "localism"))
        assert (code.origin, code.created_by, code.source_transcript_id) == ("inductive", "x", "EAS-S01-HT")


def test_select_by_word_numbers_trims_punctuation(study):
    tagger = Tagger(study, "x", "EAS-S01-HT")
    words = tagger.words()
    assert tagger.turn_text[words[0][0] - tagger.turn.start : words[0][1] - tagger.turn.start] == "Well,"
    assert tagger.select("1-3").text == "Well, we're a"
    assert tagger.select("1").text == "Well"
    assert tagger.target == (tagger.selection.start, tagger.selection.end)
    for bad in ("0", "5-2", "999", "not in the turn"):
        with pytest.raises(QualcodeError):
            tagger.select(bad)
    assert tagger.select("") is None and tagger.target == (tagger.turn.start, tagger.turn.end)
    tagger.select("1-3")
    tagger.next()
    assert tagger.selection is None


def test_in_vivo_codes_the_selected_words(study):
    tagger = Tagger(study, "x", "EAS-S01-HT")
    with pytest.raises(QualcodeError, match="select the words first"):
        tagger.in_vivo()
    tagger.select("held on to Good")
    applied = tagger.in_vivo()
    assert applied.created_codes == ["in-vivo/held-on-to-good"]
    assert codings(study, coder="x") == [("held-on-to-good", "manual", "x", "held on to Good")]


def test_uncode_removes_the_code_from_the_turn(study):
    tagger = Tagger(study, "x", "EAS-S01-HT")
    tagger.apply(["markets"])
    assert tagger.uncode(["markets"]) == 1
    assert codings(study, coder="x") == []
    with pytest.raises(QualcodeError, match="no codings to remove"):
        tagger.uncode(["markets"])


def test_memo_goes_on_the_coders_newest_coding_or_the_transcript(study):
    tagger = Tagger(study, "x", "EAS-S01-HT")
    assert [t.kind for t in tagger.memo_targets()] == ["transcript"]
    tagger.apply(["markets"])
    tagger.accept(tagger.view().suggestions[0].id)
    targets = tagger.memo_targets()
    assert [t.kind for t in targets] == ["coding", "coding", "transcript"]
    assert "markets" in targets[0].label and "inspection" in targets[1].label
    tagger.memo(targets[1], "  relief at keeping Good  ")
    tagger.memo(targets[-1], "a confident head")
    with pytest.raises(QualcodeError, match="empty memo"):
        tagger.memo(targets[-1], " ")
    with fresh(study).session() as session:
        assert session.get(Coding, int(targets[1].target)).memo == "relief at keeping Good"
        memo = session.scalar(select(Memo))
        assert (memo.target_kind, memo.target_id, memo.text, memo.author) == (
            "transcript", "EAS-S01-HT", "a confident head", "x"
        )


def test_undo_reverses_the_last_action(study):
    tagger = Tagger(study, "x", "EAS-S01-HT")
    suggestion = tagger.view().suggestions[0]
    tagger.accept(suggestion.id)
    tagger.apply(["markets"])
    assert tagger.undo().action == "code"
    assert tagger.undo().action == "accept"
    assert [s.id for s in tagger.view().suggestions][0] == suggestion.id
    assert codings(study, coder="x") == []


def test_complete_ranks_code_paths(study):
    assert Tagger(study, "x", "EAS-S01-HT").complete("competit")[0] == "markets/competition"


def test_suggest_runs_the_real_autocode_only_when_there_are_none(study):
    suggest(study, "EAS-S01-HT", 2, "markets/competition", 0.7)
    before = codings(study, transcript_id="EAS-S01-HT")
    assert Tagger(study, "x", "EAS-S01-HT").suggest() == len(codings(study, transcript_id="EAS-S01-HT", origin="suggested"))
    assert codings(study, transcript_id="EAS-S01-HT") == before, "a transcript with suggestions is left alone"
    found = Tagger(study, "x", "EAS-S02-HT").suggest()
    assert found > 0
    with study.session() as session:
        made = session.scalars(select(Coding).where(Coding.transcript_id == "EAS-S02-HT")).all()
        assert len(made) == found and {(c.origin, c.coder) for c in made} == {("suggested", "autocode")}
        assert "markets/competition/pupils" in {path_of(c.code) for c in made}


def test_tag_command_reports_problems_without_a_screen(run, study):
    unknown = run("tag", "EAS-S01-H", "--coder", "x", "--project", str(study.root))
    assert unknown.returncode == 1 and "no transcript 'EAS-S01-H'; did you mean" in unknown.stderr
    help_text = run("tag", "--help").stdout
    assert "--uncoded" in help_text and "--coder" in help_text
    assert " tag " in run("--help").stdout


def test_starting_a_session_does_not_import_spacy():
    script = "import sys, qualcode.cli, qualcode.coding.tagging, qualcode.coding.tui; assert 'spacy' not in sys.modules"
    subprocess.run([sys.executable, "-c", script], check=True)
