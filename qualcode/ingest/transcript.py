"""Reading one transcript file: encoding, YAML front matter, the body (speakers are `qualcode.ingest.speakers`).

This module knows nothing about the database. It turns a file on disk into a
`ParsedTranscript` whose `text` is exactly what codings point into: the body
after the front matter, with line endings normalised to ``\\n``. Character
offsets into `text` are what the database, gold codings and REFI-QDA exports
use; line numbers shown to people are 1-based lines of `text`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path

from qualcode.errors import Problem


@dataclass
class ParsedTranscript:
    path: Path
    meta: dict
    #: 1-based line in the file of each front-matter field, for error messages.
    field_lines: dict[str, int]
    text: str
    #: The file line on which `text` starts (1-based).
    body_line: int
    encoding: str = "utf-8"
    notes: list[str] = field(default_factory=list)


def decode(raw: bytes, path: Path) -> tuple[str, str]:
    """Decode bytes from a text file as UTF-8 (with or without BOM), UTF-16, else Windows-1252.

    Word's "plain text" export is often Windows-1252, and Notepad's "Unicode" is
    UTF-16 (with a BOM, or without one: then every other byte of English text is
    NUL); both are converted and the caller reports it. Other files with NUL
    bytes are binary and refused.
    """
    utf16 = _utf16(raw)
    if utf16:
        try:
            raw = raw.decode(utf16).encode("utf-8")
        except UnicodeDecodeError as exc:
            raise Problem(path, None, None, f"not valid UTF-16 text ({exc.reason} at byte {exc.start})") from None
    if not raw.strip():
        raise Problem(path, None, None, "the file is empty")
    if b"\x00" in raw:
        head = raw[:8192]
        if head.count(0) * 100 > len(head):
            raise Problem(path, None, None, "this looks like a binary file, not UTF-8 text")
        raise Problem(path, _line_of(raw, raw.index(0)), None, (
            f"a NUL byte (0x00), which is not text ({raw.count(0)} in the file); delete it in a text editor"
            " (shown as ^@ or <0x00>) and try again"
        ))
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8"), "utf-8-sig"
    try:
        return raw.decode("utf-8"), utf16 or "utf-8"
    except UnicodeDecodeError as exc:
        _not_mixed(raw, exc, path)
    try:
        return raw.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError as exc:
        raise Problem(path, _line_of(raw, exc.start), None,
                      f"not UTF-8 or Windows-1252 text (byte 0x{raw[exc.start]:02X}); save it as UTF-8 and try again") from None


def _not_mixed(raw: bytes, error: UnicodeDecodeError, path: Path) -> None:
    """A file with UTF-8 characters and bytes that are not UTF-8 (a Windows-1252 'é' pasted into UTF-8 text)
    mixes two encodings: read whole as Windows-1252, each UTF-8 character would become two or three
    (’ as â€™) with only a note that the file was converted."""
    if any(ord(c) > 127 and c != "\ufffd" for c in raw.decode("utf-8", errors="replace")):
        raise Problem(path, _line_of(raw, error.start), None, (
            f"byte 0x{raw[error.start]:02X} is not UTF-8, but the file holds UTF-8 characters elsewhere: it mixes two"
            " encodings, and reading it as Windows-1252 would garble the UTF-8 ones; open it in a text editor, fix"
            " this line's character, save it as UTF-8 and try again"
        ))


def _line_of(raw: bytes, offset: int) -> int:
    """The 1-based line of a byte offset (lines end in LF, CRLF or a lone CR)."""
    head = raw[:offset]
    return head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n") + 1


def _utf16(raw: bytes) -> str | None:
    """The UTF-16 codec for `raw`, if it is UTF-16: by its BOM, or by NULs filling most odd
    (or even) bytes and no others, as in English text saved without a BOM."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    head = raw[:8192]
    if len(head) < 4 or len(head) % 2:
        return None
    even, odd = head[0::2], head[1::2]
    if b"\x00" not in even and odd.count(0) >= 0.6 * len(odd):
        return "utf-16-le"
    if b"\x00" not in odd and even.count(0) >= 0.6 * len(even):
        return "utf-16-be"
    return None


#: Breaks that end a line for a reader but not for `str.split("\\n")`: Word's soft line break and page break
#: in a "Plain Text" save (VT, FF), and Unicode's line and paragraph separators. One character each, so
#: no offset moves.
_OTHER_BREAKS = str.maketrans(dict.fromkeys("\x0b\x0c\x85\u2028\u2029", "\n"))


def read_text(path: Path) -> tuple[str, str]:
    """A text file's contents, decoded as `decode` does, with ``\\n`` line endings; and the encoding found.

    A label after a soft line break ('Q?<VT>Respondent: ...') opens a line, as the reader sees it.
    """
    text, encoding = decode(path.read_bytes(), path)
    return normalise_newlines(text).translate(_OTHER_BREAKS), encoding


def csv_delimiter(header: str, others: str = ";\t") -> str:
    """`,`, or, with none in a table's first line, the one of `others` it holds most: Excel in much of Europe saves
    CSV with `;`, and a tab-separated export is common; read with commas, such a table is one column."""
    if "," in header or not any(mark in header for mark in others):
        return ","
    return max(others, key=header.count)


