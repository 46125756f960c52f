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
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from qualcode import concurrency, history, snapshots
from qualcode.ingest import anchoring, focusgroups, reimport, turns
from qualcode.ingest.captions import CAPTION_SUFFIXES, parse_caption_file
from qualcode.ingest.files import Skipped, collect_files
from qualcode.config import default_coder
from qualcode.errors import ImportFailed, Problem
from qualcode.ingest.metadata import (
    SCHOOL_FIELDS,
    TRANSCRIPT_FIELDS,
    InterviewRecord,
    Located,
    PartnershipRecord,
    SchoolRecord,
    Source,
    Validator,
    combine,
    read_keyed_file,
)
from qualcode.models import UNPLACED, Coding, Memo, Locality, Participant, Partnership, School, SchoolDesignation, Transcript, partnership_members
from qualcode.project import Project
from qualcode.ingest.sheets import ParticipantSheets
from qualcode.ingest.speakers import Reading
from qualcode.ingest.transcript import ParsedTranscript, converted, load_yaml_mapping, parse_docx_file, parse_text_file, read_text
from qualcode.ingest.turns import SpeakerSummary

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
    #: The speakers read in each file, with what could not be read for sure.
    speakers: list[SpeakerSummary] = field(default_factory=list)
    #: Files in the imported folders that were not read (unknown extension, hidden, README).
    skipped: list[Skipped] = field(default_factory=list)
    #: What the import changes in coded work (texts of coded transcripts, attribution lines).
    changes: reimport.Changes = field(default_factory=reimport.Changes)
    #: The copy of the database taken before an import with `update` wrote anything.
    snapshot: snapshots.Snapshot | None = None
    dry_run: bool = False

    @property
    def warnings(self) -> list[Problem]:
        return [warning for summary in self.speakers for warning in summary.warnings]

    def as_json(self) -> dict:
        return {
            "dry_run": self.dry_run, "added": self.added, "updated": self.updated, "unchanged": self.unchanged,
            "notes": self.notes, "skipped": [{"path": str(s.path), "reason": s.reason} for s in self.skipped],
            "changes": self.changes.as_json(), "snapshot": self.snapshot.as_json() if self.snapshot else None,
            "transcripts": [summary.as_json() for summary in self.speakers],
        }


@dataclass
class _Interview:
    parsed: ParsedTranscript
    record: InterviewRecord
    text_hash: str
    reading: Reading


def import_paths(
    project: Project,
    paths: Iterable[Path],
    dry_run: bool = False,
    progress: Progress | None = None,
    strict: bool = False,
    update: bool = False,
    coder: str | None = None,
) -> ImportReport:
    """Validate and import transcript files and folders; raise `ImportFailed` listing every problem.

    What the import writes is one change by `coder` (default: `config.default_coder`),
    which `qualcode undo` takes back exactly.

    With `strict`, what would only be a warning about speakers (no participant
    turns, label-like lines read as speech, a guessed interviewer) is a problem too.
    Replacing the text of a coded transcript or changing a stored participant is
    a problem too (`qualcode.ingest.reimport`) unless `update` is given; then the
    database is copied first (`qualcode.snapshots`).
    """
    paths = [Path(p) for p in paths]
    who = coder or default_coder()
    # A long write: colleagues waiting for it are told whose it is; run again if it clashed with theirs.
    with concurrency.announced(project, "import", who):
        return concurrency.run(project, lambda: _import(project, paths, dry_run, progress, strict, update, who))


