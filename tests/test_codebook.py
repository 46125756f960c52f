"""The codebook in the database: load, find, add, rename, move, merge, rm, export."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from qualcode.exchange import refi
from qualcode.coding.codebook import (
    UnknownCode,
    add_code,
    code_table,
    complete_code,
    export_codebook,
    find_code,
    load_codebook_file,
    merge_codes,
    move_code,
    path_of,
    remove_code,
    rename_code,
)
from qualcode.coding.codebook_file import load_codebook
from qualcode.coding.manual import add_memo, apply_codes, codings_table, undo
from qualcode.ingest.corpus import import_paths
from qualcode.errors import ImportFailed, QualcodeError
from qualcode.models import CODE_NAME_LENGTH, Code, Coding, Memo
from tests.conftest import REPO, table_rows

CODEBOOK = REPO / "codebooks" / "hierarchy-markets-networks.yaml"


@pytest.fixture
def coded(project, corpus):
    import_paths(project, [corpus])
    load_codebook_file(project, CODEBOOK, "ann")
    return project


def test_loading_the_study_codebook(coded):
    table = code_table(coded)
    assert len(table) == len(load_codebook(CODEBOOK).codes) == 46
    assert table["path"].tolist()[:3] == ["equity", "equity/disadvantage", "equity/isolated-schools"]
    with coded.session() as session:
        pupils = find_code(session, "markets/competition/pupils")
        assert pupils.definition and pupils.patterns["phrases"]
    again = load_codebook_file(coded, CODEBOOK, "ann")
    assert again.added == [] and again.updated == [] and len(again.unchanged) == 46


def test_find_code_by_tail_and_did_you_mean(coded):
    with coded.session() as session:
        assert path_of(find_code(session, "pupils")) == "markets/competition/pupils"
        assert path_of(find_code(session, "competition/staff")) == "markets/competition/staff"
        with pytest.raises(UnknownCode) as error:
            find_code(session, "markets/competiton/pupils")
        assert str(error.value) == "no code 'markets/competiton/pupils'; did you mean 'markets/competition/pupils'?"
        assert complete_code(session, "pup")[0] == "markets/competition/pupils"
        assert "networks/mat/growth" in complete_code(session, "mat gro")


def test_ambiguous_tail(coded):
    add_code(coded, "networks/clusters/growth", "ann")
    with coded.session() as session, pytest.raises(QualcodeError, match="could be 'networks/clusters/growth' or 'networks/mat/growth'"):
        find_code(session, "growth")


def test_show_counts_codings_transcripts_and_schools(coded):
    apply_codes(coded, "EAS-S02-HT", ["pupils"], "ann", lines="3")
    apply_codes(coded, "EAS-S02-HT", ["pupils"], "ann", lines="4")
    apply_codes(coded, "EAS-S01-HT", ["pupils"], "ann", lines="3")
    row = code_table(coded).set_index("path").loc["markets/competition/pupils"]
    assert (row.codings, row.transcripts, row.schools) == (3, 2, 2)


def test_add_rename_move(coded):
    assert add_code(coded, "markets/competition/sixth-form", "ann", definition="Post-16 rivalry") == "markets/competition/sixth-form"
    with pytest.raises(QualcodeError, match="already exists"):
        add_code(coded, "markets/competition/sixth-form", "ann")
    apply_codes(coded, "EAS-S02-HT", ["sixth-form"], "ann", lines="3")
    assert rename_code(coded, "sixth-form", "post-16", "ann") == "markets/competition/post-16"
    assert move_code(coded, "post-16", "markets", "ann") == "markets/post-16"
    assert codings_table(coded)["code"].tolist() == ["markets/post-16"]
    with pytest.raises(QualcodeError, match="under its own descendant"):
        move_code(coded, "markets", "markets/post-16", "ann")
    with pytest.raises(QualcodeError, match="'Post 16' is not a valid code name"):
        rename_code(coded, "post-16", "Post 16", "ann")


def test_merge_recodes_without_duplicates_and_keeps_memos(coded):
    apply_codes(coded, "EAS-S02-HT", ["status"], "ann", lines="3", memo="rivalry over results")
    apply_codes(coded, "EAS-S02-HT", ["pupils"], "ann", lines="3")
    apply_codes(coded, "EAS-S02-HT", ["status"], "ann", lines="4")
    add_memo(coded, "code", "status", "status is about league tables", "ann")
    before = len(codings_table(coded))
    report = merge_codes(coded, "status", "pupils", "ann")
    assert (report.recoded, report.duplicates_dropped, report.memos_moved) == (1, 1, 1)
    table = codings_table(coded)
    assert len(table) == before - 1
    assert set(table["code"]) == {"markets/competition/pupils"}
    with coded.session() as session:
        pupils = find_code(session, "pupils")
        line3 = session.scalar(select(Coding).where(Coding.code_id == pupils.id, Coding.start == int(table["start"][0])))
        assert line3.memo == "rivalry over results"
        memo = session.scalar(select(Memo).where(Memo.target_kind == "code"))
        assert memo.target_id == str(pupils.id)
        with pytest.raises(UnknownCode):
            find_code(session, "markets/competition/status")


def test_rm_refuses_while_coded_then_recodes_or_forces(coded):
    apply_codes(coded, "EAS-S02-HT", ["status"], "ann", lines="3")
    with pytest.raises(QualcodeError, match="has 1 codings; use --recode-to CODE to keep them or --force"):
        remove_code(coded, "status", "ann")
    assert remove_code(coded, "status", "ann", recode_to="competition") == ("markets/competition/status", 1)
    assert codings_table(coded)["code"].tolist() == ["markets/competition"]
    apply_codes(coded, "EAS-S02-HT", ["staff"], "ann", lines="4")
    remove_code(coded, "staff", "ann", force=True)
    assert codings_table(coded)["code"].tolist() == ["markets/competition"]
    with pytest.raises(QualcodeError, match="has child codes"):
        remove_code(coded, "markets/knowledge", "ann")


def test_undo_restores_merge_and_rm_exactly(coded):
    apply_codes(coded, "EAS-S02-HT", ["status"], "ann", lines="3", memo="m")
    apply_codes(coded, "EAS-S02-HT", ["pupils"], "ann", lines="3")
    before = table_rows(coded)
    merge_codes(coded, "status", "pupils", "ann")
    undo(coded, "ann")
    after = table_rows(coded)
    assert {k: v for k, v in after.items() if k != "changes"} == {k: v for k, v in before.items() if k != "changes"}
    remove_code(coded, "pupils", "ann", force=True)
    undo(coded, "ann")
    assert {k: v for k, v in table_rows(coded).items() if k != "changes"} == {
        k: v for k, v in before.items() if k != "changes"
    }


def test_export_yaml_round_trips_and_qdc_validates(coded, tmp_path: Path):
    add_code(coded, "in-vivo/winners-and-losers", "ann", origin="inductive")
    yaml_path = export_codebook(coded, tmp_path / "book.yaml")
    exported = load_codebook(yaml_path)
    original = load_codebook(CODEBOOK)
    by_path = {c.path: c for c in exported.codes}
    assert [by_path[c.path] for c in original.codes] == original.codes
    assert "in-vivo/winners-and-losers" in exported.paths()

    qdc = export_codebook(coded, tmp_path / "book.qdc")
    assert not list(refi.schema("Codebook.xsd").iter_errors(str(qdc)))
    codes = dict(refi.read_qdc(qdc))
    assert len(codes) == 48
    assert "Definition:" in codes["markets/competition/pupils"]
    with pytest.raises(QualcodeError, match="export to .yaml, .qdc, .csv or .xlsx"):
        export_codebook(coded, tmp_path / "book.txt")


def test_inductive_code_remembers_coder_and_passage(coded):
    applied = apply_codes(coded, "EAS-S02-HT", ["new-idea/year-seven"], "bea", lines="3", new=True)
    assert applied.created_codes == ["new-idea/year-seven"]
    with coded.session() as session:
        code = find_code(session, "new-idea/year-seven")
        assert (code.origin, code.created_by, code.source_transcript_id) == ("inductive", "bea", "EAS-S02-HT")
        text = session.get(Coding, session.scalar(select(Coding.id).where(Coding.code_id == code.id))).transcript.text
        assert text[code.source_start : code.source_end].startswith("Fierce, frankly.")
        assert session.scalar(select(Code).where(Code.name == "new-idea")).origin == "inductive"


def test_a_name_longer_than_the_database_holds_is_refused_everywhere(coded, tmp_path: Path):
    """SQLite would store it and PostgreSQL refuse it: refused alike, so a project can move to a team's server."""
    longest, over = "a" * CODE_NAME_LENGTH, "b" * (CODE_NAME_LENGTH + 1)
    assert add_code(coded, f"markets/{longest}", "ann") == f"markets/{longest}"
    for attempt in (lambda: add_code(coded, f"markets/{over}", "ann"),
                    lambda: rename_code(coded, "markets", over, "ann"),
                    lambda: apply_codes(coded, "EAS-S02-HT", [over], "ann", lines="3", new=True)):
        with pytest.raises(QualcodeError, match=f"is {CODE_NAME_LENGTH + 1} characters long; .* at most {CODE_NAME_LENGTH}"):
            attempt()
    with coded.session() as session:
        assert max(len(name) for name in session.scalars(select(Code.name))) == CODE_NAME_LENGTH
        assert session.scalar(select(Code).where(Code.name == "markets")) is not None
    book = tmp_path / "long.yaml"
    book.write_text(f"codebook: long\ncodes:\n  - name: {over}\n  - path: markets/{over}\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as failed:
        load_codebook(book)
    name, path = (str(problem) for problem in failed.value.problems)
    assert f"is {CODE_NAME_LENGTH + 1} characters long" in name and f"at most {CODE_NAME_LENGTH} characters each" in path
