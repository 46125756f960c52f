"""Pseudonymised metadata: schools, partnerships and interviews, validated against the vocabularies.

Input comes from transcript front matter, `schools.yaml`/`schools.csv` and
`partnerships.yaml`/`partnerships.csv`. Every problem is collected (not raised
one by one) so that a failed import lists them all, each naming file, line
and field, with a did-you-mean where one helps.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import process

from qualcode.config import UnknownValue, Vocabularies
from qualcode.errors import Problem
from qualcode.ingest import focusgroups, transcript
from qualcode.ingest.transcript import load_yaml_mapping

SCHOOL_FIELDS = ("locality", "phase", "school_type", "ofsted", "fsm", "designations", "partnerships", "federation")
INTERVIEW_FIELDS = ("id", "participant", "role", "informant_kind", "school", "date", "kind", "interviewer", "speakers")
TRANSCRIPT_FIELDS = INTERVIEW_FIELDS + SCHOOL_FIELDS
PARTNERSHIP_FIELDS = ("kind", "locality", "members", "lead")
#: What a transcript, participant or school id may hold: it names files (`anonymise export`) and database keys.
SAFE_ID = re.compile(r"[A-Za-z0-9._-]+")
#: The longest id of each kind: the database column's size, at most 64.
ID_LENGTHS = {"transcript": 60, "participant": 40, "school": 40}


def safe_id(name: str) -> str:
    """`name` made into an id qualcode accepts: each run of other characters becomes one '-'."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")


@dataclass
class Located:
    """Where a record came from, so every message can point at the line to fix."""

    path: Path
    lines: dict[str, int] = field(default_factory=dict)
    line: int | None = None
    #: The file of each field given somewhere other than `path` (a sidecar, a participants sheet).
    files: dict[str, Path] = field(default_factory=dict)

    def at(self, name: str) -> int | None:
        return self.lines.get(name, self.line)

    def file(self, name: str) -> Path:
        return self.files.get(name, self.path)

    def place(self, name: str) -> str:
        """`file:line` of a field, as a message names another place."""
        line = self.at(name)
        return f"{self.file(name)}:{line}" if line else str(self.file(name))


@dataclass
class SchoolRecord:
    id: str
    locality: str
    phase: str
    school_type: str
    ofsted: str | None
    fsm: float | None
    designations: list[str]
    partnerships: list[str]
    federation: bool
    where: Located


@dataclass
class PartnershipRecord:
    id: str
    kind: str
    locality: str | None
    members: list[str]
    lead: str | None
    where: Located


@dataclass
class InterviewRecord:
    transcript_id: str
    participant_id: str
    role: str | None
    informant_kind: str | None
    school_id: str | None
    locality: str | None
    date: dt.date | None
    kind: str
    where: Located
    #: A focus group's speakers, each mapped to a participant (`qualcode.ingest.focusgroups`).
    voices: list[focusgroups.Voice] = field(default_factory=list)