def converted(encoding: str) -> list[str]:
    """The note an import shows for a file that was not UTF-8."""
    return [] if encoding.startswith("utf-8") else [f"converted from {encoding} to UTF-8"]


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def split_front_matter(text: str, path: Path) -> tuple[dict, dict[str, int], str, int]:
    """Split ``---`` YAML front matter from the body.

    Returns the metadata, the file line of each top-level field, the body and
    the file line the body starts on. A file without front matter has empty
    metadata (a sidecar ``.yaml`` or ``schools.yaml`` may supply it).
    """
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return {}, {}, text, 1
    try:
        close = next(i for i in range(1, len(lines)) if lines[i].strip() in ("---", "..."))
    except StopIteration:
        raise Problem(path, 1, None, "front matter starts with '---' but is never closed") from None
    header = "\n".join(lines[1:close])
    meta, field_lines = load_yaml_mapping(header, path, first_line=2)
    body = "\n".join(lines[close + 1 :])
    return meta, field_lines, body, close + 2


def load_yaml_mapping(source: str, path: Path, first_line: int = 1) -> tuple[dict, dict[str, int]]:
    """Parse YAML that must be a mapping; return it with each key's line number.

    The text is parsed once, by libyaml where PyYAML has it (the pure-Python
    parser was half the time of importing a corpus); the same node gives the
    values and the lines. A key given twice is a problem, not "the last wins".
    """
    import yaml  # here, not at the top: coding and queries use this module's `line_starts` only

    loader = _loader()(source)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        # Point at where the broken construct starts (an unclosed '['), where the parser says.
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        line = first_line + mark.line if mark is not None else first_line
        problem = getattr(exc, "problem", None) or str(exc)
        context = f" ({exc.context})" if getattr(exc, "context", None) else ""
        raise Problem(path, line, None, f"invalid YAML: {problem}{context}") from None
    finally:
        loader.dispose()
    if data is None:
        return {}, {}
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        raise Problem(path, first_line, None, "expected a mapping of 'field: value' lines")
    field_lines: dict[str, int] = {}
    for key, value in node.value:
        line = first_line + key.start_mark.line
        if key.value in field_lines:
            raise Problem(path, line, key.value, f"given twice (first on line {field_lines[key.value]}); keep one")
        field_lines[key.value] = line
        if key.value in AS_WRITTEN and isinstance(value, yaml.ScalarNode) and value.tag in _NOT_TEXT \
                and str(data[key.value]) != value.value:
            raise Problem(path, line, key.value, f"{value.value} reads as {data[key.value]!r} in YAML; put it in"
                          f" quotes ('{value.value}') to keep the id as written")
    return data, field_lines


#: Fields whose value is an id: 'id: 007' would silently be 7 (and 'participant: 012' 10, YAML 1.1's
#: octal, 'id: 0x1A' 26), so an id YAML reads as another number is a problem.
AS_WRITTEN = frozenset({"id", "participant", "school"})
_NOT_TEXT = frozenset(f"tag:yaml.org,2002:{kind}" for kind in ("int", "float", "bool"))


@functools.cache
def _loader():
    """YAML's safe loader (libyaml's where PyYAML has it), except that an impossible date ('2015-02-30') stays text.

    PyYAML raises a bare ValueError for one; kept as text, the date check
    reports it against its file, line and field.
    """
    import yaml

    class Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
        def construct_yaml_timestamp(self, node):
            try:
                return super().construct_yaml_timestamp(node)
            except ValueError:
                return self.construct_scalar(node)

    Loader.add_constructor("tag:yaml.org,2002:timestamp", Loader.construct_yaml_timestamp)
    return Loader


def parse_text_file(path: Path) -> ParsedTranscript:
    """Read a ``.txt``/``.md`` transcript: decode and split the front matter from the body."""
    text, encoding = read_text(path)
    meta, field_lines, body, body_line = split_front_matter(text, path)
    if not body.strip():
        raise Problem(path, body_line, None, "no interview text after the front matter")
    body = body.rstrip() + "\n"
    notes = converted(encoding)
    return ParsedTranscript(path, meta, field_lines, body, body_line, encoding, notes)


def line_starts(text: str) -> list[int]:
    """Offsets at which each line of `text` starts; index 0 is line 1."""
    lines = text.split("\n")  # each line's length and its line break's, summed in C: a transcript has thousands
    starts = list(accumulate(map((1).__add__, map(len, lines[:-1])), initial=0))
    if starts[-1] == len(text) and len(starts) > 1:
        starts.pop()
    return starts


def parse_docx_file(path: Path) -> ParsedTranscript:
    """Read a Word transcript (see `qualcode.ingest.wordfiles`): a leading table, then paragraphs.

    Each paragraph becomes one line of text, so turns and line numbers work as
    for plain text. Metadata may instead come from a sidecar ``.yaml``.
    """
    from qualcode.ingest.wordfiles import read_word_document

    meta, body = read_word_document(path)
    return ParsedTranscript(path, meta, {}, body, 1, "docx")
