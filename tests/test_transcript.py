"""Reading one transcript file: encodings and front matter (speakers: test_speakers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qualcode.errors import Problem
from qualcode.ingest.transcript import decode, line_starts, parse_text_file

def test_front_matter_lines_and_body(tmp_path: Path):
    path = tmp_path / "a.md"
    path.write_text("---\nid: X-1\nrole: Teacher\n---\nInterviewer: Hello.\n", encoding="utf-8")
    parsed = parse_text_file(path)
    assert parsed.meta == {"id": "X-1", "role": "Teacher"}
    assert parsed.field_lines == {"id": 2, "role": 3}
    assert parsed.text == "Interviewer: Hello.\n"
    assert parsed.body_line == 5


def test_bom_and_crlf_are_normalised(tmp_path: Path):
    path = tmp_path / "a.md"
    path.write_bytes(b"\xef\xbb\xbf---\r\nid: X-1\r\n---\r\nInterviewer: Hello.\r\nThere.\r\n")
    parsed = parse_text_file(path)
    assert parsed.meta == {"id": "X-1"}
    assert parsed.text == "Interviewer: Hello.\nThere.\n"
    assert parsed.notes == []


def test_soft_line_and_page_breaks_end_a_line(tmp_path: Path):
    """Word's plain-text save writes a soft break as VT and a page break as FF: the label after one was
    speech inside the question before it."""
    path = tmp_path / "a.txt"
    path.write_bytes("I: One?\x0bR: Yes.\r\nI: Two?\r\n\x0cR: No.\u2028R: Never.\n".encode("utf-8"))
    assert parse_text_file(path).text == "I: One?\nR: Yes.\nI: Two?\n\nR: No.\nR: Never.\n"


@pytest.mark.parametrize("written, read", [("007", "7"), ("0x1A", "26"), ("012", "10")])
def test_an_id_yaml_reads_as_another_number_is_a_problem(tmp_path: Path, written: str, read: str):
    """'id: 007' was stored as transcript 7 (and 'participant: 012' as 10, YAML's octal) without a word."""
    path = tmp_path / "a.md"
    path.write_text(f"---\nkind: full\nparticipant: {written}\n---\nInterviewer: Hello.\n", encoding="utf-8")
    with pytest.raises(Problem) as error:
        parse_text_file(path)
    assert str(error.value) == (
        f"{path}:3: participant: {written} reads as {read} in YAML; put it in quotes ('{written}') to keep the id as written"
    )
    path.write_text(f"---\nid: '{written}'\nparticipant: 7\n---\nInterviewer: Hello.\n", encoding="utf-8")
    assert parse_text_file(path).meta == {"id": written, "participant": 7}


def test_windows_1252_is_converted_and_reported(tmp_path: Path):
    path = tmp_path / "a.txt"
    path.write_bytes("---\nid: X-1\n---\nHeadteacher: It\u2019s the school\u2019s caf\u00e9.\n".encode("cp1252"))
    parsed = parse_text_file(path)
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