class Validator:
    """Checks raw metadata values, collecting a `Problem` for each bad one."""

    def __init__(self, vocabularies: Vocabularies):
        self.vocabularies = vocabularies
        self.problems: list[Problem] = []

    def fail(self, where: Located, name: str | None, message: str) -> None:
        if name:
            self.problems.append(Problem(where.file(name), where.at(name), name, message))
        else:
            self.problems.append(Problem(where.path, where.line, name, message))

    def unknown_fields(self, data: dict, allowed: tuple[str, ...], where: Located) -> None:
        for key in data:
            if key not in allowed:
                match = process.extractOne(str(key), allowed, score_cutoff=60)
                hint = f"; did you mean '{match[0]}'?" if match else f"; known fields: {', '.join(allowed)}"
                self.fail(where, str(key), f"unknown field{hint}")

    def term(self, data: dict, name: str, vocabulary: str, where: Located, required: bool = True) -> str | None:
        value = data.get(name)
        if value is None or value == "":
            if required:
                self.fail(where, None, f"missing field '{name}'")
            return None
        try:
            return self.vocabularies.resolve(vocabulary, value)
        except UnknownValue as exc:
            self.fail(where, name, exc.with_fix)
            return None

    def terms(self, data: dict, name: str, vocabulary: str, where: Located) -> list[str]:
        values = as_list(data.get(name))
        resolved = []
        for value in values:
            try:
                resolved.append(self.vocabularies.resolve(vocabulary, value))
            except UnknownValue as exc:
                self.fail(where, name, exc.with_fix)
        return resolved

    def text(self, data: dict, name: str, where: Located, required: bool = True) -> str | None:
        value = data.get(name)
        if isinstance(value, list | dict):
            self.fail(where, name, f"expected one value, not a {'list' if isinstance(value, list) else 'mapping'}")
            return None
        if value is None or str(value).strip() == "":
            if required:
                self.fail(where, None, f"missing field '{name}'")
            return None
        return str(value).strip()

    def percent(self, data: dict, name: str, where: Located) -> float | None:
        value = data.get(name)
        if value is None or value == "":
            return None
        try:
            number = float(str(value).rstrip("%"))
        except ValueError:
            number = -1.0
        if not 0 <= number <= 100:
            self.fail(where, name, f"'{value}' is not a percentage between 0 and 100")
            return None
        return number

    def flag(self, data: dict, name: str, where: Located) -> bool:
        value = data.get(name, False)
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("yes", "true", "1", "y"):
            return True
        if text in ("no", "false", "0", "n", ""):
            return False
        self.fail(where, name, f"'{value}' is not yes or no")
        return False

    def date(self, data: dict, name: str, where: Located) -> dt.date | None:
        value = data.get(name)
        if isinstance(value, dt.datetime):  # YAML reads '2016-03-14 10:30' as a timestamp: its day is the date
            return value.date()
        if value is None or value == "" or isinstance(value, dt.date):
            return value or None
        text = str(value).strip()
        try:
            return dt.date.fromisoformat(text)
        except ValueError as exc:
            why = f"no such date ({exc})" if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else "not a date like 2016-03-14"
            self.fail(where, name, f"'{value}' is {why}")
            return None

    def identifier(self, value: str | None, kind: str, where: Located, name: str) -> None:
        """An id must be letters, digits, '-', '_' or '.', and fit its database column."""
        if not value:
            return
        limit = ID_LENGTHS[kind]
        if not SAFE_ID.fullmatch(value):
            bad = ", ".join("a space" if c == " " else f"'{c}'" for c in dict.fromkeys(value) if not SAFE_ID.fullmatch(c))
            self.fail(where, name, f"the {kind} id '{value}' holds {bad}: use only letters, digits, '-', '_' and '.'"
                      f" (e.g. '{safe_id(value)}')")
        elif len(value) > limit:
            self.fail(where, name, f"the {kind} id '{value}' is {len(value)} characters: shorten it to at most {limit}")

    def school(self, school_id: str, data: dict, where: Located) -> SchoolRecord:
        self.identifier(school_id, "school", where, "school" if where.lines.get("school") else "id")
        return SchoolRecord(
            id=school_id,
            locality=self.term(data, "locality", "locality", where),
            phase=self.term(data, "phase", "phase", where),
            school_type=self.term(data, "school_type", "school_type", where),
            ofsted=self.term(data, "ofsted", "ofsted", where, required=False),
            fsm=self.percent(data, "fsm", where),
            designations=self.terms(data, "designations", "designation", where),
            partnerships=[str(p).strip() for p in as_list(data.get("partnerships"))],
            federation=self.flag(data, "federation", where),
            where=where,
        )

    def partnership(self, partnership_id: str, data: dict, where: Located) -> PartnershipRecord:
        self.unknown_fields(data, PARTNERSHIP_FIELDS, where)
        return PartnershipRecord(
            id=partnership_id,
            kind=self.term(data, "kind", "partnership_kind", where),
            locality=self.term(data, "locality", "locality", where, required=False),
            members=[str(m).strip() for m in as_list(data.get("members"))],
            lead=self.text(data, "lead", where, required=False),
            where=where,
        )

    def interview(self, data: dict, where: Located) -> InterviewRecord:
        """An interview's own fields; the school's fields are checked by `school`.

        A focus group (`speakers:`) needs no `participant`/`role` of its own: its
        first described speaker is the transcript's participant.
        """
        voices = focusgroups.read_voices(self, data, where)
        first = next((voice for voice in voices if voice.defined), None)
        if first and data.get("role") is None and data.get("informant_kind") is None:
            data = {**data, "participant": data.get("participant") or first.participant_id,
                    "role": first.role, "informant_kind": first.informant_kind}
        transcript_id = self.text(data, "id", where)
        role = self.term(data, "role", "role", where, required=False)
        informant = self.term(data, "informant_kind", "informant_kind", where, required=False)
        school_id = self.text(data, "school", where, required=False)
        if data.get("role") is None and data.get("informant_kind") is None:
            self.fail(where, None, "missing field 'role' (school staff) or 'informant_kind' (system informant)")
        elif data.get("role") is not None and data.get("informant_kind") is not None:
            self.fail(where, "informant_kind", "give 'role' (school staff) or 'informant_kind' (system informant), not both:"
                      " remove one of them")
        participant_id = self.text(data, "participant", where, required=False)
        self.identifier(transcript_id, "transcript", where, "id")
        if participant_id:
            self.identifier(participant_id, "participant", where, "participant")
        elif transcript_id and len(transcript_id) > ID_LENGTHS["participant"]:
            self.fail(where, "id", f"with no 'participant:' the transcript id '{transcript_id}' is also the participant's,"
                      f" which may have at most {ID_LENGTHS['participant']} characters: give a shorter 'participant:'")
        if data.get("informant_kind") is None and data.get("role") is not None and not school_id:
            self.fail(where, None, "missing field 'school' (every member of staff belongs to a school)")
        return InterviewRecord(
            transcript_id=transcript_id or "",
            participant_id=participant_id or transcript_id or "",
            role=role,
            informant_kind=informant,
            school_id=school_id,
            locality=self.term(data, "locality", "locality", where, required=not school_id),
            date=self.date(data, "date", where),
            kind=self.term(data, "kind", "transcript_kind", where) or "full",
            where=where,
            voices=voices,
        )


