"""The corpus: importing transcripts with their metadata, in one transaction.

An import first reads and validates everything (transcripts, `schools.*`,
`partnerships.*`, sidecar `.yaml` files) and collects every problem; only if
there are none does it write, in a single transaction. So a failed import
leaves the database exactly as it was, and lists all that needs fixing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import process
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from qualcode import anchoring
from qualcode.errors import ImportFailed, Problem
from qualcode.metadata import (
    SCHOOL_FIELDS,
    TRANSCRIPT_FIELDS,
    InterviewRecord,
    Located,
    PartnershipRecord,
    SchoolRecord,
    Validator,
    read_keyed_file,
)
from qualcode.models import Locality, Participant, Partnership, School, SchoolDesignation, Transcript, Turn
from qualcode.project import Project
from qualcode.transcript import (
    INTERVIEWER_LABELS,
    ParsedTranscript,
    converted,
    load_yaml_mapping,
    parse_docx_file,
    parse_text_file,
    read_text,
)

TRANSCRIPT_SUFFIXES = (".txt", ".md", ".docx")
SCHOOL_FILES = ("schools.yaml", "schools.yml", "schools.csv")
PARTNERSHIP_FILES = ("partnerships.yaml", "partnerships.yml", "partnerships.csv")
#: Speaker labels used for interviewees who are not named by role.
PARTICIPANT_LABELS = ("interviewee", "respondent", "participant")

Progress = Callable[[int, int], None]


@dataclass
class Reanchored:
    transcript: str
    code: str
    anchor: str
    old: tuple[int, int]
    new: tuple[int, int]
    quote: str


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: Codings moved by a changed transcript that were not found exactly.
    reanchored: list[Reanchored] = field(default_factory=list)
    dry_run: bool = False


@dataclass
class _Interview:
    parsed: ParsedTranscript
    record: InterviewRecord
    text_hash: str


def import_paths(
    project: Project, paths: Iterable[Path], dry_run: bool = False, progress: Progress | None = None
) -> ImportReport:
    """Validate and import transcript files and folders; raise `ImportFailed` listing every problem."""
    transcripts, school_files, partnership_files = collect_files([Path(p) for p in paths])
    validator = Validator(project.settings.vocabularies)
    labels = speaker_labels(project)
    with project.session(commit=not dry_run) as session:
        partnerships = _read_records(partnership_files, validator, _partnership)
        schools = _read_records(school_files, validator, _school_row)
        interviews = _read_interviews(transcripts, validator, labels, schools, progress)
        _check_references(session, validator, schools, partnerships, interviews)
        if validator.problems:
            raise ImportFailed(sorted(validator.problems, key=lambda p: (str(p.path), p.line or 0)))
        report = ImportReport(dry_run=dry_run)
        report.notes = [f"{i.parsed.path}: {note}" for i in interviews for note in i.parsed.notes]
        _write(session, schools, partnerships, interviews, report)
    return report


def speaker_labels(project: Project) -> frozenset[str]:
    """Labels that may open a turn: the interviewer's, 'Interviewee', every staff role and its aliases.

    Informant kinds are not labels ("Ofsted: they came in March" is speech);
    system informants speak as 'Interviewee:'.
    """
    vocabularies = project.settings.vocabularies
    names = [*INTERVIEWER_LABELS, *PARTICIPANT_LABELS, *vocabularies.values["role"], *vocabularies.aliases.get("role", {})]
    return frozenset(name.lower() for name in names)


def collect_files(paths: list[Path]) -> tuple[list[Path], list[Path], list[Path]]:
    """Transcripts to import, and the metadata files that go with them.

    A folder brings every transcript and `schools.*`/`partnerships.*` file
    below it; a single file brings the metadata files in its folder and the
    folder above (where a corpus keeps `partnerships.yaml`).
    """
    transcripts: list[Path] = []
    folders: set[Path] = set()
    problems = []
    for path in paths:
        if path.is_dir():
            below = sorted(path.rglob("*"))
            transcripts += [p for p in below if _is_transcript(p)]
            folders |= {path} | {p for p in below if p.is_dir()}
        elif not path.exists():
            problems.append(Problem(path, None, None, "no such file or folder"))
        elif path.name in SCHOOL_FILES + PARTNERSHIP_FILES:
            folders.add(path.parent)
        elif path.suffix.lower() not in TRANSCRIPT_SUFFIXES:
            problems.append(Problem(path, None, None, "not a transcript: expected a .txt, .md or .docx file"))
        else:
            transcripts.append(path)
            folders |= {path.parent, path.parent.parent}
    if problems:
        raise ImportFailed(problems)
    schools = _metadata_files(folders, SCHOOL_FILES)
    partnerships = _metadata_files(folders, PARTNERSHIP_FILES)
    return list(dict.fromkeys(transcripts)), schools, partnerships


def _is_transcript(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in TRANSCRIPT_SUFFIXES and not path.name.upper().startswith("README")


def _metadata_files(folders: set[Path], names: tuple[str, ...]) -> list[Path]:
    found = {(folder / name).resolve() for folder in folders for name in names if (folder / name).is_file()}
    return sorted(found)


def _read_records(files: list[Path], validator: Validator, build) -> dict:
    """Records keyed by id from `schools.*`/`partnerships.*` files; a repeated id is a problem."""
    records: dict = {}
    for path in files:
        try:
            rows = read_keyed_file(path)
        except Problem as problem:
            validator.problems.append(problem)
            continue
        for key, data, where in rows:
            if key in records:
                first = records[key].where
                validator.fail(where, None, f"'{key}' is described twice (first at {first.path}:{first.line})")
                continue
            records[key] = build(validator, key, data, where)
    return records


def _partnership(validator: Validator, key: str, data: dict, where: Located) -> PartnershipRecord:
    return validator.partnership(key, data, where)


def _school_row(validator: Validator, key: str, data: dict, where: Located) -> SchoolRecord:
    validator.unknown_fields(data, SCHOOL_FIELDS, where)
    return validator.school(key, data, where)


def _read_interviews(
    paths: list[Path],
    validator: Validator,
    labels: frozenset[str],
    schools: dict[str, SchoolRecord],
    progress: Progress | None,
) -> list[_Interview]:
    interviews: list[_Interview] = []
    seen: dict[str, Located] = {}
    for done, path in enumerate(paths, start=1):
        try:
            parsed = _parse(path, labels)
        except Problem as problem:
            validator.problems.append(problem)
            continue
        where = Located(parsed.meta_path or path, parsed.field_lines, line=1 if parsed.field_lines else None)
        interview = _interview(parsed, validator, where, schools)
        if interview.record.transcript_id in seen:
            first = seen[interview.record.transcript_id]
            validator.fail(where, "id", f"'{interview.record.transcript_id}' is also the id of {first.path}")
        elif interview.record.transcript_id:
            seen[interview.record.transcript_id] = where
            interviews.append(interview)
        if progress:
            progress(done, len(paths))
    return interviews


def _parse(path: Path, labels: frozenset[str]) -> ParsedTranscript:
    """Parse one file, taking metadata from a sidecar `<name>.yaml` when there is one."""
    parsed = parse_docx_file(path, labels) if path.suffix.lower() == ".docx" else parse_text_file(path, labels)
    sidecar = path.with_suffix(".yaml")
    if sidecar.is_file():
        text, encoding = read_text(sidecar)
        meta, lines = load_yaml_mapping(text, sidecar)
        parsed.notes += [f"{sidecar.name}: {note}" for note in converted(encoding)]
        parsed.meta = {**parsed.meta, **meta}
        parsed.field_lines, parsed.meta_path = lines, sidecar
    if not parsed.meta:
        raise Problem(path, 1, None, "no metadata: start the file with '---' front matter, or add a sidecar .yaml")
    return parsed


def _interview(
    parsed: ParsedTranscript, validator: Validator, where: Located, schools: dict[str, SchoolRecord]
) -> _Interview:
    """Validate an interview's fields; school fields in the front matter describe or must match its school."""
    meta = parsed.meta
    validator.unknown_fields(meta, TRANSCRIPT_FIELDS, where)
    record = validator.interview(meta, where)
    school_fields = {k: v for k, v in meta.items() if k in SCHOOL_FIELDS}
    if record.school_id and school_fields:
        known = schools.get(record.school_id)
        if known is None:
            schools[record.school_id] = validator.school(record.school_id, school_fields, where)
        else:
            here = validator.school(record.school_id, {**_as_data(known), **school_fields}, where)
            _check_agreement(validator, known, here, where, school_fields)
    elif not record.school_id and "informant_kind" not in meta and set(school_fields) - {"locality"}:
        validator.fail(where, None, "school fields given but no 'school' id")
    return _Interview(parsed, record, hashlib.sha256(parsed.text.encode("utf-8")).hexdigest())


