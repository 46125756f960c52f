"""`qualcode memos`: every memo read back with what it annotates, its author and date."""

from __future__ import annotations

import json

import pytest

from qualcode.coding.manual import add_memo, apply_codes
from qualcode.errors import QualcodeError
from qualcode.coding.memos import list_memos
from tests.coded_fixture import make_coded_project


@pytest.fixture
def coded(tmp_path, corpus):
    project = make_coded_project(tmp_path / "coded", corpus)
    add_memo(project, "code", "tsa", "Alliances, not only TSAs.", "bob")
    add_memo(project, "coding", "6", "Says it twice.\nSee line 9.", "bob")
    add_memo(project, "transcript", "NAT-I01", "Informant hedges.", "ann")
    add_memo(project, "project", None, "Start with Eastern.", "ann")
    apply_codes(project, "EAS-S01-DH", ["networks"], "cat", lines="5", memo="Doors: a metaphor.")
    return project


def test_every_memo_with_what_it_annotates(coded):
    memos = {(m["on"], m["target"]): (m["author"], m["text"]) for m in list_memos(coded)}
    assert memos == {
        ("school", "EAS-S01"): ("tester", "The head sees the alliance as the school's lifeline."),
        ("locality", "Eastern"): ("tester", "Competition is sharper among the secondaries."),
        ("code", "networks/tsa"): ("bob", "Alliances, not only TSAs."),
        ("coding", "EAS-S01-HT 8 networks/tsa"): ("bob", "Says it twice.\nSee line 9."),
        ("transcript", "NAT-I01"): ("ann", "Informant hedges."),
        ("project", ""): ("ann", "Start with Eastern."),
        ("coding", "EAS-S01-DH 5 networks"): ("cat", "Doors: a metaphor."),
    }


def test_memos_by_kind_and_author(coded):
    assert {m["target"] for m in list_memos(coded, on="coding")} == {"EAS-S01-HT 8 networks/tsa", "EAS-S01-DH 5 networks"}
    assert {m["on"] for m in list_memos(coded, author="bob")} == {"code", "coding"}
    assert list_memos(coded, on="school", author="bob") == []
    with pytest.raises(QualcodeError, match="--on must be one of"):
        list_memos(coded, on="schol")


def test_memos_from_the_command_line(run, coded):
    listed = run("memos", "--on", "code", "--json", "--project", str(coded.root))
    assert listed.returncode == 0, listed.stderr
    assert [(m["id"], m["target"], m["author"]) for m in json.loads(listed.stdout)] == [("memo 3", "networks/tsa", "bob")]
    assert run("memos", "--on", "nothing", "--project", str(coded.root)).returncode == 1


def test_a_memo_written_in_the_editor_keeps_its_lines(run, coded, tmp_path):
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\nprintf "First thought.\\n\\nSecond paragraph.\\n\\n" > "$1"\n')
    editor.chmod(0o755)
    written = run("memo", "--edit", "--transcript", "EAS-S02-HT", "--coder", "dee", "--project", str(coded.root),
                  env={"EDITOR": str(editor)})
    assert written.returncode == 0, written.stderr
    assert [m["text"] for m in list_memos(coded, author="dee")] == ["First thought.\n\nSecond paragraph."]
    empty = tmp_path / "empty.sh"
    empty.write_text('#!/bin/sh\n: > "$1"\n')
    empty.chmod(0o755)
    refused = run("memo", "--edit", "--project", str(coded.root), env={"EDITOR": str(empty)})
    assert refused.returncode == 1 and "no memo written" in refused.stderr


def test_memos_exported_as_a_table(coded, tmp_path):
    from qualcode.coding.memos import export_memos
    from qualcode.exchange.workbooks import read_table

    assert export_memos(coded, tmp_path / "memos.xlsx", author="bob") == 2
    header, rows = read_table(tmp_path / "memos.xlsx")
    assert header == ["id", "on", "target", "author", "created", "text"]
    assert {(r["on"], r["text"]) for _, r in rows} == {("code", "Alliances, not only TSAs."), ("coding", "Says it twice.\nSee line 9.")}
