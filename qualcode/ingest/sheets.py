"""Participants sheets: transcript metadata in bulk, one row per transcript.

A team often keeps its interview log in a spreadsheet; `participants.csv` or
`participants.xlsx` beside the transcripts lets that log be the metadata,
instead of front matter or a sidecar per file. A row finds its transcript
by a `file` column (relative to the sheet) or, without one, by the file
whose name without its suffix is the row's `id`. Every problem names the
sheet and the row (a CSV's line, a workbook's row number) and the field.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import process

from qualcode.errors import Problem
from qualcode.ingest.metadata import TRANSCRIPT_FIELDS, Located, Source, Validator, read_text
from qualcode.ingest.transcript import csv_delimiter

SHEET_FILES = ("participants.csv", "participants.xlsx")
#: The columns a sheet may have: `file`, and every field front matter accepts.
COLUMNS = ("file", *TRANSCRIPT_FIELDS)
#: What a column with an unknown name is called once it has been reported.
UNKNOWN = "?"


@dataclass
class SheetRow:
    transcript_id: str
    data: dict
    where: Located
    #: The transcript named in the `file` column (resolved), if there is one.
    file: Path | None
    matched: bool = False


class ParticipantSheets:
    """The rows of every sheet in an import, handed to the transcripts they describe."""

    def __init__(self, rows: list[SheetRow], notes: list[str] | None = None):
        self.rows = rows
        #: What the import should say about the sheets themselves (a title above the header, not read).
        self.notes = notes or []
        self.by_file: dict[Path, list[SheetRow]] = {}
        self.by_id: dict[str, list[SheetRow]] = {}
        for row in rows:
            if row.file is not None:
                self.by_file.setdefault(row.file, []).append(row)
            else:
                self.by_id.setdefault(row.transcript_id, []).append(row)

    @classmethod
    def read(cls, paths: list[Path], validator: Validator) -> ParticipantSheets:
        rows: list[SheetRow] = []
        notes: list[str] = []
        for path in paths:
            try:
                rows += _sheet_rows(path, validator, notes)
            except Problem as problem:
                validator.problems.append(problem)
        return cls(rows, notes)

    def sources_for(self, transcript: Path) -> list[Source]:
        """The rows describing `transcript`: named in `file`, or by id = file stem in the sheet's folder or below."""
        path = transcript.resolve()
        by_stem = [row for row in self.by_id.get(path.stem, []) if row.where.path.parent in path.parents]
        rows = self.by_file.get(path, []) + by_stem
        for row in rows:
            row.matched = True
        return [Source(row.data, row.where) for row in rows]

    def near_miss(self, transcript: Path) -> str | None:
        """For a transcript no row describes: a row of a sheet above it whose id is nearly its name and
        names no file (a typo in either), said as where it is and what to fix."""
        path = transcript.resolve()
        rows = {row.transcript_id: row for row in self._fileless() if row.where.path.parent in path.parents}
        match = process.extractOne(path.stem, list(rows), score_cutoff=50)
        if match is None:
            return None
        row = rows[match[0]]
        return (f"{row.where.path}:{row.where.line} describes '{row.transcript_id}', which no file is called: if that"
                f" row is this transcript, correct the id or the file name, or name the file in a 'file' column")

    @functools.cached_property
    def _stems(self) -> dict[Path, set[str]]:
        """The names (without suffix) of the files in each sheet's folder and below, read once."""
        folders = {row.where.path.parent for row in self.rows}
        return {folder: {file.stem for file in folder.rglob("*")} for folder in folders}

    def _fileless(self) -> list[SheetRow]:
        """Rows found by id that no file in their sheet's folder is called."""
        return [row for ids in self.by_id.values() for row in ids if row.transcript_id not in self._stems[row.where.path.parent]]

    def unmatched(self, folders: list[Path]) -> list[str]:
        """Notes for the rows of sheets inside imported folders that described no imported transcript.

        An import of single files leaves out the rest of a sheet on purpose;
        an import of the sheet's folder should have used every row.
        """
        notes = []
        for row in self.rows:
            sheet = row.where.path
            if row.matched or not any(folder in sheet.parents for folder in folders):
                continue
            if row.file is None:
                fix = f"no transcript file in {sheet.parent} or below is called {row.transcript_id}; name it in a 'file' column"
            else:
                fix = f"{row.file} is not among the transcripts imported"
            notes.append(f"{sheet}:{row.where.line}: '{row.transcript_id}' matches no transcript: {fix}")
        return notes


