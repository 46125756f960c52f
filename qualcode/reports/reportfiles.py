"""Finding the quotes in a report, whoever wrote it: Markdown, plain text, HTML or Word.

Each format is read into the same `Quote` records: the quoted words, the line
they start on, and the attribution line that follows them (if any), with its
own line number. Line numbers are file lines for text formats, the line of the
element in HTML, and the paragraph number in Word documents (in reading order,
table cells and text boxes included; headers, footers and notes come after the body).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from qualcode.errors import QualcodeError
from qualcode.ingest.transcript import read_text

FORMATS = ("md", "txt", "html", "docx")
#: qualcode's quote ids (Q-EAS-S04-HT-0153) and HTML comments are not words anyone said.
_QUOTE_ID = re.compile(r"\s*[\[(]?\bQ-[A-Z0-9]+(?:-[A-Z0-9]+)*-\d{4}\b[\])]?\s*")
#: The transcript a quote id names: where `qualcode check` looks for the quote first.
_SOURCE = re.compile(r"\bQ-(?P<transcript>[A-Z0-9]+(?:-[A-Z0-9]+)*)-\d{4}\b")
_COMMENT = re.compile(r"<!--.*?-->")
#: A whole paragraph in quotation marks, as people write quotes in prose documents.
_QUOTED_PARAGRAPH = re.compile(r"^\s*[\"“‘'](?P<text>.{20,})[\"”’']\s*$", re.DOTALL)
_MIN_WORDS_INLINE = 12
#: An apostrophe inside a word ("I'm", "school’s") does not end the quote, nor start one.
_INLINE_QUOTE = re.compile(r"(?<!\w)[\"“‘'](?P<text>(?:[^\"“”‘’']|(?<=\w)['’](?=\w)){40,}?)[\"”’'](?=[\s.,;:)!?]|$)")


@dataclass
class Quote:
    text: str
    line: int
    attribution: str | None
    attribution_line: int | None
    #: A quoted passage inside prose: checked for fidelity and truth, but its attribution is the prose's job.
    inline: bool = False
    #: The transcript named by the quote's id (qualcode's reports give one), if any.
    source: str | None = None


@dataclass
class Document:
    """A report's text lines (for leak checks and fixes) and the quotes found in it."""

    path: Path
    fmt: str
    lines: list[str]
    quotes: list[Quote]


def detect_format(path: Path, fmt: str | None = None) -> str:
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    fmt = {"markdown": "md", "htm": "html", "text": "txt"}.get(fmt, fmt)
    if fmt not in FORMATS:
        raise QualcodeError(f"{path}: cannot read '{fmt}' reports; use --format md, html, docx or txt")
    return fmt


def read_document(path: Path, fmt: str | None = None) -> Document:
    fmt = detect_format(path, fmt)
    if not path.is_file():
        raise QualcodeError(f"{path}: no such file")
    if fmt == "docx":
        from qualcode.ingest.wordfiles import open_document

        word = open_document(path)
        body = word_paragraphs(word)
        paragraphs = [word_text(paragraph._p) for paragraph in body]
        quotes = _quotes_from_paragraphs(paragraphs, [_is_quote_paragraph(p, text) for p, text in zip(body, paragraphs)])
        return Document(path, fmt, paragraphs + _word_notes(word), quotes)
    text, _ = read_text(path)
    if fmt == "html":
        return Document(path, fmt, visible_lines(text), _html_quotes(text))
    lines = text.splitlines()
    return Document(path, fmt, lines, _text_quotes(lines, fmt))


def clean(text: str) -> str:
    """A quote or attribution without quote ids, comments or surplus white space."""
    return " ".join(_QUOTE_ID.sub(" ", _COMMENT.sub(" ", text)).split())


def _text_quotes(lines: list[str], fmt: str) -> list[Quote]:
    """Markdown `>` block quotes (and indented blocks in .txt), whole quoted paragraphs, long inline quotes."""
    quotes: list[Quote] = []
    index = 0
    while index < len(lines):
        if fmt == "md" and lines[index].lstrip().startswith("|"):
            quotes += _table_row_quotes(lines[index], index + 1)
            index += 1
            continue
        block, end = _block_at(lines, index, fmt)
        if block:
            quotes.append(_with_attribution(Quote(clean(" ".join(block)), index + 1, None, None), lines, end))
            index = end
            continue
        paragraph, end = _paragraph_at(lines, index)
        whole = _QUOTED_PARAGRAPH.match(" ".join(paragraph)) if paragraph else None
        if whole:
            quotes.append(_with_attribution(Quote(clean(whole.group("text")), index + 1, None, None), lines, end))
        elif paragraph:
            quotes += _inline_quotes(paragraph, index)
        index = max(end, index + 1)
    return quotes


