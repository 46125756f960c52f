"""Reading one transcript file: encodings, front matter, speaker turns."""

from __future__ import annotations

from pathlib import Path

import pytest

from qualcode.errors import Problem
from qualcode.transcript import decode, line_starts, parse_text_file, parse_turns

LABELS = frozenset({"interviewer", "headteacher", "interviewee", "note"})


def test_turns_have_spans_of_the_words_only():
    text = "Interviewer: How is it?\n\nHeadteacher: Fine.\nMore words here.\n"
    turns = parse_turns(text, LABELS)
    assert [(t.speaker, text[t.start : t.end]) for t in turns] == [
        ("Interviewer", "How is it?"),
        ("Headteacher", "Fine.\nMore words here."),
    ]
    assert turns[0].is_interviewer and not turns[1].is_interviewer


def test_a_capitalised_word_and_colon_inside_an_answer_is_not_a_new_speaker():
    text = "Headteacher: We were inspected.\nOfsted: they came in March.\n"
    turns = parse_turns(text, LABELS)
    assert len(turns) == 1
    assert text[turns[0].start : turns[0].end].endswith("came in March.")


def test_bold_markdown_labels_always_start_a_turn():
    text = "**Mrs Ahmed:** Yes.\n**Interviewer:** Thanks.\n"
    assert [t.speaker for t in parse_turns(text, LABELS)] == ["Mrs Ahmed", "Interviewer"]


def test_label_on_its_own_line_starts_turn_at_next_paragraph():
    text = "Headteacher:\nWe are a small school.\n"
    (turn,) = parse_turns(text, LABELS)
    assert text[turn.start : turn.end] == "We are a small school."


def test_front_matter_lines_and_body(tmp_path: Path):
    path = tmp_path / "a.md"
    path.write_text("---\nid: X-1\nrole: Teacher\n---\nInterviewer: Hello.\n", encoding="utf-8")
    parsed = parse_text_file(path, LABELS)
    assert parsed.meta == {"id": "X-1", "role": "Teacher"}
    assert parsed.field_lines == {"id": 2, "role": 3}
    assert parsed.text == "Interviewer: Hello.\n"
    assert parsed.body_line == 5


def test_bom_and_crlf_are_normalised(tmp_path: Path):
    path = tmp_path / "a.md"
    path.write_bytes(b"\xef\xbb\xbf---\r\nid: X-1\r\n---\r\nInterviewer: Hello.\r\nThere.\r\n")
    parsed = parse_text_file(path, LABELS)
    assert parsed.meta == {"id": "X-1"}
    assert parsed.text == "Interviewer: Hello.\nThere.\n"
    assert parsed.notes == []


def test_windows_1252_is_converted_and_reported(tmp_path: Path):
    path = tmp_path / "a.txt"
    path.write_bytes("---\nid: X-1\n---\nHeadteacher: It\u2019s the school\u2019s caf\u00e9.\n".encode("cp1252"))
    parsed = parse_text_file(path, LABELS)
    assert "It\u2019s the school\u2019s caf\u00e9." in parsed.text
    assert parsed.notes == ["converted from windows-1252 to UTF-8"]


@pytest.mark.parametrize(
    "raw, message",
    [(b"", "the file is empty"), (b"  \n\n", "the file is empty"), (b"PK\x03\x04\x00\x00binary", "binary")],
)
def test_empty_and_binary_files_are_refused(raw: bytes, message: str):
    with pytest.raises(Problem, match=message):
        decode(raw, Path("x.md"))


def test_unclosed_front_matter(tmp_path: Path):
    path = tmp_path / "a.md"
    path.write_text("---\nid: X\nInterviewer: hi\n", encoding="utf-8")
    with pytest.raises(Problem) as error:
        parse_text_file(path)
    assert str(error.value) == f"{path}:1: front matter starts with '---' but is never closed"


def test_invalid_yaml_names_the_file_line(tmp_path: Path):
    path = tmp_path / "a.md"
    path.write_text("---\nid: X\nrole: [Teacher\n---\nbody\n", encoding="utf-8")
    with pytest.raises(Problem) as error:
        parse_text_file(path)
    assert str(error.value).startswith(f"{path}:3: invalid YAML")


def test_line_starts():
    assert line_starts("a\nbb\n") == [0, 2]
    assert line_starts("a\n\nc") == [0, 2, 3]
