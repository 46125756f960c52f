"""Locality case studies and the cross-locality summary (the model: the study's four case studies).

A case study sets out the locality's context (schools, partnerships, who was
interviewed), then how its coding differs from the other localities, the key
quotes per theme, and the researchers' memos on it. Shares are of coded
passages: a theme's passages in a locality over all coded passages there, so
localities with more interviews are comparable with those with fewer.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from qualcode.config import UnknownValue
from qualcode.errors import QualcodeError
from qualcode.models import Memo, Participant, Partnership, School, Transcript
from qualcode.project import Project
from qualcode.analysis.query import coded_segments, pseudonymiser
from qualcode.reports.contexts import (
    CaseContext,
    CasesContext,
    Count,
    LocalitySummary,
    MatrixRow,
    MatrixTable,
    MemoRow,
    PartnershipRow,
    Quote,
    SchoolRow,
    ThemeQuotes,
    ThemeShare,
)
from qualcode.reports.keyquotes import choose_key_quotes, rule
from qualcode.reports.quotes import QuoteSource, Selection, anchor, build_quotes, small_cell_quotes

if TYPE_CHECKING:
    from qualcode.reports.plots import Chart

#: Key quotes' length bounds, in words.
KEY_QUOTE_WORDS = (20, 120)
#: Themes listed as over- or under-represented, and the fewest passages a theme needs to be listed.
EXTREMES = 5
MIN_PASSAGES = 3


@dataclass
class Shares:
    """Coded passages per code (children rolled in, two levels deep) and locality (or phase...), and the
    coded passages of each locality, the one denominator of every share: a passage counts once in it
    however many codes it carries, so a theme's share is the same in the table and in the charts."""

    counts: dict[str, dict[str, int]]
    totals: dict[str, int]
    codes: list[str]
    #: What the groups are: 'locality', 'phase'...
    by: str = "locality"

    @classmethod
    def of(cls, project: Project, by: str = "locality") -> Shares:
        frame = coded_segments(project, None, rollup=True)
        frame = frame[frame["code"].str.count("/") <= 1]
        counts = frame.groupby([by, "code"])["segment"].nunique()
        totals = frame.drop_duplicates("segment").groupby(by).size()
        nested: dict[str, dict[str, int]] = {}
        for (group, code), count in counts.items():
            nested.setdefault(group, {})[code] = int(count)
        return cls(nested, {k: int(v) for k, v in totals.items()}, sorted(frame["code"].unique()), by)

    def share(self, localities: list[str], code: str) -> float:
        total = sum(self.totals.get(name, 0) for name in localities)
        count = sum(self.counts.get(name, {}).get(code, 0) for name in localities)
        return 100 * count / total if total else 0.0

    def table(self, highlight: str | None = None, depth: int = 1) -> MatrixTable:
        """Codes down to `depth` (0: themes only) × groups, with each group's N of coded passages."""
        columns = sorted(self.totals)
        rows = [MatrixRow(code, code.count("/"), [round(self.share([name], code), 1) for name in columns])
                for code in self.codes if code.count("/") <= depth]
        caption = (f"Share of each {self.by}'s coded passages (%) per theme; N is the {self.by}'s coded passages, "
                   "and a passage may carry several codes.")
        return MatrixTable(caption, columns, rows, highlight, f"% of coded passages in the {self.by}", self.by,
                           [self.totals[name] for name in columns])

    def extremes(self, locality: str) -> tuple[list[ThemeShare], list[ThemeShare]]:
        others = [name for name in self.totals if name != locality]
        ranked = []
        for code in self.codes:
            if "/" not in code or self.counts.get(locality, {}).get(code, 0) < MIN_PASSAGES:
                continue
            here, elsewhere = self.share([locality], code), self.share(others, code)
            if elsewhere:
                ranked.append(ThemeShare(
                    code, round(here, 1), round(elsewhere, 1), round(here / elsewhere, 2),
                    self.counts[locality][code], self.totals[locality],
                    sum(self.counts.get(name, {}).get(code, 0) for name in others), sum(self.totals[name] for name in others),
                ))
        ranked.sort(key=lambda s: s.ratio)
        over = [s for s in reversed(ranked) if s.ratio > 1][:EXTREMES]
        under = [s for s in ranked if s.ratio < 1][:EXTREMES]
        return over, under


def check_locality(project: Project, locality: str) -> str:
    """The locality's canonical name, if any school or participant is in it."""
    try:
        name = project.settings.vocabularies.resolve("locality", locality)
    except UnknownValue as exc:
        raise QualcodeError(str(exc)) from None
    with project.session() as session:
        if session.scalar(select(Participant.id).where(Participant.locality_name == name).limit(1)) is None:
            raise QualcodeError(f"no interviews in {name}")
    return name


