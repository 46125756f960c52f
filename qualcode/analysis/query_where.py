"""`--where` filters: which interviews a query keeps, by the metadata of the speaker and their school.

One filter names a field and the values it may or may not take:
``role=Headteacher,Principal`` keeps interviews with any of the values,
``phase!=primary`` keeps those with none of them. Several filters all apply.
"None of" keeps interviews that have no value for the field at all (a system
informant has no school, so no phase): excluding primary schools should not
silently drop the informants too. The same rule holds in pandas
(`apply_where`), in SQL (`sql_filter`, `where_clauses`) and in what a report says it kept
(`describe`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rapidfuzz import fuzz, process
from sqlalchemy import or_, select

from qualcode.config import UnknownValue
from qualcode.errors import QualcodeError
from qualcode.models import Participant, Partnership, School, SchoolDesignation, Transcript, partnership_members
from qualcode.project import Project

if TYPE_CHECKING:
    import pandas as pd

#: Metadata a query can group or filter by -> the vocabulary its values come from (None: ids in the data).
FIELDS = {
    "locality": "locality",
    "phase": "phase",
    "school_type": "school_type",
    "ofsted": "ofsted",
    "role": "role",
    "informant_kind": "informant_kind",
    "designation": "designation",
    "partnership": None,
}
#: Fields a school may hold several values of: grouping by them gives one row per value.
LIST_FIELDS = ("designation", "partnership")
EXAMPLE = "locality=Eastern, role=Headteacher,Principal or phase!=primary"


@dataclass(frozen=True)
class Condition:
    """A field's wanted values: any of them, or (`negate`) none of them."""

    values: tuple[str, ...]
    negate: bool = False

    def __str__(self) -> str:
        return ("!=" if self.negate else "=") + ",".join(self.values)


#: Field -> the values it must (or must not) have. A plain string is one wanted value.
Where = dict[str, "str | Condition"]


def condition(value: str | Condition) -> Condition:
    return value if isinstance(value, Condition) else Condition((value,))


def parse_where(items: Iterable[str]) -> Where:
    """``["role=Headteacher,Principal", "phase!=primary"]`` -> a `where` mapping (values resolved later, against
    the project). One filter per field: two would leave it unclear whether they add up or narrow down."""
    where: Where = {}
    for item in items:
        name, sep, value = item.partition("=")
        negate = name.endswith("!")
        values = tuple(v.strip() for v in value.split(",") if v.strip())
        if not sep or not values or not name.rstrip("!").strip():
            raise QualcodeError(f"--where takes FIELD=VALUE, FIELD=V1,V2 or FIELD!=VALUE, e.g. {EXAMPLE}; got '{item}'")
        field = check_field(name.rstrip("!").strip().replace("-", "_"))
        if field in where:
            raise QualcodeError(f"--where {field} is given twice; give its values once, comma-separated, e.g. {field}=V1,V2")
        where[field] = Condition(values, negate)
    return where


def check_field(name: str) -> str:
    """A field name, or an error with the closest one; 'Locality' and 'school-type' are the fields they look like."""
    if (field := name.strip().lower().replace("-", "_")) in FIELDS:
        return field
    match = process.extractOne(name, list(FIELDS), scorer=fuzz.WRatio, score_cutoff=60)
    hint = f"; did you mean '{match[0]}'?" if match else ""
    raise QualcodeError(f"'{name}' is not a field to query by{hint} (fields: {', '.join(FIELDS)})")


def resolve_value(project: Project, field: str, value: str) -> str:
    """The canonical value for what was typed (``RI`` -> ``Requires Improvement``); a typo gets a did-you-mean."""
    vocabulary = FIELDS[check_field(field)]
    try:
        if vocabulary:
            return project.settings.vocabularies.resolve(vocabulary, value)
    except UnknownValue as exc:
        raise QualcodeError(f"--where {field}: {exc}") from None
    with project.session() as session:
        known = list(session.scalars(select(Partnership.id)))
    exact = {p.lower(): p for p in known}
    if value.lower() in exact:
        return exact[value.lower()]
    match = process.extractOne(value, known, scorer=fuzz.WRatio, score_cutoff=60)
    hint = f"; did you mean '{match[0]}'?" if match else ""
    raise QualcodeError(f"--where partnership: no partnership '{value}'{hint}")


