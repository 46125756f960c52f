"""Writing a project as a REFI-QDA 1.0 `.qdpx`, exactly as the standard says.

Positions are Unicode code points (Python string offsets) into UTF-8 plain
text sources stored as `sources/<guid>.txt`; `project.qde` is validated
against `Project.xsd` before the file is left on disk. Every GUID is derived
from what the object is (a transcript's id, a coding's span, code and coder),
so two exports of the same project are byte for byte the same. Only what
qualcode stores is written: never the identity key. A coder in an open blind
round exports what they may see (`qualcode.coding.blind`): on the round's
transcripts their own codings only, and no memo on a colleague's.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zipfile
from collections import defaultdict
from pathlib import Path
from xml.etree import ElementTree as ET

from sqlalchemy import func, not_, select
from sqlalchemy.orm import Session, selectinload

from qualcode import __version__
from qualcode.coding.blind import Blind, blind, shown
from qualcode.coding.codebook import to_codebook
from qualcode.errors import QualcodeError
from qualcode.models import UNPLACED, Code, Coding, Locality, Memo, Participant, Partnership, School, Transcript
from qualcode.analysis.overview import code_paths
from qualcode.project import Project
from qualcode.exchange.qdpx import CASE_TYPE, INDUCTIVE_SET, LOCALITY_SET, PROJECT_NS, VARIABLES
from qualcode.exchange.refi import code_element, guid, xml_safe

#: A fixed time for every zip entry, so that two exports are identical.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def q(tag: str) -> str:
    return f"{{{PROJECT_NS}}}{tag}"


def sub(parent: ET.Element, tag: str, attributes: dict | None = None, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, q(tag), {k: v for k, v in (attributes or {}).items() if v is not None})
    if text is not None:
        element.text = text
    return element


def timestamp(value: dt.datetime | None) -> str | None:
    return value.replace(microsecond=0).isoformat() + "Z" if value else None


def export_qdpx(project: Project, path: Path) -> dict[str, int]:
    """Write the project to `path`; return how many of each thing were written."""
    book = to_codebook(project)
    found = blind(project)
    with project.session(commit=False) as session:
        root, sources, counts = _project_element(session, book, project.root.name, found)
    replaced = xml_safe(root)
    if replaced:
        counts["characters XML cannot hold (control characters in memos, definitions, names) written as spaces"] = replaced
    qde = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    _validate(path, qde)
    tmp = path.with_name(path.name + ".tmp")
    path.parent.mkdir(parents=True, exist_ok=True)  # as every table export does
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("project.qde", ZIP_TIME), qde, zipfile.ZIP_DEFLATED)
        for name, text in sources:
            archive.writestr(zipfile.ZipInfo(f"sources/{name}", ZIP_TIME), text.encode("utf-8"), zipfile.ZIP_DEFLATED)
    tmp.replace(path)
    return counts


def _validate(path: Path, qde: bytes) -> None:
    """Check `project.qde` against Project.xsd with libxml2 (lxml, already needed by python-docx).

    xmlschema, which checks the `.qdc` codebooks, takes 20 s on the bundled
    project's 13,000 codings; libxml2 takes under one. The tests check every
    export with xmlschema as well.
    """
    from importlib import resources

    from lxml import etree

    xsd = etree.XMLSchema(etree.parse(str(resources.files("qualcode").joinpath("data", "refi", "Project.xsd"))))
    if not xsd.validate(etree.fromstring(qde)):
        error = xsd.error_log.last_error
        raise QualcodeError(f"{path}: project.qde does not validate against Project.xsd (line {error.line}): {error.message}")


def _project_element(session: Session, book, name: str,
                     found: Blind | None) -> tuple[ET.Element, list[tuple[str, str]], dict[str, int]]:
    """The `.qde` tree, its sources' texts and the counts; `found`: the blind round the exporter codes in, if any."""
    ET.register_namespace("", PROJECT_NS)
    root = ET.Element(q("Project"), {"name": name, "origin": f"qualcode {__version__}"})
    paths = code_paths(session)
    codes = {code.id: code for code in session.scalars(select(Code))}
    seen = shown(found)
    hidden = set(map(str, session.scalars(select(Coding.id).where(not_(seen))))) if found else set()
    # In time order to the second (as a `.qde` keeps times), then by content: the same order after a round trip.
    memos = sorted((m for m in session.scalars(select(Memo)) if not (m.target_kind == "coding" and m.target_id in hidden)),
                   key=lambda m: (timestamp(m.created_at), _memo_guid(m, paths)))
    # An unplaced coding's offsets point at words a re-import removed: written, it would mark other words, or
    # positions past the end that make the file unreadable. Left out and counted, as `export codings` does.
    placed = Coding.anchor != UNPLACED
    transcripts = list(session.scalars(
        select(Transcript).options(selectinload(Transcript.codings.and_(seen, placed)),
                                   selectinload(Transcript.participant))
        .order_by(Transcript.id)
    ))
    unplaced = session.scalar(select(func.count()).select_from(Coding).where(seen, not_(placed)))
    notes_on = _notes_by_target(memos, transcripts, paths)
    users = sorted({c.coder for t in transcripts for c in t.codings} | {m.author for m in memos})
    if users:
        listing = sub(root, "Users")
        for user in users:
            sub(listing, "User", {"guid": guid("user", user), "name": user})
    _codebook(root, book, notes_on)
    sub_variables = sub(root, "Variables")
    for variable, kind in sorted({(n, t) for fields in VARIABLES.values() for n, t in fields.items()} | {(CASE_TYPE, "Text")}):
        sub(sub_variables, "Variable", {"guid": guid("variable", variable), "name": variable, "typeOfVariable": kind})
    case_guids = _cases(root, session, transcripts)
    written = _sources(root, transcripts, paths, notes_on)
    _notes(root, memos, transcripts, paths, case_guids)
    _sets(root, transcripts, codes, paths)
    for note in notes_on.get(("project", None), []):
        sub(root, "NoteRef", {"targetGUID": note})
    counts = {"users": len(users), "codes": len(paths), "sources": len(transcripts), "cases": len(case_guids),
              "codings": sum(len(t.codings) for t in transcripts), "notes": len(memos) + sum(
                  1 for t in transcripts for c in t.codings if c.memo)}
    if unplaced:
        counts["unplaced codings left out (their words were lost at a re-import: 'qualcode codings --unplaced')"] = unplaced
    return root, written, counts


