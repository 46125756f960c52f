"""Pooling small cells: the rows or columns of a published table that would single out a school or person.

The rule is the quote banks' (`qualcode.privacy.anonymise.small_cells`): what is said
about a school (phase, type, grade...), read with its locality, must fit at
least `[anonymise] min_cell_size` schools, and what is said about an
informant that many informants. A framework's row is one case
(`qualcode.analysis.framework`); a matrix's column is a description (its locality and
the other `--by` values) that fits the schools and informants interviewed. With
`--coarsen` both pool what is too small the same way, under its locality: a
school under 'Eastern: schools', a participant under their locality and the
coarse line a quote bank gives them ('Eastern: Headteacher', 'National: System
informant interviewee'); and the warning says how many cases each pool holds,
since a pool of one hides less than it seems.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qualcode.project import Project

if TYPE_CHECKING:
    import pandas as pd

    from qualcode.privacy.anonymise import SmallCell


def pools(project: Project, cases: Iterable[str], by: str) -> dict[str, str]:
    """Case id (a school, or a participant) -> the pool it goes under: its locality and, for a participant,
    their coarse attribution line."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from qualcode.privacy.anonymise import coarsen
    from qualcode.reports.attribution import render, speaker_for
    from qualcode.models import Participant, School

    wanted = sorted(set(cases))
    with project.session() as session:
        if by == "school":
            return {s.id: f"{s.locality_name}: schools" for s in session.scalars(select(School).where(School.id.in_(wanted)))}
        people = session.scalars(select(Participant).where(Participant.id.in_(wanted)).options(selectinload(Participant.school)))
        return {p.id: f"{p.locality_name}: {render(project.settings, coarsen(speaker_for(p), project.settings))}" for p in people}


def unpooled_warnings(small: list[SmallCell], what: str) -> list[str]:
    """A warning for each small cell shown as it is, as a quote bank gives; `what` is a 'row' or 'column'."""
    return [f"{cell.finding}; that {what} may identify it: use --coarsen to pool such {what}s, or check it does not"
            for cell in small]


def pooled_warning(cell: SmallCell, names: Iterable[str], size: Counter) -> str:
    """What became of a small cell: the pools it went into and how many cases each holds."""
    pooled = " and ".join(f"'{name}' ({size[name]} {'case' if size[name] == 1 else 'cases'})" for name in sorted(set(names)))
    return f"{cell.finding}; pooled into {pooled}"


@dataclass
class ColumnPools:
    """Where the speakers of a matrix's small columns go: a school's staff under its school's pool, an informant
    under their own; everyone else stays in their column."""

    by: list[str]
    small: set[str]
    schools: dict[str, str]
    people: dict[str, str]

    def relabel(self, frame: pd.DataFrame) -> pd.DataFrame:
        """`frame` (its `by` fields filled, list fields exploded) with a `column` field: the matrix column of
        each row, or its pool."""
        labels = column_labels(frame, self.by)
        pooled = [label if label not in self.small else self.schools[school] if isinstance(school, str) else self.people[person]
                  for label, school, person in zip(labels, frame["school"], frame["participant"], strict=True)]
        return frame.assign(column=pooled)


def column_labels(frame: pd.DataFrame, by: list[str]) -> list[str]:
    """Each row's matrix column, named as `qualcode.analysis.query_matrix.matrix` names it ('Eastern / secondary')."""
    return [" / ".join(map(str, values)) for values in zip(*(frame[field] for field in by), strict=True)]


def column_pools(project: Project, speakers: pd.DataFrame, by: list[str], coarsen: bool) -> tuple[ColumnPools | None, list[str]]:
    """The small columns of a matrix by `by` (which names locality) and a warning for each; with `coarsen`
    the pools they go into (None if there is nothing to pool).

    `speakers` is everyone interviewed, one row per column they fall in, as the
    matrix would count them: a column is small when it fits fewer than
    `min_cell_size` schools and informants, read with its locality.
    """
    from qualcode.privacy.anonymise import SmallCell, min_cell_size

    speakers = speakers.assign(column=column_labels(speakers, by))
    sizes = _cases(speakers)
    small = sorted(sizes[sizes < min_cell_size(project)].index)
    if not small:
        return None, []
    members = speakers[speakers["column"].isin(small)]
    informants = set(members.loc[members["school"].isna(), "column"])
    locality = members.groupby("column")["locality"].first()
    cells = [SmallCell("matrix column", locality[c], c, int(sizes[c]), "person" if c in informants else "school") for c in small]
    if not coarsen:
        return None, unpooled_warnings(cells, "column")
    found = ColumnPools(by, set(small), pools(project, members["school"].dropna(), "school"),
                        pools(project, members.loc[members["school"].isna(), "participant"], "participant"))
    pooled = found.relabel(speakers)
    size = Counter(_cases(pooled).to_dict())
    went = pooled[speakers["column"].isin(small)].assign(source=speakers["column"]).groupby("source")["column"]
    return found, [pooled_warning(cell, went.get_group(cell.attribution), size) for cell in cells]


def _cases(speakers: pd.DataFrame) -> pd.Series:
    """Per column: the schools it fits, and the informants (speakers with no school)."""
    schools = speakers.groupby("column")["school"].nunique()
    informants = speakers[speakers["school"].isna()].groupby("column")["participant"].nunique()
    return schools.add(informants, fill_value=0).astype(int)
