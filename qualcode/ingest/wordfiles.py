"""Word transcripts as researchers and transcription services write them.

A Word transcript is paragraphs, one line of text each, sometimes after a
table. The first table is either qualcode metadata (every key a transcript
field: ``id | EAS-S04-HT``) or the header a transcription service puts on
top (Client, Audio file, Duration, Transcriber, ...). The header is part of
the document, not metadata about the interview qualcode can check, so its
rows open the body as ``Key: value`` lines, where a reader sees them. Any
other table is written where it stands, a row per line (``Speaker: words``
for a speaker|text table).

A speaker label set in bold (``Interviewer:`` in bold, then the words) is
written as Markdown bold, ``**Interviewer:** words``, because the bold is the
only thing that marks it as a label and plain text would lose it.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from qualcode.errors import Problem
from qualcode.ingest.metadata import TRANSCRIPT_FIELDS
from qualcode.ingest.transcript import AS_WRITTEN, normalise_newlines

# Every run of a paragraph in reading order: also inside tracked insertions, smart tags, fields and content
# controls, which python-docx's `paragraph.text` leaves out; not deleted text, nor a text box's copy for old Word.
_RUNS = (".//w:r[not(ancestor::w:del or ancestor::w:moveFrom or ancestor::w:txbxContent"
         " or ancestor::*[local-name()='Fallback'])]")
# A label in bold: a few words ending in a colon, inside the bold or just after it.
_LABEL = re.compile(r"^[^*:\n]{1,60}$")


def read_word_document(path: Path) -> tuple[dict, str]:
    """The metadata from a leading metadata table, and the body text (ending in a newline)."""
    document = open_document(path)
    meta: dict = {}
    header: list[str] = []
    first = document.tables[0] if document.tables else None
    if first is not None:
        rows = _rows(first)
        if all(_field(key) in TRANSCRIPT_FIELDS for key, _ in rows if key):
            meta = _metadata(rows, path)
        else:
            header = [f"{key.rstrip(':').rstrip()}: {value}".rstrip() if key else value for key, value in rows]
    blocks = list(document.element.body.iterchildren())
    at = blocks.index(first._tbl) if first is not None else len(blocks)
    before, after = _block_lines(blocks[:at], document), _block_lines(blocks[at + 1 :], document)
    if any(line.strip() for line in before):  # a table below the first words stays where it stands
        before, header = before + header, []
    paragraphs = "\n".join(before + after).strip("\n")
    if not paragraphs.strip() and not header:
        raise Problem(path, None, None, "the document has no text")
    body = "\n".join(header) + "\n\n" + paragraphs if header else paragraphs
    return meta, normalise_newlines(body).rstrip() + "\n"


def _block_lines(blocks, parent) -> list[str]:
    """The lines of these paragraphs and tables (of the body, of a cell), in document order.

    Paragraphs inside a content control (`w:sdt`) count too, and each table after the
    first is written where it stands, row by row (`_table_lines`): python-docx's
    `document.paragraphs` sees neither, so their words were lost.
    """
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    lines: list[str] = []
    for block in blocks:
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append(_paragraph_text(Paragraph(block, parent)))
        elif tag == "tbl":
            lines += _table_lines(Table(block, parent))
        elif tag in ("sdt", "sdtContent", "customXml"):
            lines += _block_lines(block.iterchildren(), parent)
    return lines


def _table_lines(table) -> list[str]:
    """One line per row; a row whose last cell follows short ones reads `Speaker: words` (a speaker|text
    table, `00:01:23 | Speaker | words` too), other rows give each cell its own lines."""
    lines = []
    for row in table.rows:
        cells = ["\n".join(_block_lines(tc.iterchildren(), table)).strip() for tc in dict.fromkeys(c._tc for c in row.cells)]
        cells = [cell for cell in cells if cell]
        head = " ".join(" ".join(cells[:-1]).split()).rstrip(":").rstrip()
        if head and len(head) <= 60:
            lines.append(f"{head}: {cells[-1]}")
        else:
            lines += cells
    return lines


def open_document(path: Path):
    """The python-docx document, or a `Problem` for a file Word itself would call damaged."""
    import docx  # python-docx; imported here so plain-text imports don't pay for it
    from docx.opc.exceptions import PackageNotFoundError
    from lxml import etree

    try:
        return docx.Document(str(path))
    except PackageNotFoundError:
        reason = "it is not a .docx (zip) file, or it was cut short"
    except (zipfile.BadZipFile, etree.XMLSyntaxError, KeyError, ValueError) as exc:
        reason = f"{type(exc).__name__}: {exc}"
    raise Problem(path, None, None, f"a damaged Word document ({reason}); open it in Word and save it again")


def _rows(table) -> list[tuple[str, str]]:
    """(key, value) of each row with any text (a row continuing the one above has no key); a merged
    cell counts once, and text stays on one line."""
    rows = []
    for row in table.rows:
        cells = list({cell._tc: " ".join(cell.text.split()) for cell in row.cells}.values())
        if any(cells):
            rows.append((cells[0], " ".join(cells[1:])))
    return rows


def _field(key: str) -> str:
    """'School type' -> 'school_type', as metadata field names are written."""
    return key.strip().lower().replace(" ", "_")


def _metadata(rows: list[tuple[str, str]], path: Path) -> dict:
    """Each row's value read as YAML, as front matter would be; a bad value names its row."""
    import yaml

    meta = {}
    for number, (key, value) in enumerate(rows, start=1):
        if not key:
            raise Problem(path, None, None, f"row {number} of the metadata table: {value!r} has no field name in its"
                          " first cell; name the field, or join the text to the row above")
        if _field(key) in AS_WRITTEN:  # an id as written: '007', not 7
            meta[_field(key)] = value or None
            continue
        try:
            meta[_field(key)] = yaml.safe_load(value) if value else None
        except yaml.YAMLError as exc:
            problem = getattr(exc, "problem", None) or str(exc)
            raise Problem(
                path, None, _field(key), f"row {number} of the metadata table: {value!r} is not valid YAML ({problem})"
            ) from None
    return meta


def _paragraph_text(paragraph) -> str:
    """The paragraph's text, with a leading bold speaker label written ``**Label:**``.

    The colon may be inside the bold or just after it; a bold start that is
    not a label followed by a colon (a heading, an emphasised word) is left as it is.
    """
    text = "".join(run.text for run in paragraph._p.xpath(_RUNS))
    bold = _leading_bold(paragraph)
    if not bold.strip() or not text.startswith(bold):
        return text
    label, rest = bold.strip(), text[len(bold) :]
    if label.endswith(":"):
        label = label[:-1].strip()
    elif rest.lstrip().startswith(":"):
        rest = rest.lstrip()[1:]
    else:
        return text
    if not _LABEL.match(label) or len(label.split()) > 5:
        return text
    words = rest.strip()
    return f"**{label}:**" + (f" {words}" if words else "")


def _leading_bold(paragraph) -> str:
    """The text of the bold runs the paragraph starts with, up to a run that ends in a colon.

    Stopping there finds the label when the words after it are bold too (a
    transcriber who sets the interviewer's questions in bold).
    """
    bold = ""
    for run in paragraph.runs:
        if run.text and not _is_bold(run):
            break
        bold += run.text
        if bold.rstrip().endswith(":"):
            break
    return bold


def _is_bold(run) -> bool:
    """Bold set on the run, else by its character style or the styles that style is based on."""
    if run.bold is not None:
        return run.bold
    style = run.style
    while style is not None:
        if style.font.bold is not None:
            return style.font.bold
        style = style.base_style
    return False