def _as_data(school: SchoolRecord) -> dict:
    return {
        "locality": school.locality,
        "phase": school.phase,
        "school_type": school.school_type,
        "ofsted": school.ofsted,
        "fsm": school.fsm,
        "designations": school.designations,
        "partnerships": school.partnerships,
        "federation": school.federation,
    }


def _check_agreement(validator, known: SchoolRecord, here: SchoolRecord, where: Located, given: dict) -> None:
    """Front matter may repeat a school's metadata, but must not contradict `schools.*`."""
    mine, theirs = _as_data(here), _as_data(known)
    for name in given:
        if name in ("locality", "phase", "school_type", "ofsted", "fsm", "federation") and mine[name] != theirs[name]:
            line = known.where.at(name)
            validator.fail(
                where, name, f"'{mine[name]}' contradicts '{theirs[name]}' for {known.id} in {known.where.path}:{line}"
            )
        elif name in ("designations", "partnerships") and sorted(mine[name]) != sorted(theirs[name]):
            validator.fail(where, name, f"{mine[name]} contradicts {theirs[name]} for {known.id} in {known.where.path}")


def _check_references(
    session: Session,
    validator: Validator,
    schools: dict[str, SchoolRecord],
    partnerships: dict[str, PartnershipRecord],
    interviews: list[_Interview],
) -> None:
    """Every school and partnership id named must be described here or already stored."""
    stored_schools = set(session.scalars(select(School.id)))
    stored_partnerships = set(session.scalars(select(Partnership.id)))
    school_ids = sorted(set(schools) | stored_schools)
    partnership_ids = sorted(set(partnerships) | stored_partnerships)

    def check(value: str | None, known: list[str], noun: str, where: Located, name: str) -> None:
        if value and value not in known:
            match = process.extractOne(value, known, score_cutoff=70)
            hint = f"; did you mean '{match[0]}'?" if match else ""
            validator.fail(where, name, f"'{value}' is not a known {noun}{hint}")

    for interview in interviews:
        record = interview.record
        if record.school_id and record.school_id not in schools:
            check(record.school_id, school_ids, "school (describe it in schools.yaml or the front matter)", record.where, "school")
    for school in schools.values():
        for partnership in school.partnerships:
            check(partnership, partnership_ids, "partnership", school.where, "partnerships")
    for partnership in partnerships.values():
        for member in partnership.members:
            check(member, school_ids, "school", partnership.where, "members")
        check(partnership.lead, school_ids, "school", partnership.where, "lead")


