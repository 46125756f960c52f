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
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

from qualcode.coding.codebook import find_code
from qualcode.errors import QualcodeError
from qualcode.analysis.overview import code_paths
from qualcode.project import Project
from qualcode.analysis.query import TextStore, coded_segments, pseudonymiser, split_names
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
    theme_paths = _theme_paths(project, codes)
    frame = coded_segments(project, theme_paths, where, rollup=True)
    frame = frame[frame["code"].isin(theme_paths)].dropna(subset=[by])
    frame, found = small_rows(project, frame, by, coarsen)
    if warnings is not None:
        warnings.extend(found)
    if cells == "count":
        table = frame.groupby([by, "code"])["segment"].nunique().unstack("code", fill_value=0)
    else:
        table = _passage_cells(project, frame, by, raw)
    table = table.reindex(columns=theme_paths, fill_value=0 if cells == "count" else "")
    table.index.name = by
    return table.sort_index()


def small_rows(project: Project, frame: pd.DataFrame, by: str, coarsen: bool) -> tuple[pd.DataFrame, list[str]]:
    """The rows of `frame` (codings) under their case, or with `coarsen` the small cells' under their pool; and
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


def _theme_paths(project: Project, codes: str | Iterable[str] | None) -> list[str]:
    """The paths of the codes named, or of the top-level codes."""
    with project.session() as session:
        paths = code_paths(session)
        if not codes:
            return sorted(p for p in paths.values() if "/" not in p)
        return [paths[find_code(session, name).id] for name in split_names(codes)]


def _passage_cells(project: Project, frame: pd.DataFrame, by: str, raw: bool) -> pd.DataFrame:
    texts = TextStore.load(project, frame["transcript"])
    clean = (lambda s: s) if raw else pseudonymiser(project)
    frame = frame.drop_duplicates([by, "code", "segment"]).copy()
    frame["passage"] = [
        f"[{r.transcript} {texts.lines(r.transcript, r.start, r.end)}] {clean(' '.join(texts.texts[r.transcript][r.start:r.end].split()))}"
        for r in frame.itertuples()
    ]
    return frame.groupby([by, "code"])["passage"].agg("\n\n".join).unstack("code", fill_value="")