def _import(project: Project, paths: list[Path], dry_run: bool, progress: Progress | None, strict: bool,
            update: bool, coder: str) -> ImportReport:
    transcripts, school_files, partnership_files, sheet_files, skipped = collect_files(paths)
    validator = Validator(project.settings.vocabularies)
    with project.session(commit=not dry_run, bulk=True) as session:
        partnerships = _read_records(partnership_files, validator, _partnership)
        schools = _read_records(school_files, validator, _school_row)
        sheets = ParticipantSheets.read(sheet_files, validator)
        interviews = _read_interviews(transcripts, validator, project.settings, schools, sheets, progress)
        _check_references(session, validator, schools, partnerships, interviews)
        report = ImportReport(dry_run=dry_run, skipped=skipped)
        report.speakers = [
            turns.summarise(i.record.transcript_id, i.parsed.path, i.reading, i.parsed.body_line,
                            focusgroups.speaker_map(i.record.voices)) for i in interviews
        ]
        if strict:
            validator.problems += report.warnings
        report.changes = reimport.review(session, project.settings, interviews, schools)
        if not update:
            validator.problems += report.changes.problems
        if validator.problems:
            raise ImportFailed(sorted(validator.problems, key=lambda p: (str(p.path), p.line or 0)))
        if update and not dry_run:
            report.snapshot = snapshots.take(project, "import")
        report.notes = [f"{i.parsed.path}: {note}" for i in interviews for note in i.parsed.notes]
        report.notes += sheets.notes + sheets.unmatched([p.resolve() for p in paths if p.is_dir()])
        with history.recorded(session, coder, "import", "import") as change:
            _write(session, schools, partnerships, interviews, report)
            change.description = _describe(report, paths)
    return report


def _describe(report: ImportReport, paths: list[Path]) -> str:
    """How `qualcode history` names an import: what it read and what it did."""
    read = ", ".join(p.name for p in paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
    return f"import {read}: {len(report.added)} new, {len(report.updated)} changed transcripts"


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
    settings,
    schools: dict[str, SchoolRecord],
    sheets: ParticipantSheets,
    progress: Progress | None,
) -> list[_Interview]:
    interviews: list[_Interview] = []
    seen: dict[str, Located] = {}
    for done, path in enumerate(paths, start=1):
        try:
            parsed, where = _parse(path, validator, sheets)
        except Problem as problem:
            validator.problems.append(problem)
            continue
        interview = _interview(parsed, validator, where, schools, turns.read(parsed.text, parsed.meta, settings))
        if interview.record.transcript_id in seen:
            first = seen[interview.record.transcript_id]
            validator.fail(where, "id", f"'{interview.record.transcript_id}' is also the id of {first.path}")
        elif interview.record.transcript_id:
            seen[interview.record.transcript_id] = where
            interviews.append(interview)
        if progress:
            progress(done, len(paths))
    return interviews


def _parse(path: Path, validator: Validator, sheets: ParticipantSheets) -> tuple[ParsedTranscript, Located]:
    """Parse one file, with its metadata from front matter (or a Word table), a sidecar `<name>.yaml` and sheet rows."""
    suffix = path.suffix.lower()
    if suffix in CAPTION_SUFFIXES:
        parsed = parse_caption_file(path)
    else:
        parsed = parse_docx_file(path) if suffix == ".docx" else parse_text_file(path)
    own = Located(path, parsed.field_lines, line=1 if parsed.field_lines else None)
    sources = [Source(parsed.meta, own, yields=suffix == ".docx")]
    sidecar = path.with_suffix(".yaml")
    if sidecar.is_file():
        text, encoding = read_text(sidecar)
        meta, lines = load_yaml_mapping(text, sidecar)
        parsed.notes += [f"{sidecar.name}: {note}" for note in converted(encoding)]
        sources.append(Source(meta, Located(sidecar, lines, line=1)))
    sources += sheets.sources_for(path)
    if not any(source.meta for source in sources):
        near = sheets.near_miss(path)
        hint = f"{near}; otherwise " if near else ""
        raise Problem(path, 1, None, f"no metadata: {hint}{_metadata_fix(path)}")
    parsed.meta, where = combine(sources, validator, parsed.notes)
    return parsed, where


def _metadata_fix(path: Path) -> str:
    """Where this kind of file can take its metadata from (a caption file has no front matter)."""
    others = f"add a sidecar {path.with_suffix('.yaml').name} or a row in participants.csv"
    if path.suffix.lower() in CAPTION_SUFFIXES:
        return others
    if path.suffix.lower() == ".docx":
        return f"start the document with a table of 'field | value' rows, or {others}"
    return f"start the file with '---' front matter, or {others}"


