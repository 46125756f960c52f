"""What each report template receives: typed contexts, every field documented.

These dataclasses are the contract for anyone writing their own template in
a project's `templates/` folder: a template may use exactly these names, and a
test checks both that every field has help text and that the package's
templates use nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qualcode.reports.plots import Chart


def doc(help: str, **kwargs):
    """A dataclass field carrying its help text."""
    return field(metadata={"help": help}, **kwargs)


@dataclass
class Quote:
    """One quotation, ready to print: pseudonymised words, attribution line, and where they come from."""

    id: str = doc("Stable quote id, Q-<transcript>-<nnnn>: the nth coded passage of that transcript, in text order.")
    text: str = doc("The words, pseudonymised; '...' where the quote starts or ends inside a sentence, or sentences were "
                    "left out by trimming.")
    attribution: str = doc("The attribution line rendered from the speaker's metadata in the project's format.")
    transcript: str = doc("Transcript id the quote comes from.")
    lines: str = doc("Line range in the transcript, as 'qualcode show' numbers it ('382' for one line, '382-385' for several).")
    start: int = doc("Character offset where the quoted passage starts in the transcript.")
    end: int = doc("Character offset where it ends.")
    code: str = doc("Code path the passage is coded with.")
    locality: str = doc("Locality of the speaker.")
    school: str | None = doc("School id of the speaker (None for a system informant).")
    important: bool = doc("Flagged important by a coder; such quotes come first.")
    words: int = doc("Number of words quoted.")
    participant: str = doc("Participant id (a pseudonym) of the speaker.")
    informant: bool = doc("The speaker is a system informant (RSC, Ofsted, LA...), not school staff.")
    role: str | None = doc("The speaker's role; for a system informant, the kind of informant.")
    phase: str | None = doc("Phase of the speaker's school (None for a system informant).")
    ofsted: str | None = doc("Ofsted grade of the speaker's school, if known.")
    origin: str = doc("How the passage was coded: 'manual', or 'accepted' (a suggestion a coder accepted).")
    whole: bool = doc("The quote starts and ends at sentence boundaries (no '...' at either end).")
    page: str = doc("The page of the quote's transcript, relative to the report: transcripts/<transcript>.html. The quote "
                    "id links to the id's anchor there, in every format.")


@dataclass
class LocalityQuotes:
    """The quotes for one code from one locality."""

    locality: str = doc("Locality name.")
    quotes: list[Quote] = doc("Quotes in order: important first, then by transcript and position.")


@dataclass
class QuoteGroup:
    """The quotes for one code (the theme itself or one of its children)."""

    code: str = doc("Code path.")
    anchor: str = doc("HTML id for the group's heading, for the table of contents.")
    title: str = doc("Code title, or its name when it has none.")
    definition: str | None = doc("Code definition from the codebook.")
    localities: list[LocalityQuotes] = doc("Quotes grouped by locality, localities in alphabetical order.")
    count: int = doc("Number of quotes in the group.")


@dataclass
class QuotesContext:
    """`qualcode report quotes`: every usable quote for a theme and its children."""

    title: str = doc("Report title.")
    theme: str = doc("Code path of the theme.")
    theme_title: str = doc("Title of the theme code.")
    definition: str | None = doc("Definition of the theme code.")
    generated: str = doc("Date the report was written (ISO format).")
    selection: list[str] = doc("How quotes were chosen, one phrase each (filters, length bounds, per-school cap).")
    groups: list[QuoteGroup] = doc("Quote groups, the theme's own codings first, then each child code.")
    quote_count: int = doc("Total number of quotes in the report.")
    warnings: list[str] = doc("Small-cell warnings: quotes whose attribution points to a single school or person in "
                              "its locality (and, with --coarsen, the coarser line they were given).", default_factory=list)
    facets: list[Facet] = doc("What the quotes can be filtered by in the page (phase, role, Ofsted grade), with counts.",
                              default_factory=list)
    nav: Navigation | None = doc("Links to the index, the case studies and the quote banks in the same folder, or None.",
                                 default=None)


@dataclass
class Facet:
    """One filter of a quote bank's page: a speaker's phase, role or Ofsted grade."""

    name: str = doc("The quote field filtered on: 'phase', 'role' or 'ofsted'.")
    label: str = doc("What the filter is called on the page.")
    values: list[Count] = doc("Each value with its number of quotes, most first.")


@dataclass
class Count:
    """A label and how many: a row of a small summary table."""

    label: str = doc("What is counted.")
    count: int = doc("How many.")


@dataclass
class SchoolRow:
    """One school of a locality, by its pseudonym id."""

    id: str = doc("School id (a pseudonym).")
    phase: str = doc("School phase.")
    school_type: str = doc("School type.")
    ofsted: str | None = doc("Ofsted grade.")
    fsm: float | None = doc("Share of pupils eligible for free school meals, per cent.")
    designations: list[str] = doc("National designations held: Teaching School, NLE, LLE, SLE.")
    partnerships: list[str] = doc("Partnership ids the school belongs to.")
    interviews: int = doc("Number of staff interviews at the school.")


@dataclass
class PartnershipRow:
    """A MAT, TSA or cluster active in the locality."""

    id: str = doc("Partnership id (a pseudonym).")
    kind: str = doc("MAT, TSA, cluster or federation.")
    lead: str | None = doc("Lead school id, if any.")
    members: list[str] = doc("Member school ids.")


@dataclass
class MatrixTable:
    """A code × locality table, ready to print."""

    caption: str = doc("What the numbers are.")
    columns: list[str] = doc("Column headings (localities).")
    rows: list[MatrixRow] = doc("One row per code.")
    highlight: str | None = doc("Column to emphasise (the report's own locality).")
    unit: str = doc("What the numbers are, as the chart's colour bar says: e.g. '% of coded passages'.")
    axis: str = doc("What the columns are, e.g. 'locality'.")
    totals: list[int] = doc("N of each column: what its percentages are of (e.g. the locality's coded passages); "
                            "empty when the numbers are counts.", default_factory=list)


@dataclass
class MatrixRow:
    code: str = doc("Code path.")
    depth: int = doc("0 for a top-level theme, 1 for its children, for indenting.")
    values: list[float] = doc("One number per column.")


@dataclass
class ThemeShare:
    """How much more (or less) a theme is coded in this locality than in the others."""

    code: str = doc("Code path.")
    here: float = doc("Share of this locality's coded passages, per cent.")
    elsewhere: float = doc("Share of the other localities' coded passages, per cent.")
    ratio: float = doc("here / elsewhere: above 1 over-represented, below 1 under-represented.")
    passages: int = doc("Coded passages of the theme in this locality.")
    total: int = doc("All coded passages in this locality (the share's denominator).")
    passages_elsewhere: int = doc("Coded passages of the theme in the other localities.")
    total_elsewhere: int = doc("All coded passages in the other localities.")


@dataclass
class ThemeQuotes:
    """Key quotes on one theme from the locality."""

    code: str = doc("Code path of the theme.")
    anchor: str = doc("HTML id for the theme's heading.")
    title: str = doc("Theme title.")
    quotes: list[Quote] = doc("School staff's key quotes, chosen by the rule in the case study's `method`.")
    informants: list[Quote] = doc("System informants' key quotes on the theme, shown apart from the school staff's.")


@dataclass
class MemoRow:
    """A researcher's memo on the locality or one of its schools."""

    target: str = doc("What the memo is about, e.g. 'locality Eastern' or 'school EAS-S04'.")
    author: str = doc("Who wrote it.")
    date: str = doc("When (ISO date).")
    text: str = doc("The memo, pseudonymised.")


