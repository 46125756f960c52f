"""Reading one transcript file: encoding, YAML front matter, speaker turns.

This module knows nothing about the database. It turns a file on disk into a
`ParsedTranscript` whose `text` is exactly what codings point into: the body
after the front matter, with line endings normalised to ``\\n``. Character
offsets into `text` are what the database, gold codings and REFI-QDA exports
use; line numbers shown to people are 1-based lines of `text`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from qualcode.errors import Problem

#: Speaker labels that mean the researcher, not the participant.
INTERVIEWER_LABELS = frozenset({"interviewer", "researcher", "int", "q", "note", "notes"})

# `Interviewer: ...`, `Headteacher: ...`, `**Mrs Jones:** ...`. A label is at most
# five words and starts with a capital, so that "So what I said was: ..." in
# running speech is not taken for a new speaker.
_TURN = re.compile(
    r"^(?:\*\*(?P<bold>[^*\n:]{1,60}?):\*\*|(?P<plain>[A-Z][\w'.\-]*(?: [\w'.\-]+){0,4}):)[ \t]*"
)


@dataclass(frozen=True)
class Turn:
    """One speaker turn: `start`/`end` are character offsets into the text."""

    speaker: str
    start: int
    end: int

    @property
    def is_interviewer(self) -> bool:
        return self.speaker.lower() in INTERVIEWER_LABELS


@dataclass
class ParsedTranscript:
    path: Path
    meta: dict
    #: 1-based line in the file of each front-matter field, for error messages.
    field_lines: dict[str, int]
    text: str
    turns: list[Turn]
    #: The file line on which `text` starts (1-based).
    body_line: int
    encoding: str = "utf-8"
    notes: list[str] = field(default_factory=list)
    #: Where the metadata came from when not the transcript itself (a sidecar ``.yaml``).
    meta_path: Path | None = None


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
    if b"\x00" in raw[:8192]:
        raise Problem(path, None, None, "this looks like a binary file, not UTF-8 text")
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8"), "utf-8-sig"
    try:
        return raw.decode("utf-8"), utf16 or "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError as exc:
        raise Problem(path, None, None, f"not UTF-8 or Windows-1252 text ({exc.reason} at byte {exc.start})") from None


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


def read_text(path: Path) -> tuple[str, str]:
    """A text file's contents, decoded as `decode` does, with ``\\n`` line endings; and the encoding found."""
    text, encoding = decode(path.read_bytes(), path)
    return normalise_newlines(text), encoding


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
    """Parse YAML that must be a mapping; return it with each key's line number."""
    import yaml  # here, not at the top: coding and queries use this module's `line_starts` only

    try:
        node = yaml.compose(source, Loader=yaml.SafeLoader)
        data = yaml.safe_load(source)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = first_line + mark.line if mark is not None else first_line
        problem = getattr(exc, "problem", None) or str(exc)
        raise Problem(path, line, None, f"invalid YAML: {problem}") from None
    except ValueError as exc:  # a well-formed but impossible date: `date: 2015-13-45`
        raise _bad_value(node, exc, path, first_line) from None
    if data is None:
        return {}, {}
    if not isinstance(data, dict) or node is None or not isinstance(node, yaml.MappingNode):
        raise Problem(path, first_line, None, "expected a mapping of 'field: value' lines")
    field_lines = {key.value: first_line + key.start_mark.line for key, _ in node.value}
    return data, field_lines


def _bad_value(root, error: ValueError, path: Path, first_line: int) -> Problem:
    """The Problem for the value PyYAML could parse but not build (dates are the only such values)."""
    import yaml

    stack = [(root, None)]
    while stack:
        node, name = stack.pop()
        if isinstance(node, yaml.MappingNode):
            stack += [(value, key.value if name is None else name) for key, value in reversed(node.value)]
        elif isinstance(node, yaml.SequenceNode):
            stack += [(value, name) for value in reversed(node.value)]
        elif node.tag.endswith(":timestamp"):
            try:
                yaml.SafeLoader("").construct_object(node)
            except ValueError:
                line = first_line + node.start_mark.line
                return Problem(path, line, name, f"'{node.value}' is not a real date ({error}); write it as YYYY-MM-DD")
    return Problem(path, first_line, None, f"a value cannot be read: {error}")


def parse_turns(text: str, labels: frozenset[str] | None = None) -> list[Turn]:
    """Find speaker turns: a line opening with ``Label:`` starts one; other lines continue it.

    A plain ``Label:`` counts only if it is one of `labels` (compared in lower
    case), so that "Ofsted: they came in March" inside an answer is not taken
    for a new speaker; ``**Label:**`` always counts. With `labels` None any
    capitalised label of up to five words counts. Text before the first label
    (a heading, a preamble) is not a turn. A turn's span covers its words only:
    the label and surrounding blank lines are outside.
    """
    turns: list[Turn] = []
    speaker: str | None = None
    start = end = 0
    offset = 0
    for line in text.split("\n"):
        match = _TURN.match(line)
        if match and labels is not None and match.group("plain") and match.group("plain").lower() not in labels:
            match = None
        if match:
            if speaker is not None:
                turns.append(Turn(speaker, start, end))
            speaker = (match.group("bold") or match.group("plain")).strip()
            start = end = offset + match.end()
            if line[match.end() :].strip():
                end = offset + len(line.rstrip())
        elif speaker is not None and line.strip():
            if end == start:
                start = offset + (len(line) - len(line.lstrip()))
            end = offset + len(line.rstrip())
        offset += len(line) + 1
    if speaker is not None:
        turns.append(Turn(speaker, start, end))
    return [turn for turn in turns if turn.end > turn.start]


def parse_text_file(path: Path, labels: frozenset[str] | None = None) -> ParsedTranscript:
    """Read a ``.txt``/``.md`` transcript: decode, split front matter, find turns."""
    text, encoding = read_text(path)
    meta, field_lines, body, body_line = split_front_matter(text, path)
    if not body.strip():
        raise Problem(path, body_line, None, "no interview text after the front matter")
    body = body.rstrip() + "\n"
    notes = converted(encoding)
    return ParsedTranscript(path, meta, field_lines, body, parse_turns(body, labels), body_line, encoding, notes)


def line_starts(text: str) -> list[int]:
    """Offsets at which each line of `text` starts; index 0 is line 1."""
    starts = [0]
    starts.extend(match.end() for match in re.finditer("\n", text))
    if starts[-1] == len(text) and len(starts) > 1:
        starts.pop()
    return starts


def parse_docx_file(path: Path, labels: frozenset[str] | None = None) -> ParsedTranscript:
    """Read a Word transcript: a leading two-column table of metadata (optional), then paragraphs.

    Each paragraph becomes one line of text, so turns and line numbers work as
    for plain text. Metadata may instead come from a sidecar ``.yaml``.
    """
    import docx  # python-docx; imported here so plain-text imports don't pay for it
    import yaml
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, ValueError, KeyError) as exc:
        raise Problem(path, None, None, f"not a readable Word document ({exc})") from None
    meta: dict = {}
    if document.tables:
        for row in document.tables[0].rows:
            cells = [cell.text.strip() for cell in row.cells]
            if len(cells) >= 2 and cells[0]:
                meta[cells[0]] = yaml.safe_load(cells[1]) if cells[1] else None
    body = "\n".join(paragraph.text for paragraph in document.paragraphs).strip("\n")
    if not body.strip():
        raise Problem(path, None, None, "the document has no text")
    body = normalise_newlines(body).rstrip() + "\n"
    return ParsedTranscript(path, meta, {}, body, parse_turns(body, labels), 1, "docx")