def _table_row_quotes(row: str, line: int) -> list[Quote]:
    """A Markdown table row: a cell wholly in quotation marks is a quote, attributed by the row's next cell
    (else its previous one); other cells may hold quotes inside prose."""
    cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
    quotes = []
    for number, cell in enumerate(cells):
        if whole := _QUOTED_PARAGRAPH.match(cell):
            others = [c for c in cells[number + 1 :] if c] or [c for c in reversed(cells[:number]) if c]
            attribution = clean(others[0]) if others else None
            quotes.append(Quote(clean(whole.group("text")), line, attribution, line if attribution else None))
        else:
            quotes += _inline_quotes([cell], line - 1)
    return quotes


def _block_at(lines: list[str], index: int, fmt: str) -> tuple[list[str], int]:
    """The block quote starting at `index`, if any, and the index after it."""
    marker = (lambda line: line.startswith(">")) if fmt == "md" else (lambda line: line.startswith(("    ", "\t")))
    block, end = [], index
    while end < len(lines) and marker(lines[end]):
        block.append(lines[end].lstrip(">").strip() if fmt == "md" else lines[end].strip())
        end += 1
    return [line for line in block if line], end


def _paragraph_at(lines: list[str], index: int) -> tuple[list[str], int]:
    paragraph, end = [], index
    while end < len(lines) and lines[end].strip() and not lines[end].startswith((">", "#")):
        paragraph.append(lines[end].strip())
        end += 1
    return paragraph, end


def _inline_quotes(paragraph: list[str], index: int) -> list[Quote]:
    """Long quoted passages inside prose: checked for fidelity; their attribution is the prose's job."""
    found = []
    for offset, line in enumerate(paragraph):
        for match in _INLINE_QUOTE.finditer(line):
            if len(match.group("text").split()) >= _MIN_WORDS_INLINE:
                found.append(Quote(clean(match.group("text")), index + offset + 1, None, None, inline=True))
    return found


def _with_attribution(quote: Quote, lines: list[str], after: int) -> Quote:
    """The attribution is the next non-empty line after the quote that is not a quote id or comment.

    A quote id on the attribution line or the next non-empty line names the quote's transcript.
    """
    for number in range(after, min(after + 4, len(lines))):
        text = clean(lines[number])
        if text and not text.startswith(">"):
            quote.attribution, quote.attribution_line = text, number + 1
            quote.source = _source_near(lines, number)
            break
    return quote


def _source_near(lines: list[str], number: int) -> str | None:
    following = [line for line in lines[number : number + 4] if line.strip()][:2]
    for line in following:
        if line.lstrip().startswith(">"):
            break
        if match := _SOURCE.search(line):
            return match.group("transcript")
    return None


def _quotes_from_paragraphs(paragraphs: list[str], is_quote: list[bool]) -> list[Quote]:
    """Word documents: a run of 'Quote'-styled or indented paragraphs, or one paragraph wholly in quotation marks."""
    quotes = []
    index = 0
    while index < len(paragraphs):
        end = index
        while end < len(paragraphs) and is_quote[end]:
            end += 1
        whole = _QUOTED_PARAGRAPH.match(paragraphs[index]) if end == index else None
        if end > index:
            quotes.append(_with_attribution(Quote(clean(" ".join(paragraphs[index:end])), index + 1, None, None), paragraphs, end))
        elif whole:
            end = index + 1
            quotes.append(_with_attribution(Quote(clean(whole.group("text")), index + 1, None, None), paragraphs, end))
        else:
            quotes += _inline_quotes([paragraphs[index]], index)
        index = max(end, index + 1)
    return quotes


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
#: A text box's copy for readers that cannot draw it: the same paragraphs again.
_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
#: The parts of a Word document that hold text beside the body.
_NOTE_PARTS = ("header+xml", "footer+xml", "footnotes+xml", "endnotes+xml", "comments+xml")


def word_paragraphs(document) -> list:
    """Every paragraph of a Word document's body in reading order: in tables and text boxes too.

    python-docx's `Document.paragraphs` holds only the top level, so a quote
    or a name typed into a table cell would go unread. `fix_report` numbers
    paragraphs by this list, as `read_document` does.
    """
    from docx.text.paragraph import Paragraph

    return [Paragraph(p, document.part) for p in document.element.body.iter(f"{_W}p")
            if not any(ancestor.tag == _FALLBACK for ancestor in p.iterancestors())]


def word_text(p) -> str:
    """A paragraph's text as Word shows it, tracked insertions included (python-docx leaves them out)."""
    parts = []
    for element in p.iter(f"{_W}t", f"{_W}tab", f"{_W}br", f"{_W}cr"):
        if next(element.iterancestors(f"{_W}p")) is p:  # not a text box's paragraph inside this one
            parts.append((element.text or "") if element.tag == f"{_W}t" else "\t" if element.tag == f"{_W}tab" else "\n")
    return "".join(parts)


def _word_notes(document) -> list[str]:
    """The paragraphs of headers, footers, footnotes, endnotes and comments: read for names, after the body's."""
    from lxml import etree

    notes = []
    for part in document.part.package.iter_parts():
        if part.content_type.endswith(_NOTE_PARTS):
            notes += [word_text(p) for p in etree.fromstring(part.blob).iter(f"{_W}p")]
    return notes