@dataclass
class CaseContext:
    """`qualcode report case LOCALITY`: a locality case study."""

    title: str = doc("Report title.")
    locality: str = doc("Locality name.")
    generated: str = doc("Date the report was written (ISO format).")
    schools: list[SchoolRow] = doc("The locality's schools.")
    phases: list[Count] = doc("Schools by phase.")
    school_types: list[Count] = doc("Schools by type.")
    grades: list[Count] = doc("Schools by Ofsted grade.")
    partnerships: list[PartnershipRow] = doc("Partnerships based in the locality.")
    staff: list[Count] = doc("Staff interviews by role.")
    informants: list[Count] = doc("System informant interviews by kind.")
    interviews: int = doc("All interviews in the locality, staff and informants.")
    matrix: MatrixTable = doc("Share of coded passages per theme, this locality against the others (column per cent).")
    over: list[ThemeShare] = doc("Themes most over-represented here, strongest first.")
    under: list[ThemeShare] = doc("Themes most under-represented here, weakest first.")
    themes: list[ThemeQuotes] = doc("Key quotes per top-level theme.")
    method: list[str] = doc("How the key quotes were chosen, one step of the rule each.")
    memos: list[MemoRow] = doc("Memos on the locality or its schools, oldest first.")
    plot: Chart | None = doc("The code × locality heatmap (a `plots.Chart`: `.svg()` for HTML, `.png()` for Word), or None.")
    warnings: list[str] = doc("Small-cell warnings: key quotes whose attribution points to a single school or person in "
                              "its locality (and, with --coarsen, the coarser line they were given).", default_factory=list)
    nav: Navigation | None = doc("Links to the index, the case studies and the quote banks in the same folder, or None.",
                                 default=None)


