"""Blind coding rounds (issue 16 item 3): a round's coders see only their own codings on its transcripts,
everyone else sees everything, closing restores the view; coders, bad input, history and migration 0011."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import select

from qualcode import db
from qualcode.analysis.agreement import agreement
from qualcode.analysis.framework import framework
from qualcode.coding.manual import add_memo, apply_codes, codings_table, undo, uncode
from qualcode.config import _git_user_name, default_coder
from qualcode.errors import QualcodeError
from qualcode.exchange.qdpx import PROJECT_NS
from qualcode.exchange.qdpx.writer import export_qdpx
from qualcode.models import Coder, Coding, Memo
from qualcode.analysis.overview import transcript_lines
from qualcode.project import Project
from qualcode.analysis.query import find
from qualcode.analysis.query_matrix import matrix
from qualcode.analysis.query_cooccur import cooccur
from qualcode.coding.rounds import add_coder, close_round, coder_table, list_rounds, start_round
from qualcode.coding.tagging import Tagger
from tests.coded_fixture import make_coded_project, span_of
from tests.conftest import FIXTURES
from tests.test_postgres import pg_url  # noqa: F401 (the fixture)

ROUND = ["EAS-S01-HT", "EAS-S02-HT"]
#: bea's own coding on a round transcript: a passage the fixture's coder ("tester") coded with other codes.
BEAS = ("EAS-S01-HT", "The alliance matters most to us.", "markets")


@pytest.fixture(scope="session")
def template(tmp_path_factory) -> Path:
    """The coded fixture (all "tester"'s) with bea, and bea's one coding on a round transcript; closed, to copy."""
    root = tmp_path_factory.mktemp("rounds") / "project"
    shutil.copytree(FIXTURES / "corpus", root.parent / "corpus")
    project = make_coded_project(root, root.parent / "corpus")
    add_coder(project, "bea", "BX", "lead")
    apply_codes(project, BEAS[0], [BEAS[2]], "bea", span=span_of(project, BEAS[0], BEAS[1]))
    project.close()
    return root


@pytest.fixture
def copied(template: Path, tmp_path: Path) -> Project:
    shutil.copytree(template, tmp_path / "project")
    return Project.open(tmp_path / "project")


@pytest.fixture
def team(copied: Project) -> Project:
    """The template with round r1 opened by the lead: tester and bea on two transcripts."""
    start_round(copied, "r1", ["tester", "bea"], "lead", transcripts=ROUND)
    return copied


def _as(project: Project, viewer: str) -> Project:
    """The project as `viewer` sees it, what it is told collected in `heard`."""
    seen = Project.open(project.root)
    seen.viewer, seen.heard = viewer, []
    seen.on_blind = seen.heard.append
    return seen


def _views(project: Project) -> dict[str, object]:
    """What each place that shows codings shows of EAS-S01-HT (a round transcript) and EAS-S01-DH (not one)."""
    table = codings_table(project)
    lines = {line.number: line.codes for line in transcript_lines(project, "EAS-S01-HT")[1]}
    found = find(project, "markets,networks")
    tagger = Tagger(project, project.viewer, "EAS-S01-HT")
    tagger.index = next(i for i, turn in enumerate(tagger.turns) if turn.number == 4)
    view = tagger.view()
    return {
        "codings": sorted(set(zip(table["transcript"], table["coder"]))),
        "show line 8": lines[8],
        "find": sorted(set(zip(found["transcript"], found["codes"]))),
        "matrix": matrix(project, "markets,networks", by="phase").to_dict(),
        "framework": framework(project, by="participant").to_dict(orient="index"),
        "cooccur": len(cooccur(project, "markets,networks")),
        "tag": sorted((c.code, c.coder) for c in view.codes),
        "tag notice": view.blind,
    }


def test_a_round_hides_the_other_coders_codings_from_its_coders_only_until_it_is_closed(team):
    bea, tester, lead = _as(team, "bea"), _as(team, "tester"), _as(team, "lead")
    seen = _views(bea)
    assert ("EAS-S01-HT", "bea") in seen["codings"] and ("EAS-S01-DH", "tester") in seen["codings"]
    assert ("EAS-S01-HT", "tester") not in seen["codings"] and ("EAS-S02-HT", "tester") not in seen["codings"]
    assert seen["show line 8"] == ["markets"]  # bea's, not tester's markets and networks/tsa there
    assert seen["find"] == [("EAS-S01-DH", "networks"), ("EAS-S01-HT", "markets"), ("NAT-I01", "networks")]
    # Counted in SQL, not from the tallies (which count everyone's): bea's markets, tester's networks off the round.
    assert seen["matrix"]["primary"] == {"markets": 1, "markets/competition": 0, "networks": 1, "networks/tsa": 0}
    assert "secondary" not in seen["matrix"]  # EAS-S02's codings are all tester's
    assert seen["framework"] == {"EAS-S01-DH": {"markets": 0, "networks": 1}, "EAS-S01-HT": {"markets": 1, "networks": 0},
                                 "NAT-I01": {"markets": 0, "networks": 1}}
    assert seen["cooccur"] == 0  # tester's markets + networks/tsa pair on EAS-S01-HT is hidden
    assert seen["tag"] == [("markets", "bea")] and "blind round 'r1'" in seen["tag notice"]
    assert len(bea.heard) == 1 and "you (bea) see only your own codings" in bea.heard[0]  # said once per command

    mine = _views(tester)  # the other coder of the round: the mirror image
    assert ("EAS-S01-HT", "bea") not in mine["codings"] and ("EAS-S02-HT", "tester") in mine["codings"]
    assert sorted(mine["show line 8"]) == ["markets", "networks/tsa"] and ("markets", "bea") not in mine["tag"]

    everything = _views(lead)  # outside the round: everything, and nothing said
    assert {("EAS-S01-HT", "bea"), ("EAS-S01-HT", "tester")} <= set(everything["codings"])
    assert everything["cooccur"] == 1 and everything["tag notice"] is None and lead.heard == []
    assert everything["matrix"]["secondary"]["markets/competition"] == 2
    assert everything["matrix"]["primary"]["markets"] == 2  # tester's and bea's on different passages

    close_round(team, "r1", "lead")
    assert _views(_as(team, "bea")) == everything  # closed: bea sees what the lead sees


def _qdpx(project: Project, path: Path) -> tuple[set[tuple[str, str]], str]:
    """Export `project` as `.qdpx`: (transcript, coder) of each coding in it, and its `project.qde`."""
    export_qdpx(project, path)
    with zipfile.ZipFile(path) as archive:
        qde = archive.read("project.qde").decode("utf-8")
    root, ns = ET.fromstring(qde), {"q": PROJECT_NS}
    users = {user.get("guid"): user.get("name") for user in root.iterfind(".//q:User", ns)}
    return {(source.get("name"), users[selection.get("creatingUser")]) for source in root.iterfind(".//q:TextSource", ns)
            for selection in source.iterfind("q:PlainTextSelection", ns)}, qde


def test_what_autocode_learn_trains_on_in_a_round_is_what_its_coder_may_see(team):
    from qualcode.suggestions.learning import read_turns

    def labels(viewer: str) -> set[str]:
        return {label for turn in read_turns(_as(team, viewer), [BEAS[0]]) for label in turn.labels}

    everyone = labels("lead")  # not in the round: tester's codings and bea's
    assert BEAS[2] in everyone and everyone - {BEAS[2]}
    assert labels("bea") == {BEAS[2]}  # only her own on a round transcript
    assert labels("tester") and labels("tester") <= _own_labels(team, "tester")


def _own_labels(project: Project, coder: str) -> set[str]:
    """The codes (with their ancestors) of `coder`'s codings on the first transcript of BEAS."""
    from qualcode.analysis.overview import code_paths

    with project.session() as session:
        paths = code_paths(session)
        own = session.scalars(select(Coding.code_id).where(Coding.coder == coder, Coding.transcript_id == BEAS[0]))
        return {"/".join(paths[c].split("/")[:n]) for c in own for n in range(1, paths[c].count("/") + 2)}


def test_a_round_coders_qdpx_export_holds_only_the_codings_and_memos_they_may_see(team, tmp_path):
    with team.session() as session:
        hidden = session.scalar(select(Coding.id).where(Coding.transcript_id == "EAS-S01-HT", Coding.coder == "tester"))
        session.add(Memo(target_kind="coding", target_id=str(hidden), text="Kept apart by an older import.", author="tester"))
    add_memo(team, "coding", str(hidden), "Tester's own reading, kept from bea.", "tester")
    bea = _as(team, "bea")
    seen, qde = _qdpx(bea, tmp_path / "bea.qdpx")
    assert ("EAS-S01-HT", "bea") in seen and ("EAS-S01-DH", "tester") in seen  # hers, and off the round
    assert ("EAS-S01-HT", "tester") not in seen and ("EAS-S02-HT", "tester") not in seen
    assert "kept from bea" not in qde and "older import" not in qde  # the memos on a hidden coding are hidden with it
    assert len(bea.heard) == 1 and "you (bea) see only your own codings" in bea.heard[0]
    lead = _as(team, "lead")
    everything, qde = _qdpx(lead, tmp_path / "lead.qdpx")
    assert seen < everything and ("EAS-S02-HT", "tester") in everything and lead.heard == []
    assert "kept from bea" in qde and "older import" in qde


def test_a_round_coder_cannot_remove_a_colleagues_hidden_coding(team):
    bea = _as(team, "bea")
    with pytest.raises(QualcodeError, match="no codings to remove"):
        uncode(bea, "EAS-S02-HT", "bea", lines="5-7")  # only tester's codings there
    assert uncode(bea, "EAS-S01-HT", "bea", lines="8") == 1  # bea's own markets, not tester's two
    with team.session() as session:
        assert sorted(session.scalars(select(Coding.coder).where(Coding.transcript_id == "EAS-S01-HT"))) == ["tester"] * 3


def test_rounds_list_their_coders_progress_and_closing_and_opening_are_undoable_changes(team):
    [summary] = list_rounds(team)
    assert (summary.name, summary.open, summary.coders, summary.transcripts) == ("r1", True, ["bea", "tester"], ROUND)
    assert summary.coded == {"bea": 1, "tester": 2}
    close_round(team, "r1", "lead")
    assert not list_rounds(team)[0].open
    assert "close blind round r1" in undo(team, "lead").description
    assert list_rounds(team)[0].open  # undone: open again
    undo(team, "lead")
    assert list_rounds(team) == []
    assert {c["name"]: c["initials"] for c in coder_table(team)} == {"bea": "BX", "tester": "T"}


def test_agreement_on_a_closed_round_compares_its_coders_on_its_transcripts(team):
    apply_codes(team, "EAS-S02-HT", ["markets"], "bea", span=span_of(team, "EAS-S02-HT", "It brings status but also pressure."))
    close_round(team, "r1", "lead")
    [summary] = list_rounds(team)
    report = agreement(team, summary.coders, "markets", within=summary.transcripts)
    assert report.transcripts == 2 and report.missing == {}
    assert report.per_code["markets"]["coded_units"] == 2  # EAS-S01-HT turn 4 by both, EAS-S02-HT by both


@pytest.mark.parametrize("call, message", [
    (dict(coders=["tester", "bae"], transcripts=ROUND), "no coder 'bae'; did you mean 'bea'?"),
    (dict(coders=["tester"], transcripts=ROUND), "two coders or more"),
    (dict(coders=["tester", "bea"], transcripts=["EAS-S01-HX"]), "no transcript 'EAS-S01-HX'; did you mean"),
    (dict(coders=["tester", "bea"]), "--transcripts ID,ID or --where"),
    (dict(coders=["tester", "bea"], where={"locality": "Estern"}), "did you mean 'Eastern'"),
    (dict(name="r1", coders=["tester", "bea"], transcripts=ROUND), "round 'r1' is already open"),
])
def test_bad_rounds_are_refused_and_say_why(team, call, message):
    with pytest.raises(QualcodeError, match=message):
        start_round(team, call.pop("name", "r2"), by="lead", **call)
    assert [s.name for s in list_rounds(team)] == ["r1"]


def test_closing_a_round_twice_or_an_unknown_one_and_reusing_a_name_are_refused(team):
    with pytest.raises(QualcodeError, match="no round 'r1x'; did you mean 'r1'"):
        close_round(team, "r1x", "lead")
    close_round(team, "r1", "lead")
    with pytest.raises(QualcodeError, match="closed already"):
        close_round(team, "r1", "lead")
    with pytest.raises(QualcodeError, match="was held already"):
        start_round(team, "r1", ["tester", "bea"], "lead", transcripts=ROUND)


def test_the_coder_is_qualcode_coder_then_gits_user_name(tmp_path, monkeypatch):
    (tmp_path / "gitconfig").write_text("[user]\n\tname = Ann Lee\n", encoding="utf-8")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.chdir(tmp_path)  # no repository, so no local user.name
    monkeypatch.delenv("QUALCODE_CODER", raising=False)
    _git_user_name.cache_clear()  # asked once per process
    assert default_coder() == "Ann Lee"
    _git_user_name.cache_clear()
    monkeypatch.setenv("QUALCODE_CODER", "bea")
    assert default_coder() == "bea"


def test_the_installed_script_hides_and_says_so_for_a_round_coder_only(copied, run):
    root = copied.root
    started = run("round", "start", "r1", "--coders", "tester,bea", "--where", "phase!=secondary", cwd=root,
                  env={"QUALCODE_CODER": "lead"})
    assert started.returncode == 0 and "on 3 transcripts (EAS-S01-DH, EAS-S01-HT, NAT-I01)" in started.stderr
    blind = run("codings", "--json", cwd=root, env={"QUALCODE_CODER": "bea"})
    seen = {(row["transcript"], row["coder"]) for row in json.loads(blind.stdout)}
    assert blind.returncode == 0 and "blind round 'r1' is open: on its 3 transcripts you (bea)" in blind.stderr
    assert seen == {("EAS-S01-HT", "bea"), ("EAS-S02-HT", "tester")}
    exported = run("export", "qdpx", str(root / "bea.qdpx"), cwd=root, env={"QUALCODE_CODER": "bea"})
    assert exported.returncode == 0 and exported.stderr.count("blind round 'r1' is open") == 1
    lead = run("codings", "--json", cwd=root, env={"QUALCODE_CODER": "lead"})
    assert lead.stderr == "" and len(json.loads(lead.stdout)) == 10
    assert run("round", "close", "r1", cwd=root, env={"QUALCODE_CODER": "lead"}).returncode == 0
    again = run("codings", "--json", cwd=root, env={"QUALCODE_CODER": "bea"})
    assert again.stderr == "" and again.stdout == lead.stdout


def _downgraded(project: Project) -> None:
    """The project's schema as 0010 left it: no coders, no rounds."""
    from alembic import command

    project.close()
    engine = db.make_engine(project.database_url)
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            db._foreign_keys(connection, False)
        with connection.begin():
            command.downgrade(db._alembic_config(connection), "0010")
    engine.dispose()


def _migrates_and_runs_a_round(project: Project) -> None:
    apply_codes(project, BEAS[0], [BEAS[2]], "ann lee", span=span_of(project, BEAS[0], BEAS[1]))
    _downgraded(project)
    reopened = Project.open(project.root)
    assert db.current_revision(reopened.engine) == db.SCHEMA_REVISION
    with reopened.session() as session:
        found = dict(session.execute(select(Coder.name, Coder.initials)).all())
    assert found["ann lee"] == "AL" and found["tester"] == "T"
    start_round(reopened, "r1", ["tester", "ann lee"], "lead", transcripts=ROUND)
    ann = _as(reopened, "ann lee")
    assert codings_table(ann)["coder"].tolist().count("tester") == 3  # off the round's transcripts
    # The SQL written by hand (matrix off the tallies, co-occurrence) filters on both backends.
    assert matrix(ann, "markets", by="phase").to_dict() == {"primary": {"markets": 1, "markets/competition": 0}}
    assert cooccur(ann, "markets,networks").empty
    ann.close()
    reopened.close()


def test_migration_0011_makes_every_coder_on_a_coding_a_coder(copied):
    _migrates_and_runs_a_round(copied)


def test_migration_0011_and_a_blind_round_on_postgres(tmp_path, corpus, pg_url):  # noqa: F811
    _migrates_and_runs_a_round(make_coded_project(tmp_path / "pg", corpus, database_url=pg_url))


def test_the_tagging_screen_says_a_round_is_blind_and_makes_no_suggestions_there(team):
    import asyncio

    from qualcode.coding.tui import TagApp
    from tests.test_tui import screen_text

    async def session() -> str:
        app = TagApp(Tagger(team, "bea", "EAS-S01-HT"))
        async with app.run_test(size=(140, 40)) as pilot:
            await pilot.press("n")  # turn 4: bea's markets, and tester's markets and networks/tsa
            await pilot.press("g")
            await pilot.pause()
            return screen_text(app)

    shown = asyncio.run(session())
    assert "blind round 'r1' is open" in shown and "markets" in shown and "networks/tsa" not in shown
    assert "suggestions would be the autocoder's codings" in shown
