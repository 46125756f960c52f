"""The tagging screen through Textual's pilot: keys pressed, then the database and the screen checked."""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path

import pytest
from sqlalchemy import select

from qualcode.coding.codebook import find_code, load_codebook_file
from qualcode.ingest.corpus import import_paths
from qualcode.models import Coding, Memo, Turn
from qualcode.project import Project
from qualcode.coding.tagging import Tagger, load_position
from qualcode.coding.tui import TagApp

CODEBOOK = Path(__file__).resolve().parents[1] / "codebooks" / "hierarchy-markets-networks.yaml"


@pytest.fixture
def study(project: Project, corpus: Path) -> Project:
    """The fixture corpus and codebook, with two suggestions on turn 2 of EAS-S01-HT."""
    import_paths(project, [corpus])
    load_codebook_file(project, CODEBOOK, "setup")
    with project.session() as session:
        turn = session.scalar(select(Turn).where(Turn.transcript_id == "EAS-S01-HT", Turn.number == 2))
        for code, score in (("hierarchy/accountability/inspection", 0.9), ("equity/disadvantage", 0.6)):
            session.add(Coding(transcript_id="EAS-S01-HT", start=turn.start, end=turn.end, code=find_code(session, code),
                               coder="autocode", origin="suggested", score=score, quote="."))
    return project


def rows(project: Project) -> list[tuple[str, str, str, str]]:
    """(code, origin, coder, quote) of every coding, through a new engine."""
    with Project.open(project.root).session() as session:
        found = session.scalars(select(Coding).order_by(Coding.id))
        return [(c.code.name, c.origin, c.coder, c.quote) for c in found]


def screen_text(app: TagApp) -> str:
    """What the screens show (the tagging screen and any question over it), as plain text."""
    parts = [str(widget.content) for screen in app.screen_stack for widget in screen.query("Static")]
    return "\n".join(parts)


def synchronously(test):
    """Run an async pilot test with asyncio, so no pytest async plugin is needed."""

    @functools.wraps(test)
    def run(*args, **kwargs):
        asyncio.run(test(*args, **kwargs))

    return run


async def type_text(pilot, text: str) -> None:
    await pilot.press(*["space" if char == " " else char for char in text])