def _interview(
    parsed: ParsedTranscript, validator: Validator, where: Located, schools: dict[str, SchoolRecord], reading: Reading
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
    return _Interview(parsed, record, hashlib.sha256(parsed.text.encode("utf-8")).hexdigest(), reading)


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
            validator.fail(
                where, name, f"'{mine[name]}' contradicts '{theirs[name]}' for {known.id} in {known.where.place(name)}"
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

    described = {i.record.participant_id for i in interviews}
    described |= {v.participant_id for i in interviews for v in i.record.voices if v.defined}
    participant_ids = sorted(described | set(session.scalars(select(Participant.id))))
    for interview in interviews:
        record = interview.record
        if record.school_id and record.school_id not in schools:
            check(record.school_id, school_ids, "school (describe it in schools.yaml or the front matter)", record.where, "school")
        for voice in record.voices:
            if not voice.defined and voice.participant_id not in described:
                check(voice.participant_id, participant_ids, f"participant (for '{voice.label}': give its role as"
                      f" {{participant: {voice.participant_id}, role: ROLE}})", record.where, "speakers")
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
    held = _Held({s.id: s for s in session.scalars(select(School).options(selectinload(School.designations)))}, {})
    for record in schools.values():
        held.schools[record.id] = _store_school(session, record, held.schools.get(record.id))
    session.flush()
    history.bulk_replaced(session, partnership_members, None, [],
                          lambda: _store_partnerships(session, partnerships, schools, held.schools))
    ids = [i.record.transcript_id for i in interviews]
    stored = {t.id: t for t in session.scalars(select(Transcript).where(Transcript.id.in_(ids)))}
    people = {i.record.participant_id for i in interviews} | {v.participant_id for i in interviews for v in i.record.voices}
    held.participants = {p.id: p for p in session.scalars(select(Participant).where(Participant.id.in_(people)))}
    with session.no_autoflush:
        texts_changed = [
            i for i in interviews if _store_interview(session, i, stored.get(i.record.transcript_id), held, report)
        ]
    session.flush()
    turns.store(session, {i.record.transcript_id: i.reading for i in texts_changed},
                {i.record.transcript_id: focusgroups.speaker_map(i.record.voices) for i in texts_changed})


@dataclass
class _Held:
    """The schools (every one stored) and the participants of an import's interviews, by id, held while it stores them.

    The session's identity map keeps a clean row only while something else refers to it, so `session.get`
    would load a school again (a query each time) for every interview at it, and for every partnership it is in.
    """

    schools: dict[str, School]
    participants: dict[str, Participant]


def _store_school(session: Session, record: SchoolRecord, school: School | None) -> School:
    """The school as `record` describes it: `school` (stored before, its designations loaded) updated, or a new one."""
    school = school or School(id=record.id)
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
    return school


def _store_partnerships(
    session: Session, partnerships: dict[str, PartnershipRecord], schools: dict[str, SchoolRecord],
    held: dict[str, School],
) -> None:
    """The partnerships and their members (written through a relationship, so recorded as a bulk change);
    `held`: every school stored, by id."""
    stored = {p.id: p for p in session.scalars(select(Partnership).options(selectinload(Partnership.members)))}
    for record in partnerships.values():
        stored[record.id] = _store_partnership(session, record, stored.get(record.id), held)
    for record in schools.values():
        school = held[record.id]
        for pid in record.partnerships:
            partnership = stored[pid]
            if school not in partnership.members:
                partnership.members.append(school)
    session.flush()


def _store_partnership(session: Session, record: PartnershipRecord, partnership: Partnership | None,
                       held: dict[str, School]) -> Partnership:
    partnership = partnership or Partnership(id=record.id)
    partnership.kind = record.kind
    partnership.locality_name = record.locality
    partnership.lead_school_id = record.lead
    members = [held[member] for member in record.members]
    partnership.members = list(dict.fromkeys([*partnership.members, *members]))
    session.add(partnership)
    return partnership


def _store_interview(
    session: Session, interview: _Interview, transcript: Transcript | None, held: _Held, report: ImportReport
) -> bool:
    """Store the participant and transcript; True if its turns need storing (a new or changed text, or a new reading)."""
    record = interview.record
    school = held.schools.get(record.school_id) if record.school_id else None
    people = held.participants
    _store_participant(session, record.participant_id, record.role, record.informant_kind, record, school, people)
    for voice in record.voices:  # a focus group's other speakers, at the transcript's school
        if voice.defined and voice.participant_id != record.participant_id:
            _store_participant(session, voice.participant_id, voice.role, voice.informant_kind, record, school, people)

    parsed = interview.parsed
    if transcript is None:
        transcript = Transcript(id=record.transcript_id)
        session.add(transcript)
        report.added.append(record.transcript_id)
    elif transcript.sha256 == interview.text_hash:
        _set_fields(transcript, record, parsed)
        reread = _turns_differ(transcript, interview)
        (report.updated if reread or session.is_modified(transcript) else report.unchanged).append(record.transcript_id)
        return reread
    else:
        report.reanchored += _reanchor(transcript, report.changes.placements(transcript.id) or {})
        report.updated.append(record.transcript_id)
    _set_fields(transcript, record, parsed)
    transcript.text = parsed.text
    transcript.sha256 = interview.text_hash
    transcript.words = len(parsed.text.split())
    return True


def _store_participant(
    session: Session, participant_id: str, role: str | None, informant_kind: str | None,
    record: InterviewRecord, school: School | None, people: dict[str, Participant],
) -> None:
    """A participant of `record`'s interview, with its role or kind, at the interview's school or locality.

    `people` holds the stored participants the import names, and takes in those it adds (a pending
    participant is not in the session's identity map, so `get` would not find them for a second interview).
    """
    participant = people[participant_id] = people.get(participant_id) or Participant(id=participant_id)
    participant.role, participant.informant_kind = role, informant_kind
    participant.school_id = record.school_id
    participant.locality_name = school.locality_name if school else record.locality
    participant.is_system_informant = informant_kind is not None
    session.add(participant)


def _turns_differ(transcript: Transcript, interview: _Interview) -> bool:
    """Whether the stored turns of an unchanged text differ from this reading (the `[speakers]` settings or a
    focus group's `speakers:` changed)."""
    mapped = focusgroups.speaker_map(interview.record.voices)
    stored = [(t.speaker, t.role, t.start, t.end, t.time, t.participant_id) for t in transcript.turns]
    return stored != [(r["speaker"], r["role"], r["start"], r["end"], r["time"], r["participant_id"])
                      for r in turns.turn_rows(transcript.id, interview.reading, mapped)]


def _set_fields(transcript: Transcript, record: InterviewRecord, parsed: ParsedTranscript) -> None:
    transcript.participant_id = record.participant_id
    transcript.interview_date = record.date
    transcript.kind = record.kind
    transcript.source = str(parsed.path)
    transcript.interviewer = str(parsed.meta["interviewer"]) if parsed.meta.get("interviewer") else None
    transcript.speakers = focusgroups.speaker_map(record.voices)


def _reanchor(transcript: Transcript, placements: dict[int, anchoring.Placement]) -> list[Reanchored]:
    """Move each coding onto the new text (where `reimport.review` placed it); report those not found exactly."""
    moved = []
    placed: dict[tuple, Coding] = {}
    for coding in sorted(transcript.codings, key=lambda c: c.id):
        placement = placements[coding.id]
        old = (coding.start, coding.end)
        key = (placement.start, placement.end, coding.code_id, coding.coder)
        if placement.anchor != UNPLACED and key in placed:  # two codings found at one passage: one is kept
            _fold_into(placed[key], coding)
            continue
        if placement.anchor != UNPLACED:
            placed[key] = coding
        coding.start, coding.end, coding.anchor = placement.start, placement.end, placement.anchor
        if placement.anchor != "exact":
            moved.append(Reanchored(transcript.id, coding.code.name, placement.anchor, old, (coding.start, coding.end), coding.quote))
    return moved


def _fold_into(kept: Coding, twin: Coding) -> None:
    """A coding the new text places where the same coder's same code already is: its memo joins the other's."""
    from sqlalchemy.orm import object_session

    session = object_session(twin)
    if twin.memo:
        kept.memo = f"{kept.memo}\n{twin.memo}" if kept.memo else twin.memo
    kept.important = kept.important or twin.important
    for memo in session.scalars(select(Memo).where(Memo.target_kind == "coding", Memo.target_id == str(twin.id))):
        memo.target_id = str(kept.id)
    session.delete(twin)