@dataclass
class Source:
    """One place that gives a transcript's metadata: its front matter, a Word table, a sidecar, a sheet row."""

    meta: dict
    where: Located
    #: A Word file's metadata table gives way to a sidecar or a sheet (with a note), rather than conflicting.
    yields: bool = False


#: The vocabulary of each field whose values are compared as vocabulary terms ('Deputy head' = 'Deputy headteacher').
FIELD_VOCABULARIES = {
    "role": "role", "informant_kind": "informant_kind", "kind": "transcript_kind", "locality": "locality",
    "phase": "phase", "school_type": "school_type", "ofsted": "ofsted", "designations": "designation",
}


def combine(sources: list[Source], validator: Validator, notes: list[str]) -> tuple[dict, Located]:
    """One transcript's metadata from all its sources, and where each field came from.

    Where two sources give one field different values, that is a problem
    naming both places: nothing says which of them is right. A Word table's
    value gives way to the other sources, with a note.
    """
    sources = [source for source in sources if source.meta]
    first = sources[0].where
    meta: dict = {}
    where = Located(first.path, line=first.line)
    for source in sorted(sources, key=lambda s: s.yields):
        for name, value in source.meta.items():
            if name not in meta:
                meta[name] = value
                where.lines[str(name)] = source.where.at(str(name))  # YAML reads `12:` as a number; lines are by text
                where.files[str(name)] = source.where.file(str(name))
            elif _comparable(validator, name, value) == _comparable(validator, name, meta[name]):
                continue
            elif source.yields:
                notes.append(f"{name}: the Word table's '{value}' gives way to '{meta[name]}' from {where.place(name)}")
            else:
                validator.fail(where, name, f"'{meta[name]}' here, but '{value}' in {source.where.place(name)}; give it once")
    return meta, where


def _comparable(validator: Validator, name: str, value: object) -> list[str]:
    """A value as it will be stored, for comparing two sources: '2015-06-11' and a date cell agree."""
    vocabulary = FIELD_VOCABULARIES.get(name)
    comparable = []
    for item in as_list(value) if name in ("designations", "partnerships") else [value]:
        if isinstance(item, dt.datetime):
            item = item.date()
        text = item.isoformat() if isinstance(item, dt.date) else str(item).strip().rstrip("%")
        if name == "federation":
            text = {"true": "yes", "y": "yes", "1": "yes", "false": "no", "n": "no", "0": "no"}.get(text.lower(), text)
        if vocabulary:
            try:
                text = validator.vocabularies.resolve(vocabulary, text)
            except UnknownValue:
                pass  # reported when the value is validated
        comparable.append(text.lower())
    return sorted(comparable)


def as_list(value: object) -> list:
    """YAML lists, or `;`/`,`-separated strings as written in a CSV cell."""
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    text = str(value)
    separator = ";" if ";" in text else ","
    return [part.strip() for part in text.split(separator) if part.strip()]


def read_keyed_file(path: Path) -> list[tuple[str, dict, Located]]:
    """Rows of a `schools`/`partnerships` file: YAML keyed by id, or CSV with an `id` column."""
    if path.suffix.lower() == ".csv":
        return _read_keyed_csv(path)
    text = read_text(path)
    data, _ = load_yaml_mapping(text, path)
    if not data:
        raise Problem(path, None, None, "describes nothing: write each id followed by its fields indented under it")
    nested = _nested_lines(text)
    rows = []
    for key, value in data.items():
        key_line, lines = nested.get(str(key), (None, {}))
        if not isinstance(value, dict):
            raise Problem(path, key_line, str(key), "expected the fields indented under the id")
        rows.append((str(key), value, Located(path, lines, key_line)))
    return rows


def read_text(path: Path) -> str:
    return transcript.read_text(path)[0]


def _nested_lines(text: str) -> dict[str, tuple[int, dict[str, int]]]:
    """For each top-level key: its line, and the line of each field nested under it."""
    import yaml

    lines = {}
    for key_node, value_node in yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)).value:
        fields = {}
        if isinstance(value_node, yaml.MappingNode):
            fields = {k.value: k.start_mark.line + 1 for k, _ in value_node.value}
        lines[key_node.value] = (key_node.start_mark.line + 1, fields)
    return lines


def _read_keyed_csv(path: Path) -> list[tuple[str, dict, Located]]:
    text = read_text(path)
    reader = csv.DictReader(text.split("\n"))
    if not reader.fieldnames or "id" not in reader.fieldnames:
        raise Problem(path, 1, None, "a metadata CSV needs an 'id' column")
    rows = []
    for row in reader:
        line = reader.line_num
        data = {k: v for k, v in row.items() if k != "id" and v not in (None, "")}
        rows.append((row["id"].strip(), data, Located(path, line=line)))
    return rows
