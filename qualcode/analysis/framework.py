"""Framework matrices: cases (schools or participants) × themes, and the small cells among their rows.

A framework's row is one case, named by its id. Published beside a case
study, whose table of schools gives each school's phase, type and grade, the
id says what an attribution line would: so a row is a small cell when its
case is one, by the rule the quote banks and case studies use
(`qualcode.privacy.anonymise.small_cells`, `small_school_cells`), and each such row is
warned about. With `coarsen` those rows are pooled, as a quote bank coarsens
their quotes' attribution: a participant under their locality and coarse line
('Eastern: Headteacher', 'National: System informant interviewee'), a school
under its locality ('Eastern: schools'), and the warning says how many cases
the pool holds (a pool of one hides less than it seems); `query matrix
--coarsen` pools its columns the same way (`qualcode.analysis.pooling`). Passages keep their
transcript and line tags, as a coarsened quote keeps its id, so they stay
traceable.

Counts are worked out in one of two ways, to the same numbers. Mostly in the
database (`qualcode.analysis.query_matrix.sql_count_rows`): distinct coded
spans per theme and transcript, summed per case, a few hundred rows however
many codings there are, so the command answers at once. A segment belongs to
one transcript, so a pool's count is the sum of its cases'. From
`coded_segments`, a row per coding, where SQL cannot tell: by participant, or
filtered by role, when a focus group's turns name their speakers (each coding
counts for the one who speaks); a `--where` on a list field (designation,
partnership); and passages, which need each coding's span.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

from qualcode.coding.codebook import find_code
from qualcode.errors import QualcodeError
from qualcode.analysis.overview import code_paths
from qualcode.project import Project
from qualcode.analysis.query import COUNTED_ORIGINS, TextStore, coded_segments, pseudonymiser, split_names
from qualcode.analysis.query_matrix import sql_count_rows, sql_countable
from qualcode.analysis.query_where import Where

if TYPE_CHECKING:
    import pandas as pd

CASES = ("school", "participant")


def framework(
    project: Project,
    by: str = "school",
    codes: str | Iterable[str] | None = None,
    cells: str = "count",
    where: Where | None = None,
    raw: bool = False,
    coarsen: bool = False,
    warnings: list[str] | None = None,
) -> pd.DataFrame:
    """Cases (schools or participants) × themes; each cell the count of coded passages, or the passages themselves.

    Themes are the codes named (each with its children rolled in), by default
    the top-level codes. Passages are pseudonymised and tagged with their
    transcript and lines, one paragraph each. `warnings`, if given, receives
    a line for each row that is a small cell (with `coarsen`: each pool still
    too small).
    """
    if by not in CASES:
        raise QualcodeError(f"--by must be one of: {', '.join(CASES)}")
    if cells not in ("count", "passages"):
        raise QualcodeError("--cells must be count or passages")
    themes = _themes(project, codes)
    theme_paths = [path for _, path in themes]
    if cells == "count" and sql_countable(project, {by, *(where or {})}):
        table, found = count_cells(project, dict(themes), by, where, coarsen)
    else:
        table, found = coding_cells(project, theme_paths, by, where, coarsen, cells, raw)
    if warnings is not None:
        warnings.extend(found)
    table = table.reindex(columns=theme_paths, fill_value=0 if cells == "count" else "")
    table.index.name = by
    return table.sort_index()


def small_rows(project: Project, frame: pd.DataFrame, by: str, coarsen: bool) -> tuple[pd.DataFrame, list[str]]:
    """The rows of `frame` (codings, or counts per case) under their case, or with `coarsen` the small cells' under their pool; and
    a warning for each small cell, as a quote bank gives (with `coarsen`: the pool, and how many cases it holds)."""
    from qualcode.privacy.anonymise import small_cells, small_school_cells
    from qualcode.analysis.pooling import pooled_warning, pools, unpooled_warnings

    cases = sorted(set(frame[by]))
    small = (small_school_cells if by == "school" else small_cells)(project, cases)
    if not coarsen:
        return frame, unpooled_warnings(small, "row")
    pooled = pools(project, [cell.participant for cell in small], by)
    size = Counter(pooled.values())
    return (frame.assign(**{by: frame[by].map(lambda case: pooled.get(case, case))}),
            [pooled_warning(cell, [pooled[cell.participant]], size) for cell in small])


def count_cells(project: Project, themes: dict[int, str], by: str, where: Where | None,
                coarsen: bool) -> tuple[pd.DataFrame, list[str]]:
    """The count cells, from the per-transcript counts in the database (`sql_count_rows`), and `small_rows`'
    warnings: cases × `themes` (code id -> path), only those of the cases with a coded passage."""
    frame = sql_count_rows(project, themes, [by], "segments", True, where, COUNTED_ORIGINS).dropna(subset=[by])
    frame, found = small_rows(project, frame.astype({"n": int}), by, coarsen)
    return frame.groupby([by, "code"])["n"].sum().unstack("code", fill_value=0), found


def coding_cells(project: Project, theme_paths: list[str], by: str, where: Where | None, coarsen: bool,
                 cells: str = "count", raw: bool = False) -> tuple[pd.DataFrame, list[str]]:
    """`count_cells`, or the passages, from `coded_segments`: a row per coding, each a focus group's speaker's."""
    frame = coded_segments(project, theme_paths, where, rollup=True)
    frame, found = small_rows(project, frame[frame["code"].isin(theme_paths)].dropna(subset=[by]), by, coarsen)
    if cells == "count":
        return frame.groupby([by, "code"])["segment"].nunique().unstack("code", fill_value=0), found
    return _passage_cells(project, frame, by, raw), found


def _themes(project: Project, codes: str | Iterable[str] | None) -> list[tuple[int, str]]:
    """The ids and paths of the codes named, or of the top-level codes (in path order)."""
    with project.session() as session:
        paths = code_paths(session)
        if not codes:
            return sorted(((i, p) for i, p in paths.items() if "/" not in p), key=lambda theme: theme[1])
        return [(code.id, paths[code.id]) for code in (find_code(session, name) for name in split_names(codes))]


def _passage_cells(project: Project, frame: pd.DataFrame, by: str, raw: bool) -> pd.DataFrame:
    texts = TextStore.load(project, frame["transcript"])
    clean = (lambda s: s) if raw else pseudonymiser(project)
    frame = frame.drop_duplicates([by, "code", "segment"]).copy()
    frame["passage"] = [
        f"[{r.transcript} {texts.lines(r.transcript, r.start, r.end)}] {clean(' '.join(texts.texts[r.transcript][r.start:r.end].split()))}"
        for r in frame.itertuples()
    ]
    return frame.groupby([by, "code"])["passage"].agg("\n\n".join).unstack("code", fill_value="")
