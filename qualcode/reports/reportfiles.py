"""Finding the quotes in a report, whoever wrote it: Markdown, plain text, HTML or Word.

Each format is read into the same `Quote` records: the quoted words, the line
they start on, and the attribution line that follows them (if any), with its
own line number. Line numbers are file lines for text formats, the line of the
element in HTML, and the paragraph number in Word documents.
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
_INLINE_QUOTE = re.compile(r"[\"“‘'](?P<text>[^\"“”‘’']{40,}?)[\"”’'](?=[\s.,;:)!?]|$)")


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
        paragraphs = _docx_paragraphs(path)
        return Document(path, fmt, paragraphs, _quotes_from_paragraphs(paragraphs, _docx_quote_flags(path)))
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
        index = max(end, index + 1)
    return quotes


def _docx_paragraphs(path: Path) -> list[str]:
    from qualcode.ingest.wordfiles import open_document

    return [paragraph.text for paragraph in open_document(path).paragraphs]


def _docx_quote_flags(path: Path) -> list[bool]:
    from qualcode.ingest.wordfiles import open_document

    flags = []
    for paragraph in open_document(path).paragraphs:
        style = (paragraph.style.name or "").lower() if paragraph.style is not None else ""
        indent = paragraph.paragraph_format.left_indent
        flags.append(bool(paragraph.text.strip()) and ("quote" in style or bool(indent and indent > 0)))
    return flags


class _HtmlQuotes(HTMLParser):
    """Each <blockquote>'s text, and its attribution: a <footer>/<cite> inside it, else the next element's text."""

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

    def handle_starttag(self, tag: str, attrs) -> None:
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
        if tag in ("script", "style"):
            self._skip -= 1
        elif tag == "blockquote" and self._depth:
            self._depth -= 1
            if self._depth == 0:
                self._end_quote()
        elif self._attribution is not None and tag == self._attribution_tag:
            self._awaiting.attribution = clean(" ".join(self._attribution)) or None
            self._awaiting, self._attribution = None, None

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        last = self.quotes[-1] if self.quotes and not self._depth else None
        if last is not None and last.source is None and (match := _SOURCE.search(data)):
            last.source = match.group("transcript")
        if self._depth:
            (self._inner if self._inner is not None else self._words).append(data)
        elif self._attribution is not None:
            self._attribution.append(data)

    def _end_quote(self) -> None:
        quote = Quote(clean(" ".join(self._words)), self._line, None, None)
        self.quotes.append(quote)
        if self._inner is not None:
            quote.attribution, quote.attribution_line = clean(" ".join(self._inner)) or None, self._inner_line
        else:
            self._awaiting, self._attribution = quote, None


_HIDDEN = re.compile(r"<(style|script)\b.*?</\1\s*>|<!--.*?-->", re.DOTALL | re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>", re.DOTALL)


def visible_lines(text: str) -> list[str]:
    """What a reader of the page sees, line by line (numbers kept): no tags, styles, scripts or comments.

    A font name in a style sheet is not a person named in the report.
    """
    import html

    blank = lambda match: "\n" * match.group(0).count("\n")  # noqa: E731
    visible = _TAG.sub(lambda match: " " + blank(match), _HIDDEN.sub(blank, text))
    return html.unescape(visible).splitlines()


def _html_quotes(text: str) -> list[Quote]:
    parser = _HtmlQuotes()
    parser.feed(text)
    parser.close()
    return parser.quotes