def _memo_target(memo: Memo, paths: dict[int, str]) -> str | None:
    """What a memo is on, as another project would name it: a code by its path, not its id."""
    if memo.target_kind == "code" and memo.target_id and memo.target_id.isdigit():
        return paths.get(int(memo.target_id))
    return memo.target_id


def _memo_guid(memo: Memo, paths: dict[int, str]) -> str:
    content = hashlib.sha256(memo.text.encode("utf-8")).hexdigest()
    key = f"{memo.target_kind}:{_memo_target(memo, paths)}:{memo.author}:{timestamp(memo.created_at)}:{content}"
    return guid("note", key)


def _selection_key(coding: Coding, paths: dict[int, str]) -> str:
    return f"{coding.transcript_id}:{coding.start}:{coding.end}:{paths[coding.code_id]}:{coding.coder}"


def _notes_by_target(memos: list[Memo], transcripts: list[Transcript], paths) -> dict[tuple, list[str]]:
    """The GUIDs of the notes on each thing, keyed as (kind, id); a code by its path, a coding by its selection key."""
    targets: dict[tuple, list[str]] = defaultdict(list)
    codings = {str(c.id): c for t in transcripts for c in t.codings}
    for memo in memos:
        target = _memo_target(memo, paths)
        if memo.target_kind == "coding" and target in codings:
            target = _selection_key(codings[target], paths)
        targets[(memo.target_kind, target)].append(_memo_guid(memo, paths))
    for transcript in transcripts:
        for coding in transcript.codings:
            if coding.memo:
                key = _selection_key(coding, paths)
                targets[("coding", key)].append(guid("note", f"coding memo:{key}"))
    return targets