def _write(
    session: Session,
    schools: dict[str, SchoolRecord],
    partnerships: dict[str, PartnershipRecord],
    interviews: list[_Interview],
    report: ImportReport,
) -> None:
    localities = {s.locality for s in schools.values()} | {p.locality for p in partnerships.values()}
    localities |= {i.record.locality for i in interviews}
    for name in sorted(filter(None, localities)):
        session.merge(Locality(name=name))
    for record in schools.values():
        _store_school(session, record)
    session.flush()
    for record in partnerships.values():
        _store_partnership(session, record)
    for record in schools.values():
        school = session.get(School, record.id)
        for pid in record.partnerships:
            partnership = session.get(Partnership, pid)
            if school not in partnership.members:
                partnership.members.append(school)
    session.flush()
    ids = [i.record.transcript_id for i in interviews]
    stored = {t.id: t for t in session.scalars(select(Transcript).where(Transcript.id.in_(ids)))}
    added: dict[str, Participant] = {}
    with session.no_autoflush:
        texts_changed = [
            i for i in interviews if _store_interview(session, i, stored.get(i.record.transcript_id), added, report)
        ]
    session.flush()
    _store_turns(session, texts_changed)


def _store_school(session: Session, record: SchoolRecord) -> None:
    school = session.get(School, record.id) or School(id=record.id)
    school.locality_name = record.locality
    school.phase = record.phase
    school.school_type = record.school_type
    school.ofsted = record.ofsted
    school.fsm = record.fsm
    school.federation = record.federation
    wanted = set(record.designations)
    school.designations = [d for d in school.designations if d.designation in wanted]
    have = {d.designation for d in school.designations}
    school.designations += [SchoolDesignation(designation=d) for d in sorted(wanted - have)]
    session.add(school)