def case_context(
    project: Project, locality: str, plot: bool = True, shares: Shares | None = None, source: QuoteSource | None = None,
    coarsen: bool = False,
) -> CaseContext:
    """Everything the case study of `locality` shows (`shares` and `source` may be shared by several); with
    `coarsen`, key quotes that are small cells get the coarser attribution, as in a quote bank."""
    name = check_locality(project, locality)
    shares = shares or Shares.of(project)
    over, under = shares.extremes(name)
    table = shares.table(highlight=name)
    with project.session() as session:
        schools = session.scalars(
            select(School).where(School.locality_name == name).order_by(School.id)
            .options(selectinload(School.designations), selectinload(School.partnerships))
        ).all()
        participants = session.scalars(select(Participant).where(Participant.locality_name == name)).all()
        interviews = Counter(session.scalars(
            select(Transcript.participant_id).join(Participant).where(Participant.locality_name == name)
        ))
        school_rows = [_school_row(school, participants, interviews) for school in schools]
        partnerships = _partnerships(session, name)
        memos = _memos(project, session, name, [s.id for s in schools])
    staff = [p for p in participants if not p.is_system_informant]
    themes, warnings = _key_quotes(project, name, source, coarsen)
    informants = [p for p in participants if p.is_system_informant]
    return CaseContext(
        title=f"{name}: a locality case study", locality=name, generated=dt.date.today().isoformat(),
        schools=school_rows, phases=_counts(s.phase for s in school_rows),
        school_types=_counts(s.school_type for s in school_rows),
        grades=_counts(s.ofsted or "not given" for s in school_rows), partnerships=partnerships,
        staff=_counts(p.role for p in staff for _ in range(interviews[p.id])),
        informants=_counts(p.informant_kind for p in informants for _ in range(interviews[p.id])),
        interviews=sum(interviews.values()), matrix=table, over=over, under=under,
        themes=themes, method=rule(*KEY_QUOTE_WORDS), memos=memos, plot=_plot(table) if plot else None, warnings=warnings,
    )


def _school_row(school: School, participants: list[Participant], interviews: Counter) -> SchoolRow:
    return SchoolRow(
        id=school.id, phase=school.phase, school_type=school.school_type, ofsted=school.ofsted, fsm=school.fsm,
        designations=[d.designation for d in school.designations], partnerships=sorted(p.id for p in school.partnerships),
        interviews=sum(interviews[p.id] for p in participants if p.school_id == school.id),
    )


def _partnerships(session, locality: str) -> list[PartnershipRow]:
    partnerships = session.scalars(
        select(Partnership).where(Partnership.locality_name == locality).order_by(Partnership.id)
        .options(selectinload(Partnership.members))
    ).all()
    return [PartnershipRow(p.id, p.kind, p.lead_school_id, sorted(m.id for m in p.members)) for p in partnerships]


def _memos(project: Project, session, locality: str, schools: list[str]) -> list[MemoRow]:
    clean = pseudonymiser(project)
    memos = session.scalars(
        select(Memo).where(or_(
            (Memo.target_kind == "locality") & (Memo.target_id == locality),
            (Memo.target_kind == "school") & Memo.target_id.in_(schools),
        )).order_by(Memo.created_at, Memo.id)
    ).all()
    return [MemoRow(f"{m.target_kind} {m.target_id}", m.author, m.created_at.date().isoformat(), clean(m.text)) for m in memos]


def _counts(values) -> list[Count]:
    return [Count(label, count) for label, count in sorted(Counter(values).items(), key=lambda item: (-item[1], item[0]))]


def _key_quotes(project: Project, locality: str, source: QuoteSource | None = None,
                coarsen: bool = False) -> tuple[list[ThemeQuotes], list[str]]:
    """For each top-level theme, school staff's and system informants' key quotes (`keyquotes.rule`), and the
    small-cell warnings on them, the same as a quote bank's (`quotes.small_cell_quotes`)."""
    from qualcode.analysis.query import select_codes

    selection = Selection(min_words=KEY_QUOTE_WORDS[0], max_words=KEY_QUOTE_WORDS[1], trim=True, where={"locality": locality})
    themes = [path for path in select_codes(project, None).values() if "/" not in path]

    def choose(quotes: list[Quote]) -> list[Quote]:
        chosen = choose_key_quotes(quotes, themes)
        return [q for theme in themes for group in chosen[theme] for q in group]

    quotes, warnings = small_cell_quotes(project, build_quotes(project, None, selection, choose, source), coarsen)
    grouped = []
    for theme in themes:
        mine = [q for q in quotes if q.code.split("/")[0] == theme]
        if mine:
            grouped.append(ThemeQuotes(theme, anchor("theme-" + theme), theme.replace("-", " ").capitalize(),
                                       [q for q in mine if not q.informant], [q for q in mine if q.informant]))
    return grouped, warnings


def cases_context(project: Project, fmt: str = "html", plot: bool = True, shares: Shares | None = None) -> CasesContext:
    """The cross-locality summary: each locality in a line, the shared matrix, links to each case study."""
    shares = shares or Shares.of(project)
    table = shares.table()
    with project.session() as session:
        schools = Counter(session.scalars(select(School.locality_name)))
        interviews = Counter(session.scalars(select(Participant.locality_name).join(Transcript)))
    summaries = [
        LocalitySummary(name, schools[name], interviews[name], shares.totals[name],
                        [s.code for s in shares.extremes(name)[0][:3]], f"case-{name.lower()}.{fmt}" if schools[name] else None)
        for name in sorted(shares.totals)
    ]
    phases = Shares.of(project, "phase")
    phase_table = phases.table(depth=0) if phases.totals else None
    return CasesContext("Localities compared", dt.date.today().isoformat(), summaries, table,
                        _plot(table) if plot else None, _phase_plot(phase_table) if plot and phase_table else None,
                        phase_table)


def _phase_plot(table: MatrixTable) -> Chart:
    """Top-level themes' share of each phase's coded passages, as grouped bars: the same shares (and
    denominator) as the locality table's, by phase, drawn from the table printed beside them."""
    from qualcode.reports.plots import bars_chart

    themes = [row.code for row in table.rows]
    series = {f"{phase} (N = {n})": [row.values[i] for row in table.rows]
              for i, (phase, n) in enumerate(zip(table.columns, table.totals))}
    return bars_chart(themes, series, table.unit,
                      "Bars of each theme's share of coded passages by school phase; N is the phase's coded passages")


def _plot(table: MatrixTable) -> Chart:
    from qualcode.reports.plots import heatmap_chart

    return heatmap_chart(table)