def resolved(project: Project, where: Where | None) -> dict[str, Condition]:
    """Each field's condition with its values in their canonical spelling."""
    result = {}
    for field, value in (where or {}).items():
        wanted = condition(value)
        result[field] = Condition(tuple(resolve_value(project, field, v) for v in wanted.values), wanted.negate)
    return result


def apply_where(project: Project, frame: pd.DataFrame, where: Where | None) -> pd.DataFrame:
    """Rows whose metadata meets every condition (list fields: any of their values among the wanted ones)."""
    for field, wanted in resolved(project, where).items():
        values = set(wanted.values)
        if field in LIST_FIELDS:
            # as booleans even when there are no rows: an empty mask of objects would select columns, not rows
            found = frame[field].map(lambda held: bool(values & set(held))).astype(bool)
        else:
            found = frame[field].isin(values)
        frame = frame[~found if wanted.negate else found]
    return frame.reset_index(drop=True)


def sql_filter(column: str, wanted: Condition, name: str) -> tuple[str, dict[str, str]]:
    """A SQL condition on `column` and its parameters (named `name_0`, `name_1`...), NULLs kept by "none of"."""
    parameters = {f"{name}_{n}": value for n, value in enumerate(wanted.values)}
    listed = ", ".join(f":{key}" for key in parameters)
    if wanted.negate:
        return f"({column} IS NULL OR {column} NOT IN ({listed}))", parameters
    return f"{column} IN ({listed})", parameters


def describe(where: Where | None) -> list[str]:
    """One phrase per filter, for a report's method note: 'role = Headteacher or Principal', 'phase not primary'."""
    phrases = []
    for field, value in (where or {}).items():
        wanted = condition(value)
        phrases.append(f"{field} {'not' if wanted.negate else '='} {' or '.join(wanted.values)}")
    return phrases


def transcripts_where(project: Project, where: Where | None) -> set[str]:
    """The ids of the transcripts whose participant and school have each FIELD=VALUE of `where`."""
    query = (
        select(Transcript.id)
        .join(Participant, Transcript.participant_id == Participant.id)
        .outerjoin(School, Participant.school_id == School.id)
    )
    query = query.where(*where_clauses(project, where))
    with project.engine.connect() as connection:
        found = set(connection.scalars(query))
    if not found:
        raise QualcodeError("no transcript matches" + (" --where " + " ".join(f"{k}{condition(v)}" for k, v in where.items()) if where else ""))
    return found


def where_clauses(project: Project, where: Where | None) -> list:
    """`where` as SQL conditions on `Participant` and `School` (a query joins them as `transcripts_where` does)."""
    return [_condition(name, wanted) for name, wanted in resolved(project, where).items()]


def _condition(name: str, wanted: Condition):
    """Any of the values, or none of them (a transcript with no value for the field is kept by "none of")."""
    columns = {"locality": Participant.locality_name, "phase": School.phase, "school_type": School.school_type,
               "ofsted": School.ofsted, "role": Participant.role, "informant_kind": Participant.informant_kind}
    if name in columns:
        column, clause = columns[name], columns[name].in_(wanted.values)
    elif name == "designation":
        column = School.id
        clause = School.id.in_(select(SchoolDesignation.school_id).where(SchoolDesignation.designation.in_(wanted.values)))
    else:
        column = School.id
        clause = School.id.in_(select(partnership_members.c.school_id)
                               .where(partnership_members.c.partnership_id.in_(wanted.values)))
    return or_(column.is_(None), ~clause) if wanted.negate else clause
