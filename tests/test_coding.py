"""Coding by hand: line specs, turns, uncode, memos, undo, listing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from qualcode.coding.codebook import UnknownCode, load_codebook_file
from qualcode.coding.manual import (
    add_memo,
    apply_codes,
    codings_table,
    review_suggestion,
    span_for_lines,
    uncode,
    undo,
)
from qualcode.ingest.corpus import import_paths
from qualcode.errors import QualcodeError
from qualcode.models import Coding, Memo, Transcript
from tests.conftest import REPO, table_rows


@pytest.fixture
def coded(project, corpus):
    import_paths(project, [corpus])
    load_codebook_file(project, REPO / "codebooks" / "hierarchy-markets-networks.yaml", "setup")
    return project


def transcript(project, transcript_id="EAS-S02-HT") -> Transcript:
    with project.session() as session:
        found = session.get(Transcript, transcript_id)
        found.turns  # load while the session is open
        return found


def text_of(project, spec: str, transcript_id="EAS-S02-HT") -> str:
    record = transcript(project, transcript_id)
    span = span_for_lines(record, spec)
    return record.text[span.start : span.end]


def test_line_specs(coded):
    assert text_of(coded, "3") == (
        "Fierce, frankly. Every September we count the Year 7 numbers and compare with the school down the road."
    )
    assert text_of(coded, "3-4").endswith("and we have not forgotten it.")
    assert text_of(coded, "3-4").count("\n") == 1
    assert text_of(coded, "3:20-4:7").startswith("frankly. Every September")
    assert text_of(coded, "3:20-4:7").endswith("road.\nWe lost")


@pytest.mark.parametrize(
    "spec, message",
    [
        ("x", "'x' is not a line range: use 12, 12-18 or 12:5-18:40 (line:column)"),
        ("99", "EAS-S02-HT has lines 1-8; there is no line 99"),
        ("4-3", "'4-3': the range ends before it starts"),
        ("2", "'2' covers no text in EAS-S02-HT"),
    ],
)
def test_bad_line_specs(coded, spec, message):
    with pytest.raises(QualcodeError) as error:
        span_for_lines(transcript(coded), spec)
    assert str(error.value) == message


def test_columns_are_one_based_and_inclusive(coded):
    line = text_of(coded, "3")
    assert line.startswith("Fierce")
    record = transcript(coded)
    label = "Principal: "
    span = span_for_lines(record, f"3:{len(label) + 1}-3:{len(label) + 6}")
    assert record.text[span.start : span.end] == "Fierce"


def test_code_a_turn_and_list_as_json_fields(coded):
    apply_codes(coded, "EAS-S02-HT", ["networks/system-leaders/pressure"], "ann", turn=4, memo="burden")
    (row,) = codings_table(coded).to_dict(orient="records")
    assert row["text"].startswith("It brings status but also pressure.")
    assert (row["transcript"], row["lines"], row["code"], row["coder"], row["origin"]) == (
        "EAS-S02-HT", "8", "networks/system-leaders/pressure", "ann", "manual",
    )
    with pytest.raises(QualcodeError, match="has turns 1-4; there is no turn 9"):
        apply_codes(coded, "EAS-S02-HT", ["pupils"], "ann", turn=9)


def test_same_coding_twice_is_not_duplicated(coded):
    apply_codes(coded, "EAS-S02-HT", ["pupils"], "ann", lines="3")
    again = apply_codes(coded, "EAS-S02-HT", ["pupils"], "ann", lines="3")
    assert again.codes == [] and again.already == ["markets/competition/pupils"]
    assert len(codings_table(coded)) == 1


def test_unknown_code_is_refused_unless_new(coded):
    with pytest.raises(UnknownCode, match="did you mean 'markets/competition/pupils'"):
        apply_codes(coded, "EAS-S02-HT", ["pupills"], "ann", lines="3")
    assert len(codings_table(coded)) == 0


def test_codings_filters(coded):
    apply_codes(coded, "EAS-S02-HT", ["pupils", "status"], "ann", lines="3")
    apply_codes(coded, "EAS-S01-HT", ["la-decline"], "bea", lines="8")
    assert len(codings_table(coded, code="markets")) == 2
    assert len(codings_table(coded, code="markets/*")) == 2
    assert codings_table(coded, coder="bea")["code"].tolist() == ["hierarchy/middle-tier/la-decline"]
    assert codings_table(coded, transcript="EAS-S01-HT")["coder"].tolist() == ["bea"]
    assert len(codings_table(coded, origin="suggested")) == 0
    with pytest.raises(QualcodeError, match="--origin must be one of"):
        codings_table(coded, origin="robot")


def test_uncode(coded):
    apply_codes(coded, "EAS-S02-HT", ["pupils", "status"], "ann", lines="3-4")
    assert uncode(coded, "EAS-S02-HT", "ann", lines="4", codes=["status"]) == 1
    assert codings_table(coded)["code"].tolist() == ["markets/competition/pupils"]
    with pytest.raises(QualcodeError, match="no codings to remove in EAS-S02-HT at lines 8"):
        uncode(coded, "EAS-S02-HT", "ann", lines="8")


def test_memos_on_every_target(coded):
    apply_codes(coded, "EAS-S02-HT", ["pupils"], "ann", lines="3")
    coding_id = int(codings_table(coded)["id"][0])
    for kind, target in [("project", None), ("locality", "Eastern"), ("school", "EAS-S02"),
                         ("transcript", "EAS-S02-HT"), ("code", "pupils"), ("coding", str(coding_id))]:
        add_memo(coded, kind, target, f"memo on {kind}", "ann")
    with coded.session() as session:
        kinds = sorted(m.target_kind for m in session.scalars(select(Memo)))
        assert kinds == ["code", "locality", "project", "school", "transcript"]
        assert session.get(Coding, coding_id).memo == "memo on coding"
    with pytest.raises(QualcodeError, match="no school 'EAS-S09'"):
        add_memo(coded, "school", "EAS-S09", "x", "ann")
    with pytest.raises(QualcodeError, match="no locality 'Mars'"):
        add_memo(coded, "locality", "Mars", "x", "ann")


def test_undo_reverses_the_last_change_of_that_coder_only(coded):
    start = table_rows(coded)
    apply_codes(coded, "EAS-S02-HT", ["pupils"], "ann", lines="3")
    after_ann = table_rows(coded)
    apply_codes(coded, "EAS-S02-HT", ["status"], "bea", lines="4")
    apply_codes(coded, "EAS-S02-HT", ["new-theme"], "ann", lines="8", new=True)
    change = undo(coded, "ann")
    assert change.description == "code EAS-S02-HT 8 with new-theme"
    assert sorted(codings_table(coded)["code"]) == ["markets/competition/pupils", "markets/competition/status"]
    undo(coded, "bea")
    rows = table_rows(coded)
    assert {k: v for k, v in rows.items() if k != "changes"} == {k: v for k, v in after_ann.items() if k != "changes"}
    undo(coded, "ann")
    rows = table_rows(coded)
    assert {k: v for k, v in rows.items() if k != "changes"} == {k: v for k, v in start.items() if k != "changes"}
    with pytest.raises(QualcodeError, match="nothing to undo for coder 'ann'"):
        undo(coded, "ann")


def test_uncode_then_undo_restores_the_coding_exactly(coded):
    apply_codes(coded, "EAS-S02-HT", ["pupils"], "ann", lines="3", memo="keep me")
    before = table_rows(coded)["codings"]
    uncode(coded, "EAS-S02-HT", "ann", lines="3")
    undo(coded, "ann")
    assert table_rows(coded)["codings"] == before


def test_review_suggestions(coded):
    with coded.session() as session:
        record = session.get(Transcript, "EAS-S02-HT")
        from qualcode.coding.codebook import find_code

        for name in ("pupils", "status"):
            session.add(Coding(transcript_id=record.id, start=98, end=150, code=find_code(session, name),
                               coder="autocode", origin="suggested", quote=record.text[98:150]))
    ids = codings_table(coded)["id"].tolist()
    assert review_suggestion(coded, ids[0], "ann", accept=True) == "markets/competition/pupils"
    assert review_suggestion(coded, ids[1], "ann", accept=False) == "markets/competition/status"
    (row,) = codings_table(coded).to_dict(orient="records")
    assert (row["origin"], row["coder"]) == ("accepted", "ann")
    with pytest.raises(QualcodeError, match=f"no suggested coding with id {ids[0]}"):
        review_suggestion(coded, ids[0], "ann", accept=True)


def test_undo_of_a_change_that_deleted_and_inserted_rows_whose_ids_were_reused(coded):
    """SQLite hands a deleted row's id to the next insert; undo must remove the new row before restoring the old."""
    from qualcode import history

    apply_codes(coded, "EAS-S02-HT", ["pupils"], "ann", lines="3")
    before = table_rows(coded)["codings"]
    with coded.session() as session, history.recorded(session, "ann", "swap", "swap a coding"):
        old = session.scalar(select(Coding))
        session.delete(old)
        session.flush()
        session.add(Coding(transcript_id=old.transcript_id, start=old.start, end=old.end + 5, code_id=old.code_id,
                           coder="ann", quote="x"))
        session.flush()
    assert table_rows(coded)["codings"] != before
    undo(coded, "ann")
    assert table_rows(coded)["codings"] == before