def _store_partnership(session: Session, record: PartnershipRecord) -> None:
    partnership = session.get(Partnership, record.id) or Partnership(id=record.id)
    partnership.kind = record.kind
    partnership.locality_name = record.locality
    partnership.lead_school_id = record.lead
    members = [session.get(School, member) for member in record.members]
    partnership.members = list(dict.fromkeys([*partnership.members, *members]))
    session.add(partnership)


def _store_interview(
    session: Session, interview: _Interview, transcript: Transcript | None, added: dict[str, Participant], report: ImportReport
) -> bool:
    """Store the participant and transcript; True if the text is new or changed (its turns need storing)."""
    record = interview.record
    school = session.get(School, record.school_id) if record.school_id else None
    # A participant new in this import is pending, not yet in the session's identity map, so `get`
    # would not find them for their second interview: `added` remembers them.
    participant = added.get(record.participant_id) or session.get(Participant, record.participant_id)
    participant = added[record.participant_id] = participant or Participant(id=record.participant_id)
    participant.role = record.role
    participant.informant_kind = record.informant_kind
    participant.school_id = record.school_id
    participant.locality_name = school.locality_name if school else record.locality
    participant.is_system_informant = record.informant_kind is not None
    session.add(participant)

    parsed = interview.parsed
    if transcript is None:
        transcript = Transcript(id=record.transcript_id)
        session.add(transcript)
        report.added.append(record.transcript_id)
    elif transcript.sha256 == interview.text_hash:
        _set_fields(transcript, record, parsed)
        (report.updated if session.is_modified(transcript) else report.unchanged).append(record.transcript_id)
        return False
    else:
        report.reanchored += _reanchor(transcript, parsed.text)
        report.updated.append(record.transcript_id)
    _set_fields(transcript, record, parsed)
    transcript.text = parsed.text
    transcript.sha256 = interview.text_hash
    transcript.words = len(parsed.text.split())
    return True


def _store_turns(session: Session, interviews: list[_Interview]) -> None:
    """Replace the turns of new and changed transcripts in two statements (tens of thousands of rows)."""
    ids = [i.record.transcript_id for i in interviews]
    if not ids:
        return
    session.execute(delete(Turn).where(Turn.transcript_id.in_(ids)))
    rows = [
        {"transcript_id": i.record.transcript_id, "number": n, "speaker": t.speaker,
         "is_interviewer": t.is_interviewer, "start": t.start, "end": t.end}
        for i in interviews
        for n, t in enumerate(i.parsed.turns, start=1)
    ]
    if rows:
        session.execute(insert(Turn), rows)
    for transcript_id in ids:
        if (transcript := session.get(Transcript, transcript_id)) is not None:
            session.expire(transcript, ["turns"])


def _set_fields(transcript: Transcript, record: InterviewRecord, parsed: ParsedTranscript) -> None:
    transcript.participant_id = record.participant_id
    transcript.interview_date = record.date
    transcript.kind = record.kind
    transcript.source = str(parsed.path)


def _reanchor(transcript: Transcript, new_text: str) -> list[Reanchored]:
    """Move each coding onto the new text; report those not found exactly."""
    moved = []
    for coding in transcript.codings:
        placement = anchoring.place(coding.quote, coding.start, len(transcript.text), new_text)
        old = (coding.start, coding.end)
        coding.start, coding.end, coding.anchor = placement.start, placement.end, placement.anchor
        if placement.anchor != "exact":
            moved.append(Reanchored(transcript.id, coding.code.name, placement.anchor, old, (coding.start, coding.end), coding.quote))
    return moved
