"""Codebooks other tools write: REFI-QDA `.qdc` (NVivo, ATLAS.ti, MAXQDA, QualCoder) and tables (`.csv`/`.xlsx`).

A table has a `name` or `path` column (a path's parts joined by `/`), and
optionally `definition` (or `description`) and `colour`, as Taguette and
spreadsheets write them. Names qualcode does not accept (`Teaching school
alliance`) are made valid (`teaching-school-alliance`) and the original kept
as the code's title, so nothing is lost and the user can see what changed.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from xml.etree import ElementTree as ET

from qualcode.coding.codebook_file import COLOUR_RE, Codebook, CodeSpec
from qualcode.errors import ImportFailed, Problem
from qualcode.models import CODE_NAME_LENGTH

SUFFIXES = (".qdc", ".csv", ".xlsx")


#: The longest name made from another tool's: what a code's name holds (PostgreSQL enforces it), less room for a
#: `-2` when two names clash once cut; the whole name is kept as the title.
NAME_LIMIT = CODE_NAME_LENGTH - 8


def code_name(text: str) -> str:
    """A code name qualcode accepts (lower-case letters, digits, '-') made from another tool's name."""
    ascii_name = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:NAME_LIMIT].rstrip("-") or "code"


def distinct_name(name: str, siblings: dict[str, int]) -> str:
    """A code's name among its siblings, a second code of the same name (MAXQDA, NVivo allow it) as `Name (2)`:
    its codes are kept apart rather than silently joined into the first's, and the title shows which it was."""
    siblings[name] = siblings.get(name, 0) + 1
    return name if siblings[name] == 1 else f"{name} ({siblings[name]})"


def load_exchanged_codebook(path: Path) -> Codebook:
    suffix = path.suffix.lower()
    entries = _qdc_entries(path) if suffix == ".qdc" else _table_entries(path)
    return Codebook(name=path.stem, version=1, source=path.name, codes=list(build_specs(entries).values()))


def build_specs(entries: list[tuple[list[str], dict, int | None]]) -> dict[tuple[str, ...], CodeSpec]:
    """Specs in tree order, by their names from the top, from (names, fields, line); missing parents are made,
    names made valid, names that then clash numbered (`-2`), colours other than #rrggbb left out."""
    specs: dict[tuple[str, ...], CodeSpec] = {}
    for names, fields, line in entries:
        for depth in range(1, len(names) + 1):
            key = tuple(names[:depth])
            if key in specs:
                continue
            parent = specs[key[:-1]].path if depth > 1 else None
            name = code_name(key[-1])
            path = base = f"{parent}/{name}" if parent else name
            number = 2
            while any(s.path == path for s in specs.values()):
                path, number = f"{base}-{number}", number + 1
            own = fields if depth == len(names) else {}
            title = own.get("title") or (key[-1][:200] if name != key[-1].lower() else None)
            colour = own.get("colour") if own.get("colour") and COLOUR_RE.fullmatch(own["colour"]) else None
            specs[key] = CodeSpec(path=path, name=path.rsplit("/", 1)[-1], parent=parent, line=line, colour=colour,
                                  **{**{k: v for k, v in own.items() if k not in ("title", "colour")}, "title": title})
    return specs


def _qdc_entries(path: Path) -> list[tuple[list[str], dict, int | None]]:
    from qualcode.exchange.refi import parse_description

    data = path.read_bytes().lstrip(b"\xef\xbb\xbf").lstrip()
    try:
        root = ET.fromstring(data)
    except ET.ParseError as error:
        raise Problem(path, error.position[0], None, f"invalid XML: {error.msg}") from None
    for element in root.iter():
        element.tag = element.tag.rsplit("}", 1)[-1]
    if root.tag != "CodeBook" or root.find("Codes") is None:
        raise Problem(path, None, root.tag, "not a REFI-QDA codebook: expected <CodeBook> holding <Codes>")
    entries = []

    def walk(element: ET.Element, names: list[str]) -> None:
        siblings: dict[str, int] = {}
        for code in element.iterfind("Code"):
            own = [*names, distinct_name(code.get("name") or "code", siblings)]
            entries.append((own, {**parse_description(code.findtext("Description")), "colour": code.get("color")}, None))
            walk(code, own)

    walk(root.find("Codes"), [])
    return entries


def _table_entries(path: Path) -> list[tuple[list[str], dict, int | None]]:
    rows = _rows(path)
    if not rows or not {"name", "path"} & set(rows[0][1]):
        raise Problem(path, 1, None, "a codebook table needs a 'name' or 'path' column (and may have 'definition')")
    entries, problems, seen = [], [], {}
    for line, row in rows:
        text = (row.get("path") or row.get("name") or "").strip()
        if not text:  # read_table leaves out empty rows: this one says something, but not of which code
            problems.append(Problem(path, line, "name", "no name or path for this row's code; name it, or delete the row"))
            continue
        names = [part.strip() for part in text.split("/") if part.strip()]
        if tuple(names) in seen:
            problems.append(Problem(path, line, "path", f"'{text}' is also on line {seen[tuple(names)]}"))
            continue
        seen[tuple(names)] = line
        definition = (row.get("definition") or row.get("description") or "").strip() or None
        own = {name: (row.get(name) or "").strip() or None for name in ("title", "include", "exclude", "example")}
        colour = (row.get("colour") or row.get("color") or "").strip()
        entries.append((names, {"definition": definition, **{k: v for k, v in own.items() if v}, "colour": colour}, line))
    if problems:
        raise ImportFailed(problems)
    return entries


#: The columns `write_codebook_table` writes, which `load` reads back.
TABLE_COLUMNS = ("path", "name", "title", "definition", "include", "exclude", "example", "colour")


def write_codebook_table(book: Codebook, path: Path) -> Path:
    """The codebook as a table (`.csv`/`.xlsx`), one code a row with its path: Taguette's columns and qualcode's."""
    from qualcode.exchange.workbooks import write_table

    rows = [[getattr(spec, column) or "" for column in TABLE_COLUMNS] for spec in book.codes]
    return write_table(path, TABLE_COLUMNS, rows, "codebook", wide=("definition", "include", "exclude", "example"))


def _rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    """(line, row) of a CSV or the first sheet of a workbook, with lower-case column names."""
    from qualcode.exchange.workbooks import read_table

    return read_table(path)[1]