@synchronously
async def test_shows_the_turn_its_header_and_its_suggestions(study):
    app = TagApp(Tagger(study, "x", "EAS-S01-HT"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        shown = screen_text(app)
        assert "EAS-S01-HT" in shown and "Headteacher" in shown and "Ofsted Good" in shown and "coder x" in shown
        assert "Turn 2 · 1 of 2 · Headteacher · lines 3-4" in shown
        assert "two-form entry primary" in shown and "Q: Could you tell me a little about the school?" in shown
        assert "▶ hierarchy/accountability/inspection  0.90" in shown
        assert "no codes yet" in shown
        turn = app.screen.query_one("#turn").content
        underlined = [turn.plain[span.start : span.end] for span in turn.spans if span.style == "underline"]
        assert underlined == [Tagger(study, "x", "EAS-S01-HT").turn_text]  # the highlighted suggestion's words


@synchronously
async def test_accept_reject_and_move_the_highlight(study):
    app = TagApp(Tagger(study, "x", "EAS-S01-HT"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("down")
        assert "▶ equity/disadvantage" in screen_text(app)
        await pilot.press("r")
        assert rows(study) == [("inspection", "suggested", "autocode", ".")]
        await pilot.press("a")
        assert rows(study) == [("inspection", "accepted", "x", ".")]
        shown = screen_text(app)
        assert "✓ hierarchy/accountability/inspection  accepted by x" in shown and "accepted hierarchy" in shown
        await pilot.press("a")
        assert "no suggestion on this turn" in screen_text(app)


@synchronously
async def test_next_previous_and_quit_keep_the_position(study):
    app = TagApp(Tagger(study, "x", "EAS-S01-HT"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("n")
        assert "Turn 4 · 2 of 2" in screen_text(app) and "The alliance matters" in screen_text(app)
        await pilot.press("right")
        assert "this is the last turn" in screen_text(app)
        await pilot.press("left", "right")
        await pilot.press("q")
    assert app.return_code == 0
    assert load_position(study, "x", "EAS-S01-HT") == 4


@synchronously
async def test_code_with_fuzzy_completion(study):
    app = TagApp(Tagger(study, "x", "EAS-S01-HT"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("c")
        await type_text(pilot, "compet")
        assert "markets/competition" in screen_text(app)
        await pilot.press("down", "tab", "enter")
        assert rows(study)[-1][:3] == ("pupils", "manual", "x")
        assert "coded lines 3-4 with markets/competition/pupils" in screen_text(app)
        await pilot.press("c")
        await type_text(pilot, "compet")
        await pilot.press("down", "down", "enter")
        assert rows(study)[-1][:3] == ("staff", "manual", "x")
        await pilot.press("c")
        await type_text(pilot, "pupils, funding-pressure")
        await pilot.press("enter")
        assert [r[0] for r in rows(study)[-1:]] == ["funding-pressure"]
        assert "already had markets/competition/pupils" in screen_text(app)


@synchronously
async def test_unknown_code_asks_before_creating_an_inductive_code(study):
    app = TagApp(Tagger(study, "x", "EAS-S01-HT"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("c")
        await type_text(pilot, "localism")
        await pilot.press("enter")
        assert "y  create 'localism' as a new inductive code" in screen_text(app)
        await pilot.press("n")
        assert "nothing was coded" in screen_text(app)
        await pilot.press("c")
        await type_text(pilot, "localism")
        await pilot.press("enter", "y")
        assert rows(study)[-1][:3] == ("localism", "manual", "x")
        assert "created inductive code localism" in screen_text(app)
        await pilot.press("c")
        await type_text(pilot, "competiton")
        await pilot.press("enter")
        assert "1  use markets/competition" in screen_text(app)
        await pilot.press("1")
        assert rows(study)[-1][:3] == ("competition", "manual", "x")


@synchronously
async def test_select_words_then_code_and_in_vivo(study):
    app = TagApp(Tagger(study, "x", "EAS-S01-HT"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("s")
        assert "1Well, 2we're" in screen_text(app)
        await type_text(pilot, "held on to good")
        await pilot.press("enter")
        assert "selected: “held on to Good”" in screen_text(app)
        await pilot.press("v")
        await pilot.press("c")
        await type_text(pilot, "inspection")
        await pilot.press("enter")
        assert [r[:2] for r in rows(study)[-2:]] == [("held-on-to-good", "manual"), ("inspection", "manual")]
        assert all(r[3] == "held on to Good" for r in rows(study)[-2:])
        await pilot.press("escape", "v")
        assert "select the words first" in screen_text(app)
        await pilot.press("s")
        await type_text(pilot, "99")
        await pilot.press("enter")
        assert "this turn has words 1-" in screen_text(app)


@synchronously
async def test_memo_on_a_coding_or_with_tab_on_the_transcript(study):
    app = TagApp(Tagger(study, "x", "EAS-S01-HT"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("a", "m")
        assert "Memo on coding" in screen_text(app)
        await type_text(pilot, "kept Good")
        await pilot.press("enter")
        await pilot.press("m", "tab")
        assert "Memo on transcript EAS-S01-HT" in screen_text(app)
        await type_text(pilot, "confident head")
        await pilot.press("enter")
        assert "memo written on transcript EAS-S01-HT" in screen_text(app)
    with Project.open(study.root).session() as session:
        assert session.scalar(select(Coding.memo).where(Coding.origin == "accepted")) == "kept Good"
        assert session.scalar(select(Memo.text)) == "confident head"


@synchronously
async def test_remove_and_undo(study):
    app = TagApp(Tagger(study, "x", "EAS-S01-HT"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("a", "x", "tab", "enter")
        assert rows(study) == [("disadvantage", "suggested", "autocode", ".")]
        assert "removed 1 coding" in screen_text(app)
        await pilot.press("u")
        assert rows(study)[0][:2] == ("inspection", "accepted")
        await pilot.press("u")
        assert [r[1] for r in rows(study)] == ["suggested", "suggested"]
        assert "undone: accept hierarchy/accountability/inspection" in screen_text(app)


@synchronously
async def test_suggest_runs_autocode_for_a_transcript_without_suggestions(study):
    app = TagApp(Tagger(study, "x", "EAS-S02-HT"))
    async with app.run_test(size=(120, 40)) as pilot:
        assert "no suggestions (g asks for them)" in screen_text(app)
        await pilot.press("g")
        await app.workers.wait_for_complete()
        await pilot.pause()
        shown = screen_text(app)
        with study.session() as session:
            count = len(session.scalars(select(Coding).where(Coding.transcript_id == "EAS-S02-HT")).all())
        assert count > 0 and f"{count} suggestions in EAS-S02-HT" in shown
        assert "markets/competition/pupils" in shown