def _codebook(root: ET.Element, book, notes_on) -> None:
    if not book.codes:
        return
    codes = sub(sub(root, "CodeBook"), "Codes")
    elements: dict[str | None, ET.Element] = {None: codes}
    for spec in book.codes:
        element = code_element(elements[spec.parent], spec, PROJECT_NS)
        for note in notes_on.get(("code", spec.path), []):
            sub(element, "NoteRef", {"targetGUID": note})
        elements[spec.path] = element


def _value(parent: ET.Element, variable: str, kind: str, value) -> None:
    """A typed `VariableValue`; an empty value is not written (REFI has no null)."""
    if value is None or value == "" or value == []:
        return
    element = sub(parent, "VariableValue")
    sub(element, "VariableRef", {"targetGUID": guid("variable", variable)})
    if kind == "Boolean":
        sub(element, "BooleanValue", text="true" if value else "false")
    elif kind == "Float":
        sub(element, "FloatValue", text=repr(float(value)))
    elif kind == "Date":
        sub(element, "DateValue", text=value.isoformat())
    else:
        sub(element, "TextValue", text="; ".join(value) if isinstance(value, list) else str(value))


def _case(parent: ET.Element, kind: str, name: str, values: dict, sources: list[str]) -> str:
    case_guid = guid("case", f"{kind}:{name}")
    case = sub(parent, "Case", {"guid": case_guid, "name": name})
    _value(case, CASE_TYPE, "Text", kind)
    for variable, type_ in VARIABLES[kind].items():
        _value(case, variable, type_, values.get(variable))
    for source in sorted(set(sources)):
        sub(case, "SourceRef", {"targetGUID": guid("source", source)})
    return case_guid


def _cases(root: ET.Element, session: Session, transcripts: list[Transcript]) -> dict[tuple[str, str], str]:
    """Schools, participants, localities and partnerships, each with its variables and the transcripts it covers."""
    by_participant: dict[str, list[str]] = defaultdict(list)
    for transcript in transcripts:
        by_participant[transcript.participant_id].append(transcript.id)
    participants = list(session.scalars(select(Participant).order_by(Participant.id)))
    by_school: dict[str, list[str]] = defaultdict(list)
    by_locality: dict[str, list[str]] = defaultdict(list)
    for person in participants:
        if person.school_id:
            by_school[person.school_id] += by_participant[person.id]
        by_locality[person.locality_name] += by_participant[person.id]
    cases = sub(root, "Cases")
    found: dict[tuple[str, str], str] = {}
    for school in session.scalars(select(School).order_by(School.id)):
        values = {"locality": school.locality_name, "phase": school.phase, "school_type": school.school_type,
                  "ofsted": school.ofsted, "fsm": school.fsm, "federation": school.federation,
                  "designations": [d.designation for d in school.designations],
                  "partnerships": sorted(p.id for p in school.partnerships)}
        found[("school", school.id)] = _case(cases, "school", school.id, values, by_school[school.id])
    for person in participants:
        values = {"role": person.role, "informant_kind": person.informant_kind, "school": person.school_id,
                  "locality": person.locality_name}
        found[("participant", person.id)] = _case(cases, "participant", person.id, values, by_participant[person.id])
    for locality in session.scalars(select(Locality).order_by(Locality.name)):
        found[("locality", locality.name)] = _case(cases, "locality", locality.name, {}, by_locality[locality.name])
    for partnership in session.scalars(select(Partnership).order_by(Partnership.id)):
        members = sorted(m.id for m in partnership.members)
        values = {"kind": partnership.kind, "locality": partnership.locality_name, "members": members,
                  "lead": partnership.lead_school_id}
        covered = [t for member in members for t in by_school[member]]
        found[("partnership", partnership.id)] = _case(cases, "partnership", partnership.id, values, covered)
    if not found:
        root.remove(cases)
    return found