def _sheet_rows(path: Path, validator: Validator, notes: list[str]) -> list[SheetRow]:
    table = _xlsx_rows(path, validator) if path.suffix.lower() == ".xlsx" else _csv_rows(path)
    filled = [(n, cells) for n, cells in table if any(map(_cell, cells))]
    # A title above the column names ('Interview log, spring 2016') is not the header: the row naming 'id' is.
    header_number, header = next(((n, cells) for n, cells in filled[:10] if "id" in map(_lowered, cells)),
                                 filled[0] if filled else (None, []))
    above = [n for n, _ in filled if header_number is not None and n < header_number]
    if above:
        rows = f"row {above[0]}" if len(above) == 1 else f"rows {above[0]}-{above[-1]}"
        notes.append(f"{path}:{above[0]}: {rows} above the column names (row {header_number}) not read, taken for a title")
    if header_number is None:
        raise Problem(path, None, None, "the sheet is empty: its first row names the columns (id, file, participant, role, ...)")
    names = [_column(validator, path, header_number, cell) for cell in header]
    if "id" not in names:
        raise Problem(path, header_number, None, "a participants sheet needs an 'id' column (the transcript id)")
    rows: list[SheetRow] = []
    seen: dict[str, int] = {}
    for number, cells in table:
        if number <= header_number:
            continue
        where = Located(path, line=number)
        data = _row_data(validator, where, names, cells)
        if not data:
            continue
        transcript_id = str(data.get("id", ""))
        if not transcript_id:
            validator.fail(where, "id", "missing: every row needs the transcript id")
        elif transcript_id in seen:
            validator.fail(where, "id", f"'{transcript_id}' is also in row {seen[transcript_id]}")
        else:
            seen[transcript_id] = number
            file = data.pop("file", None)
            rows.append(SheetRow(transcript_id, data, where, file and _named_file(validator, where, str(file))))
    return rows


def _row_data(validator: Validator, where: Located, names: list[str | None], cells: list) -> dict:
    """A row's fields by column name; a value under a blank header is a problem (under an unknown one, already reported)."""
    data = {}
    for number, cell in enumerate(cells):
        value = _cell(cell)
        name = names[number] if number < len(names) else None
        if value is None or name == UNKNOWN:
            continue
        if name is None:
            validator.fail(where, None, f"'{value}' is in column {number + 1}, which has no name in the first row")
        else:
            data[name] = value
    return data


def _column(validator: Validator, path: Path, line: int, cell: object) -> str | None:
    """The field a header cell names ('Informant kind' is `informant_kind`); `UNKNOWN`, with a problem, if none."""
    text = _cell(cell)
    if text is None:
        return None
    name = str(text).strip().lower().replace(" ", "_")
    if name in COLUMNS:
        return name
    match = process.extractOne(name, COLUMNS, score_cutoff=60)
    hint = f"did you mean '{match[0]}'?" if match else f"the columns are {', '.join(COLUMNS)}"
    validator.fail(Located(path, line=line), str(text), f"unknown column; {hint}")
    return UNKNOWN


def _lowered(value: object) -> str | None:
    """A header cell as a column name is compared: 'ID ' is 'id'."""
    return str(value).strip().lower() if value is not None else None


def _cell(value: object) -> object:
    """A cell as front matter would give it: text stripped, 23.0 as 23, a date cell as a date, blank as None."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def _named_file(validator: Validator, where: Located, name: str) -> Path | None:
    folder = where.path.parent
    path = (folder / name).resolve()
    if path.is_file():
        return path
    files = [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()]
    match = process.extractOne(name, files, score_cutoff=70)
    hint = f"; did you mean '{match[0]}'?" if match else ""
    validator.fail(where, "file", f"'{name}' does not exist in {folder}{hint}")
    return None


def _csv_rows(path: Path) -> list[tuple[int, list]]:
    """(line, cells) of each CSV record; `;`- or tab-separated as some spreadsheet programs save it, too."""
    text = read_text(path)
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=csv_delimiter(first))
    return [(reader.line_num, cells) for cells in reader]


def _xlsx_rows(path: Path, validator: Validator) -> list[tuple[int, list]]:
    """(row number, cells) of the first worksheet, with cached formula results rather than formulas, and
    merged cells filled."""
    from zipfile import BadZipFile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    def first_sheet(data_only: bool) -> list[list]:
        try:
            # Not read-only: that mode does not know the merged cells. A participants sheet is small.
            workbook = openpyxl.load_workbook(path, data_only=data_only)
        except (BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
            raise Problem(path, None, None, f"not a readable Excel workbook ({exc})") from None
        try:
            sheet = workbook.worksheets[0]
            return _merged_filled(sheet, [list(row) for row in sheet.iter_rows(values_only=True)])
        finally:
            workbook.close()

    values = first_sheet(data_only=True)
    if any(cell is None for row in values for cell in row):
        validator.problems += _unsaved_results(path, values, first_sheet(data_only=False))
    return list(enumerate(values, 1))


def _merged_filled(sheet, rows: list[list]) -> list[list]:
    """Each cell of a merged range holds the range's value, as the sheet shows it (one school beside
    several interviews); the file keeps it in the first cell only, so the others read as blank."""
    for merged in sheet.merged_cells.ranges:
        value = rows[merged.min_row - 1][merged.min_col - 1]
        for row in range(merged.min_row, merged.max_row + 1):
            for column in range(merged.min_col, merged.max_col + 1):
                rows[row - 1][column - 1] = value
    return rows


def _unsaved_results(path: Path, values: list[list], formulas: list[list]) -> list[Problem]:
    """A formula whose result the file does not hold (a sheet written by a script, or saved without
    recalculating) reads as a blank cell: 'missing field', though the cell is not empty."""
    from openpyxl.utils import get_column_letter

    return [
        Problem(path, number, None, f"cell {get_column_letter(column)}{number} holds the formula {formula!r} but no"
                " saved result; open the workbook in Excel or LibreOffice and save it, or type the value")
        for number, (row, written) in enumerate(zip(values, formulas), 1)
        for column, (value, formula) in enumerate(zip(row, written), 1)
        if value is None and isinstance(formula, str) and formula.startswith("=")
    ]