def _is_quote_paragraph(paragraph, text: str) -> bool:
    style = (paragraph.style.name or "").lower() if paragraph.style is not None else ""
    indent = paragraph.paragraph_format.left_indent
    return bool(text.strip()) and ("quote" in style or bool(indent and indent > 0))


#: Elements that end a line of text; any other tag (em, span, a...) may sit inside a word: 'T<b>obias</b>'.
_HTML_BLOCKS = frozenset(
    "address article aside blockquote body br caption dd div dl dt figcaption figure footer form h1 h2 h3 h4 h5 h6 "
    "header hr li main nav ol p pre section table tbody td tfoot th thead tr ul".split()
)


class _HtmlQuotes(HTMLParser):
    """Each <blockquote>'s text, and its attribution: a <footer>/<cite> inside it, else the next element's text.

    The text of every other block (paragraph, table cell, list item) is kept
    as `prose`, where quotes in quotation marks are found as in Markdown.
    """

    _ATTRIBUTION_TAGS = ("p", "figcaption", "div", "footer", "span")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.quotes: list[Quote] = []
        self._depth = 0
        self._skip = 0
        self._words: list[str] = []
        self._inner: list[str] | None = None
        self._awaiting: Quote | None = None
        self._attribution: list[str] | None = None
        self._attribution_tag: str | None = None
        #: (line, pieces of text) of each block outside block quotes.
        self.prose: list[tuple[int, list[str]]] = []
        self._prose_open = False

    def _break(self, tag: str) -> None:
        """A block's edge: words either side of it are apart, and prose after it is a new block."""
        if tag in _HTML_BLOCKS:
            for pieces in (self._words if self._depth else None, self._inner, self._attribution):
                if pieces is not None:
                    pieces.append(" ")
            self._prose_open = False

    def handle_startendtag(self, tag: str, attrs) -> None:
        self._break(tag)

    def handle_starttag(self, tag: str, attrs) -> None:
        self._break(tag)
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "blockquote":
            self._depth += 1
            if self._depth == 1:
                self._awaiting, self._words, self._inner = None, [], None
                self._line = self.getpos()[0]
        elif self._depth and tag in ("footer", "cite"):
            self._inner, self._inner_line = [], self.getpos()[0]
        elif self._awaiting is not None and self._attribution is None and tag in self._ATTRIBUTION_TAGS:
            self._attribution, self._attribution_tag = [], tag
            self._awaiting.attribution_line = self.getpos()[0]

    def handle_endtag(self, tag: str) -> None:
        self._break(tag)
        if tag in ("script", "style"):
            self._skip -= 1
        elif tag == "blockquote" and self._depth:
            self._depth -= 1
            if self._depth == 0:
                self._end_quote()
        elif self._attribution is not None and tag == self._attribution_tag:
            self._awaiting.attribution = clean("".join(self._attribution)) or None
            self._awaiting, self._attribution = None, None

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        last = self.quotes[-1] if self.quotes and not self._depth else None
        if last is not None and last.source is None and (match := _SOURCE.search(data)):
            last.source = match.group("transcript")
        if self._depth:
            (self._inner if self._inner is not None else self._words).append(data)
            return
        if self._attribution is not None:
            self._attribution.append(data)
        if not self._prose_open:
            self.prose.append((self.getpos()[0], []))
            self._prose_open = True
        self.prose[-1][1].append(data)

    def _end_quote(self) -> None:
        quote = Quote(clean("".join(self._words)), self._line, None, None)
        self.quotes.append(quote)
        if self._inner is not None:
            quote.attribution, quote.attribution_line = clean("".join(self._inner)) or None, self._inner_line
        else:
            self._awaiting, self._attribution = quote, None


_HIDDEN = re.compile(r"<(style|script)\b.*?</\1\s*>|<!--.*?-->", re.DOTALL | re.IGNORECASE)
_TAG = re.compile(r"</?\s*([a-zA-Z0-9]*)[^>]*>", re.DOTALL)


def visible_lines(text: str) -> list[str]:
    """What a reader of the page sees, line by line (numbers kept): no tags, styles, scripts or comments.

    A font name in a style sheet is not a person named in the report.
    """
    import html

    blank = lambda match: "\n" * match.group(0).count("\n")  # noqa: E731
    apart = lambda match: (" " if match.group(1).lower() in _HTML_BLOCKS else "") + blank(match)  # noqa: E731
    visible = _TAG.sub(apart, _HIDDEN.sub(blank, text))
    return html.unescape(visible).splitlines()


def _html_quotes(text: str) -> list[Quote]:
    parser = _HtmlQuotes()
    parser.feed(text)
    parser.close()
    blocks = [(line, clean("".join(pieces))) for line, pieces in parser.prose]
    blocks = [(line, words) for line, words in blocks if words]
    prose = _quotes_from_paragraphs([words for _, words in blocks], [False] * len(blocks))
    for quote in prose:  # numbered by block: the page's lines instead
        quote.line = blocks[quote.line - 1][0]
        if quote.attribution_line is not None:
            quote.attribution_line = blocks[quote.attribution_line - 1][0]
    return sorted(parser.quotes + prose, key=lambda quote: quote.line)