def _sources(root: ET.Element, transcripts: list[Transcript], paths, notes_on) -> list[tuple[str, str]]:
    """One `TextSource` per transcript, its codings as one `PlainTextSelection` each (so each keeps its coder and date)."""
    if not transcripts:
        return []
    sources = sub(root, "Sources")
    files = []
    for transcript in transcripts:
        source_guid = guid("source", transcript.id)
        files.append((f"{source_guid}.txt", transcript.text))
        source = sub(sources, "TextSource", {
            "guid": source_guid, "name": transcript.id, "plainTextPath": f"internal://{source_guid}.txt",
        })
        for coding in sorted(transcript.codings, key=lambda c: (c.start, c.end, paths[c.code_id], c.coder)):
            key = _selection_key(coding, paths)
            selection = sub(source, "PlainTextSelection", {
                "guid": guid("selection", key), "name": coding.quote[:60], "startPosition": str(coding.start),
                "endPosition": str(coding.end), "creatingUser": guid("user", coding.coder),
                "creationDateTime": timestamp(coding.created_at),
            })
            mark = sub(selection, "Coding", {"guid": guid("coding", key), "creatingUser": guid("user", coding.coder),
                                             "creationDateTime": timestamp(coding.created_at)})
            sub(mark, "CodeRef", {"targetGUID": guid("code", paths[coding.code_id])})
            for note in notes_on.get(("coding", key), []):
                sub(selection, "NoteRef", {"targetGUID": note})
        for note in notes_on.get(("transcript", transcript.id), []):
            sub(source, "NoteRef", {"targetGUID": note})
        values = {"participant": transcript.participant_id, "date": transcript.interview_date,
                  "kind": transcript.kind, "interviewer": transcript.interviewer}
        for variable, type_ in VARIABLES["source"].items():
            _value(source, variable, type_, values[variable])
    return files


def _notes(root: ET.Element, memos: list[Memo], transcripts, paths, case_guids) -> None:
    """Memos as `Note`s; those on a school or locality (a `Case` has no `NoteRef`) are tied to it by a `Link`."""
    coding_notes = [(c, guid("note", f"coding memo:{_selection_key(c, paths)}"))
                    for t in transcripts for c in t.codings if c.memo]
    if not memos and not coding_notes:
        return
    notes = sub(root, "Notes")
    links = []
    for memo in memos:
        note_guid = _memo_guid(memo, paths)
        on = f"memo on {memo.target_kind} {_memo_target(memo, paths) or ''}".strip()
        note = sub(notes, "Note", {"guid": note_guid, "name": on,
                                   "creatingUser": guid("user", memo.author), "creationDateTime": timestamp(memo.created_at)})
        sub(note, "PlainTextContent", text=memo.text)
        case = case_guids.get((memo.target_kind, memo.target_id or ""))
        if case:
            links.append((note_guid, case, memo.target_kind))
    for coding, note_guid in coding_notes:
        note = sub(notes, "Note", {"guid": note_guid, "name": f"memo on coding {coding.transcript_id} {coding.start}-{coding.end}",
                                   "creatingUser": guid("user", coding.coder), "creationDateTime": timestamp(coding.created_at)})
        sub(note, "PlainTextContent", text=coding.memo)
    if links:
        element = sub(root, "Links")
        for note_guid, case, kind in links:
            sub(element, "Link", {"guid": guid("link", f"{note_guid}:{case}"), "name": f"memo on {kind}",
                                  "direction": "OneWay", "originGUID": note_guid, "targetGUID": case})


def _sets(root: ET.Element, transcripts: list[Transcript], codes: dict[int, Code], paths) -> None:
    """The transcripts of each locality, and the inductive codes: groupings the other tools show as sets."""
    by_locality: dict[str, list[str]] = defaultdict(list)
    for transcript in transcripts:
        by_locality[transcript.participant.locality_name].append(transcript.id)
    inductive = sorted(paths[c.id] for c in codes.values() if c.origin == "inductive")
    if not by_locality and not inductive:
        return
    sets = sub(root, "Sets")
    for locality, members in sorted(by_locality.items()):
        element = sub(sets, "Set", {"guid": guid("set", f"locality:{locality}"), "name": LOCALITY_SET + locality})
        for member in members:
            sub(element, "MemberSource", {"targetGUID": guid("source", member)})
    if inductive:
        element = sub(sets, "Set", {"guid": guid("set", "inductive"), "name": INDUCTIVE_SET})
        for path in inductive:
            sub(element, "MemberCode", {"targetGUID": guid("code", path)})