@dataclass
class LocalitySummary:
    """One locality's line in the cross-locality summary."""

    name: str = doc("Locality name.")
    schools: int = doc("Number of schools.")
    interviews: int = doc("Number of interviews.")
    passages: int = doc("Number of coded passages.")
    over: list[str] = doc("Its most over-represented themes.")
    link: str | None = doc("File name of the locality's case report in the same folder (None: no schools, no case report).")


@dataclass
class CasesContext:
    """`qualcode report cases`: the cross-locality summary."""

    title: str = doc("Report title.")
    generated: str = doc("Date the report was written (ISO format).")
    localities: list[LocalitySummary] = doc("One summary per locality, alphabetical.")
    matrix: MatrixTable = doc("Share of coded passages per theme in each locality (column per cent).")
    plot: Chart | None = doc("The code × locality heatmap (a `plots.Chart`: `.svg()` for HTML, `.png()` for Word), or None.")
    phase_plot: Chart | None = doc("Bars of each top-level theme's share of coded passages by school phase (a `plots.Chart`), or None.")
    phase_matrix: MatrixTable | None = doc("The numbers the phase bars draw: each top-level theme's share of each phase's "
                                           "coded passages, with N per phase.", default=None)
    nav: Navigation | None = doc("Links to the index, the case studies and the quote banks in the same folder, or None.",
                                 default=None)


@dataclass
class Link:
    """A link in the bar of reports at the top of every page."""

    label: str = doc("What the link says: 'Index', a locality, a theme's code path.")
    href: str = doc("Relative address of the report from the page that shows the link.")
    current: bool = doc("The link is to the page itself (shown, not linked).")


@dataclass
class Navigation:
    """The reports in the same folder: the index, the case studies and the quote banks."""

    index: Link | None = doc("The cross-locality summary, cases.html, if it is in the folder.")
    cases: list[Link] = doc("Locality case studies in the folder, alphabetical.")
    banks: list[Link] = doc("Quote banks in the folder, by code path.")

    def __bool__(self) -> bool:
        """False when there is nothing to link to (a transcript page beside Markdown or Word reports): no bar."""
        return bool(self.index or self.cases or self.banks)


@dataclass
class Piece:
    """Part of a turn: text that is inside the same coded passages throughout."""

    text: str = doc("The words, pseudonymised.")
    ids: list[str] = doc("Quote ids of the coded passages that hold these words (none: uncoded words).")
    starts: list[str] = doc("Quote ids of the passages that start here: each gets an anchor the quote links to.")


@dataclass
class TurnView:
    """One turn of the interview as the transcript page shows it."""

    number: int = doc("Turn number in the transcript.")
    speaker: str = doc("'Interviewer' or 'Interviewee': never the label as transcribed, which may be a name.")
    lines: str = doc("Line range in the transcript, as 'qualcode show' numbers it.")
    pieces: list[Piece] = doc("The turn's text in pieces, coded passages marked.")
    left_out: int = doc("Turns left out just before this one (they hold no quotable passage).")


@dataclass
class TranscriptContext:
    """A transcript's page: the turns holding quotable coded passages, each after the question it answers."""

    title: str = doc("Page title.")
    transcript: str = doc("Transcript id.")
    generated: str = doc("Date the page was written (ISO format).")
    turns: list[TurnView] = doc("The turns shown, in transcript order.")
    left_out: int = doc("Turns left out after the last one shown.")
    passages: int = doc("Quotable coded passages on the page (each with its quote id as anchor).")
    nav: Navigation | None = doc("Links to the reports in the folder above (see `Navigation`), or None.", default=None)


#: Report kind -> the context its templates receive.
CONTEXTS = {"quotes": QuotesContext, "case": CaseContext, "cases": CasesContext, "transcript": TranscriptContext}


def variables(context) -> dict:
    """The names a template sees: the context's top-level fields."""
    return {f.name: getattr(context, f.name) for f in fields(context)}
