"""Resolving two coders' disagreements: the decisions through the library, through the review screen
(Textual's pilot) and undone, on the two-coder fixture of `test_agreement` plus one passage where ann and ben
chose different codes (HT turn 2: ann markets, ben networks).

Turn units then disagree on HT t2 (markets and networks) and S02 t4 (markets: ann only).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from qualcode.analysis import agreement
from qualcode.coding import consensus
from qualcode.coding.manual import apply_codes, change_history, codings_table, undo
from qualcode.errors import QualcodeError
from qualcode.models import Coding, Resolution
from qualcode.project import Project
from qualcode.coding.tui_review import ReviewApp
from tests.conftest import FIXTURES
from tests.test_agreement import make_two_coder_project, span
from tests.test_postgres import pg_url  # noqa: F401 (a fixture)
from tests.test_tui import screen_text, synchronously, type_text

PRIMARY = "a two-form entry primary"


@pytest.fixture(scope="module")
def made_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("consensus")
    project = make_two_coder_project(root / "team", shutil.copytree(FIXTURES / "corpus", root / "corpus"))
    apply_codes(project, "EAS-S01-HT", ["networks"], "ben", span=span(project, "EAS-S01-HT", "about a quarter", "free school meals."))
    project.engine.dispose()
    return root / "team"


@pytest.fixture
def team(made_once: Path, tmp_path: Path) -> Project:
    """The project made once per module, copied for each test (its decisions are the test's own)."""
    return Project.open(shutil.copytree(made_once, tmp_path / "team"))


def consensus_rows(project: Project) -> list[tuple[str, str, str, str]]:
    """(code, coder, origin, words) of the consensus codings."""
    with Project.open(project.root).session() as session:
        found = session.scalars(select(Coding).where(Coding.origin == "resolved").order_by(Coding.start, Coding.code_id))
        return [(c.code.name, c.coder, c.origin, c.transcript.text[c.start:c.end]) for c in found]


def decisions(project: Project) -> list[tuple[str, str, str | None, str, str]]:
    with Project.open(project.root).session() as session:
        return [(r.transcript_id, r.decision, r.kept, r.coders, r.resolved_by)
                for r in session.scalars(select(Resolution).order_by(Resolution.id))]


def test_passages_group_a_units_disputed_codes_with_each_coders_words_and_context(team: Project) -> None:
    first, second = consensus.passages(team, ["ann", "ben"])
    assert (first.transcript, first.lines, first.codes) == ("EAS-S01-HT", "3-4", ["markets", "networks"])
    assert [(code, first.text[s - first.start:e - first.start]) for code, s, e in first.coded["ann"]] == [("markets", PRIMARY)]
    assert [code for code, _, _ in first.coded["ben"]] == ["networks"]
    assert "Could you tell me a little about the school?" in first.before and "who do you work with?" in first.after
    assert (second.transcript, second.codes, second.coded["ben"]) == ("EAS-S02-HT", ["markets"], [])
    assert first.resolution is None and second.resolution is None
    with pytest.raises(QualcodeError, match="compares two coders"):
        consensus.passages(team, ["ann"])


def test_keeping_one_coders_codings_leaves_theirs_alone_and_codes_the_consensus(team: Project) -> None:
    before = agreement.agreement(team, ["ann", "ben"]).overall
    first = consensus.passages(team, ["ann", "ben"])[0]
    assert consensus.keep(team, first, ["ann"], "cat") == "kept ann's"
    assert decisions(team) == [("EAS-S01-HT", "keep", "ann", "ann,ben", "cat")] * 2  # one per disputed code
    assert consensus_rows(team) == [("markets", "consensus", "resolved", PRIMARY)]  # ann's span; no networks
    assert agreement.agreement(team, ["ann", "ben"]).overall == before  # the coders' own judgements stand
    # Resolved: marked in either order of the pair, and shown beside the disagreements.
    assert [p.resolution is not None for p in consensus.passages(team, ["ben", "ann"])] == [True, False]
    rows = consensus.mark_disagreements(team, ["ann", "ben"], agreement.disagreements(team, ["ann", "ben"]))
    assert [consensus.describe(r["resolution"]) for r in rows if r["resolution"]] == ["kept ann's, by cat"] * 2
    listed = codings_table(team, origin="resolved")
    assert listed[["code", "coder", "origin"]].values.tolist() == [["markets", "consensus", "resolved"]]
    with pytest.raises(QualcodeError, match="was resolved by cat .*undo that decision first"):
        consensus.keep(team, first, ["ben"], "cat")


def test_keep_both_and_recode(team: Project) -> None:
    first, second = consensus.passages(team, ["ann", "ben"])
    consensus.keep(team, first, ["ann", "ben"], "ann")
    assert [(code, words) for code, _, _, words in consensus_rows(team)] == [
        ("markets", PRIMARY), ("networks", "about a quarter of the children are on free school meals.")]
    with pytest.raises(QualcodeError, match="no code 'nowhere'"):
        consensus.recode(team, second, ["nowhere"], "ann")
    assert len(decisions(team)) == 2  # the failed recode left nothing behind
    assert consensus.recode(team, second, ["networks"], "ann") == "recoded as networks"
    assert consensus_rows(team)[-1][:3] == ("networks", "consensus", "resolved")
    assert consensus_rows(team)[-1][3] == second.text and decisions(team)[-1] == ("EAS-S02-HT", "recode", None, "ann,ben", "ann")
    with pytest.raises(QualcodeError, match="no disagreement of ann and ben left to resolve"):
        consensus.Review(team, ["ann", "ben"], "ann")


def test_a_decision_is_one_change_that_undo_takes_back(team: Project) -> None:
    first = consensus.passages(team, ["ann", "ben"])[0]
    consensus.keep(team, first, ["ann", "ben"], "cat")
    assert change_history(team, "cat")[0]["action"] == "resolve"
    assert "review ann, ben: EAS-S01-HT 3-4 (markets, networks) kept both" == change_history(team, "cat")[0]["description"]
    undone = undo(team, "cat")
    assert undone.action == "resolve" and decisions(team) == [] and consensus_rows(team) == []
    assert consensus.passages(team, ["ann", "ben"])[0].resolution is None
    consensus.keep(team, first, ["ben"], "cat")  # and it can be decided again
    assert consensus_rows(team) == [("networks", "consensus", "resolved", "about a quarter of the children are on free school meals.")]


def test_a_decision_and_its_undo_on_postgres(tmp_path: Path, corpus: Path, pg_url: str) -> None:  # noqa: F811
    project = make_two_coder_project(tmp_path / "team", corpus, pg_url)
    second = consensus.passages(project, ["ann", "ben"])[1]
    consensus.recode(project, second, ["networks"], "cat")
    assert decisions(project) == [("EAS-S02-HT", "recode", None, "ann,ben", "cat")]
    assert [p.resolution is not None for p in consensus.passages(project, ["ann", "ben"])] == [False, True]
    undo(project, "cat")
    assert decisions(project) == [] and consensus_rows(project) == []
    project.engine.dispose()


@synchronously
async def test_the_review_screen_walks_decides_recodes_and_undoes(team: Project) -> None:
    app = ReviewApp(consensus.Review(team, ["ann", "ben"], "cat"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        shown = screen_text(app)
        assert "review ann vs ben" in shown and "passage 1 of 2 · 0 resolved" in shown and "resolver cat" in shown
        assert "EAS-S01-HT · lines 3-4 · they differ on markets, networks" in shown
        assert f"✓ markets  “{PRIMARY}”" in str(app.screen.query_one("#coder0").content)
        assert "✓ networks" in str(app.screen.query_one("#coder1").content)
        assert "Could you tell me a little about the school?" in shown
        await pilot.press("2")
        assert decisions(team)[0][1:3] == ("keep", "ben")
        assert "kept ben's" in screen_text(app) and "passage 2 of 2 · 1 resolved" in screen_text(app)
        await pilot.press("u")
        assert decisions(team) == [] and "undone: review ann, ben" in screen_text(app)
        assert "passage 1 of 2 · 0 resolved" in screen_text(app)  # back on the passage undecided
        await pilot.press("n")
        await pilot.press("c")
        await type_text(pilot, "networks")
        await pilot.press("enter")
        assert decisions(team) == [("EAS-S02-HT", "recode", None, "ann,ben", "cat")]
        assert "recoded as networks" in screen_text(app) and "passage 1 of 2" in screen_text(app)
        await pilot.press("b")
        assert "all 2 passages are resolved" in screen_text(app)
        await pilot.press("p")
        assert "this is the first passage" in screen_text(app)
        await pilot.press("n")
        assert "resolved: recoded, by cat" in screen_text(app)
        await pilot.press("1")
        assert "was resolved by cat" in screen_text(app)
        await pilot.press("q")
    assert [code for code, *_ in consensus_rows(team)] == ["markets", "networks", "networks"]


def test_the_commands_show_decisions_and_refuse_a_review_of_three(team: Project, run) -> None:
    consensus.keep(team, consensus.passages(team, ["ann", "ben"])[1], ["ben"], "cat")
    listing = run("agreement", "--coders", "ann,ben", "--disagreements", "--project", str(team.root))
    assert listing.returncode == 0, listing.stderr
    assert "3 disagreements, 1 resolved" in listing.stdout and "kept ben's, by cat" in listing.stdout
    three = run("tag", "--review", "ann,ben,cat", "--project", str(team.root))
    assert three.returncode == 1 and "--review compares two coders" in three.stderr
