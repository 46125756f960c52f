"""Tables as files people open in a spreadsheet: `.csv` and `.xlsx`, written and read back whole.

Excel holds at most 32,767 characters (UTF-16 code units) in a cell and cuts
anything longer when it opens the file, without a word. A long coded passage or
a framework-matrix cell of passages would lose its end. So a row with a longer
value is written as that row (the first part of each long value) followed by
continuation rows: the first cell says `CONTINUED`, and each long value's next
part sits in its own column, every other cell empty. `read_table` joins them
back, so a table written here reads back exactly. CSV has no limit and is
written as it is.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from qualcode.errors import Problem, QualcodeError
from qualcode.ingest.transcript import csv_delimiter

#: Excel's limit on the characters in one cell (counted in UTF-16 code units).
EXCEL_CELL_LIMIT = 32_767
#: The first cell of a row that carries on the long values of the row above it.
CONTINUED = "CONTINUED"
TABLE_SUFFIXES = (".csv", ".xlsx")


def table_format(path: Path) -> str:
    """`csv` or `xlsx`, from the file's name; anything else is refused."""
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise QualcodeError(f"{path}: write a table as .csv or .xlsx")
    return suffix.lstrip(".")


def excel_parts(value: str, limit: int = EXCEL_CELL_LIMIT) -> list[str]:
    """`value` in pieces that each fit in an Excel cell, cut between characters (never inside a surrogate pair)."""
    if len(value) * 2 <= limit:
        return [value]
    parts, start, used = [], 0, 0
    for index, char in enumerate(value):
        width = 2 if ord(char) > 0xFFFF else 1
        if used + width > limit:
            parts.append(value[start:index])
            start, used = index, 0
        used += width
    parts.append(value[start:])
    return parts


def excel_rows(rows: Iterable[Sequence[object]]) -> Iterator[list[object]]:
    """Each row, then the continuation rows its values longer than a cell need."""
    for row in rows:
        pieces = [excel_parts(value) if isinstance(value, str) else [value] for value in row]
        yield [parts[0] for parts in pieces]
        for more in range(1, max(len(parts) for parts in pieces) if pieces else 1):
            extra = [parts[more] if more < len(parts) else None for parts in pieces]
            yield [CONTINUED, *extra[1:]]


def write_table(path: Path, columns: Sequence[str], rows: Iterable[Sequence[object]], sheet: str = "table",
                wide: Sequence[str] = ()) -> Path:
    """Write a table as CSV or XLSX by the file's suffix; `wide` columns get room and wrapped text in Excel."""
    fmt = table_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(columns)
            writer.writerows([_csv_value(v) for v in row] for row in rows)
        return path
    _write_xlsx(path, columns, rows, sheet, wide)
    return path


def _csv_value(value: object) -> object:
    return "" if value is None else value


def _write_xlsx(path: Path, columns: Sequence[str], rows: Iterable[Sequence[object]], sheet: str,
                wide: Sequence[str]) -> None:
    """A write-only workbook: streamed, so 30,000 rows take seconds, not minutes."""
    import openpyxl
    from openpyxl.utils import get_column_letter

    workbook = openpyxl.Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet[:31])
    for number, name in enumerate(columns, start=1):
        worksheet.column_dimensions[get_column_letter(number)].width = 60 if name in wide else 14
    worksheet.freeze_panes = "A2"
    worksheet.append(list(columns))
    for row in excel_rows(rows):
        worksheet.append([_as_text(worksheet, value) for value in map(_xlsx_value, row)])
    workbook.save(path)


def _as_text(worksheet, value: object) -> object:
    """A value starting with `=` as the words it is: openpyxl would write it as a formula, which Excel shows as an
    error (or runs) and which reads back empty, losing a memo such as `=key passage`."""
    if not (isinstance(value, str) and value.startswith("=")):
        return value
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(worksheet, value=value)
    cell.data_type = "s"
    return cell


def _xlsx_value(value: object) -> object:
    """Values openpyxl writes as they are; lists as `a; b`; control characters Excel refuses as spaces."""
    if isinstance(value, (list, tuple)):
        value = "; ".join(map(str, value))
    if isinstance(value, str) and any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        value = "".join(" " if ord(c) < 32 and c not in "\t\n\r" else c for c in value)
    return value


def read_table(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header (lower-case, trimmed) and (row number, values by column) of a CSV or the first sheet of a
    workbook, continuation rows joined to the row above; empty rows left out. Values are text ('' when blank)."""
    if not path.is_file():
        raise QualcodeError(f"{path}: no such file")
    raw = _xlsx_cells(path) if table_format(path) == "xlsx" else _csv_cells(path)
    if not raw:
        raise Problem(path, None, None, "the table is empty: its first row names the columns")
    header = [str(h).strip().lower() if h is not None else "" for h in raw[0][1]]
    twice = sorted({name for name in header if name and header.count(name) > 1})
    if twice:  # one would silently win over the other: a second 'code' column's codes lost
        raise Problem(path, raw[0][0], twice[0], f"the column{'s' if len(twice) > 1 else ''} {', '.join(twice)} "
                                                 f"{'appear' if len(twice) > 1 else 'appears'} more than once; give each"
                                                 " column its own name (one value a row)")
    rows: list[tuple[int, dict[str, str]]] = []
    for number, cells in raw[1:]:
        values = {name: _text(cells[i]) if i < len(cells) else "" for i, name in enumerate(header) if name}
        if not any(values.values()):
            continue
        if cells and _text(cells[0]) == CONTINUED:
            if not rows:
                raise Problem(path, number, header[0], f"a {CONTINUED} row must follow the row it continues")
            previous = rows[-1][1]
            for name, value in list(values.items())[1:]:
                previous[name] = previous.get(name, "") + value
            continue
        rows.append((number, values))
    return header, rows


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    return str(value)


def _csv_cells(path: Path) -> list[tuple[int, list]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle, delimiter=csv_delimiter(handle.readline(), others=";\t|"))
            handle.seek(0)
            rows, line = [], 1
            for cells in reader:  # a record with a line break in a value spans lines: name its first
                rows.append((line, cells))
                line = reader.line_num + 1
            return rows
    except UnicodeDecodeError:
        raise Problem(path, None, None, "not UTF-8 text; save the table as CSV UTF-8 (or as .xlsx)") from None


def _xlsx_cells(path: Path) -> list[tuple[int, list]]:
    from zipfile import BadZipFile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise Problem(path, None, None, f"not a readable Excel workbook ({exc})") from None
    try:
        return [(n, list(cells)) for n, cells in enumerate(workbook.worksheets[0].iter_rows(values_only=True), 1)]
    finally:
        workbook.close()
