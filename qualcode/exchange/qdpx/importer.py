"""Importing a `.qdpx` into a project: its sources as transcripts with metadata, its codes, codings and memos.

All of it is checked first and written in one transaction, as every import
is; nothing the file holds is dropped without a word: the result lists, for
each kind of thing, how many were read, imported and left out, and why.

Sources become transcripts only with qualcode's metadata (a role or an
informant kind, a school or a locality). It is taken from the cases that
cover a source and from variables (on cases, named or not, and on the
source) whose names are qualcode's fields; what is still missing may be
given in a `--defaults` YAML file (fields for every source, and per source
under `sources:`). Otherwise the import is refused, listing what each
source lacks.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from qualcode import history
from qualcode.ingest import corpus, reimport, turns
from qualcode.coding.codebook import ensure_code
from qualcode.exchange.codebook_exchange import build_specs
from qualcode.errors import ImportFailed, Problem
from qualcode.ingest.metadata import PARTNERSHIP_FIELDS, TRANSCRIPT_FIELDS, Located, Validator, safe_id
from qualcode.models import Code, Coding, Memo, utcnow
from qualcode.analysis.overview import code_paths
from qualcode.project import Project
from qualcode.exchange.qdpx import CASE_TYPE, CASE_TYPES, INDUCTIVE_SET, LOCALITY_SET, positions
from qualcode.exchange.qdpx.reader import CaseIn, QdpxProject, read_qdpx
from qualcode.ingest.transcript import ParsedTranscript, load_yaml_mapping, normalise_newlines

#: Variable names other tools use for qualcode's fields (compared lower case, spaces as '_').
ALIASES = {"interview_date": "date", "transcript_kind": "kind", "informant": "informant_kind", "school_id": "school",
           "participant_id": "participant", "type_of_school": "school_type", "ofsted_grade": "ofsted",
           "free_school_meals": "fsm", "partnership_kind": "kind"}
SOURCE_SUFFIXES = (".txt", ".docx", ".doc", ".rtf", ".pdf", ".md", ".odt")


@dataclass
class QdpxImport:
    #: (what, read, imported, left out, why) for each kind of thing in the file.
    rows: list[tuple[str, int, int, int, str]] = field(default_factory=list)
    convention: str = ""
    notes: list[str] = field(default_factory=list)
    transcripts: list[str] = field(default_factory=list)
    dry_run: bool = False

    def as_json(self) -> dict:
        return {"dry_run": self.dry_run, "positions": self.convention, "transcripts": self.transcripts,
                "notes": self.notes, "table": [dict(zip(("what", "read", "imported", "left_out", "why"), row))
                                                for row in self.rows]}


def field_name(variable: str) -> str:
    key = re.sub(r"[\s_-]+", "_", variable.strip().lower())
    return ALIASES.get(key, key)


def import_qdpx(project: Project, path: Path, coder: str, defaults: Path | None = None,
                dry_run: bool = False) -> QdpxImport:
    """Read, check and store a `.qdpx`; raise `ImportFailed` (nothing written) listing every problem."""
    result = QdpxImport(dry_run=dry_run)
    qdpx, texts, result.convention = read_placed(path)
    result.notes += qdpx.read_as
    ids = transcript_ids(qdpx, result.notes)
    validator = Validator(project.settings.vocabularies)
    metas, partnerships, left = _metadata(qdpx, ids, _defaults(defaults), validator, result)
    with project.session(commit=not dry_run, bulk=True) as session:
        schools: dict = {}
        interviews = []
        for source in qdpx.sources:
            where = Located(f"{path}: TextSource '{source.name}'")
            parsed = ParsedTranscript(Path(f"{path}/{source.name}"), metas[source.guid], {}, texts[source.guid], 1)
            reading = turns.read(parsed.text, parsed.meta, project.settings)
            interviews.append(corpus._interview(parsed, validator, where, schools, reading))
            result.notes += map(str, turns.summarise(ids[source.guid], parsed.path, reading).warnings)
        corpus._check_references(session, validator, schools, partnerships, interviews)
        # The same refusals as a transcript import: a project must not silently replace coded text or a participant.
        changes = reimport.review(session, project.settings, interviews, schools)
        validator.problems += changes.problems
        if validator.problems:
            if any("missing field" in p.message for p in validator.problems):
                validator.problems.append(Problem(path, None, "--defaults", "give the missing metadata in a YAML file: "
                                                  "fields for every source, or under 'sources:' by source name"))
            raise ImportFailed(validator.problems)
        report = corpus.ImportReport(changes=changes)
        with history.recorded(session, coder, "import", f"import {path.name}"):  # one change: 'qualcode undo' takes it back
            corpus._write(session, schools, partnerships, interviews, report)
            result.transcripts = report.added + report.updated + report.unchanged
            codes = _store_codes(session, qdpx, coder, result)
            _store_codings(session, qdpx, ids, texts, codes, coder, result)
            _store_memos(session, qdpx, ids, texts, codes, left, coder, result)
    return result


def read_placed(path: Path) -> tuple[QdpxProject, dict[str, str], str]:
    """A `.qdpx` read, with each selection placed in its source's stored text; the texts by source guid, and
    how the file's positions were read."""
    qdpx = read_qdpx(path)
    texts = {s.guid: normalise_newlines(s.raw) for s in qdpx.sources}
    convention, mattered = positions.choose(
        [(s.raw, texts[s.guid], [(x.start, x.end) for x in s.selections]) for s in qdpx.sources])
    _place(qdpx, convention)
    return qdpx, texts, convention.describe() + ("" if mattered else " (every reading gave the same places)")


def _place(qdpx: QdpxProject, convention) -> None:
    """Each selection's offsets in the stored text; a selection outside its text refuses the file."""
    problems = []
    for source in qdpx.sources:
        mapping = positions.position_map(source.raw, convention)
        for selection in source.selections:
            placed = positions.place(mapping, selection.start, selection.end)
            if placed is None:
                inside = 0 <= selection.start and selection.end < len(mapping)
                problems.append(Problem(qdpx.path, None, f"TextSource '{source.name}' PlainTextSelection {selection.guid}",
                                        f"positions {selection.start}-{selection.end} "
                                        + ("split a character in two (a CRLF line end or an emoji)" if inside
                                           else "are outside its text")
                                        + f" ({len(mapping) - 1} positions, counting {convention.describe()})"))
            selection.span = placed
    if problems:
        raise ImportFailed(problems)


def transcript_ids(qdpx: QdpxProject, notes: list[str]) -> dict[str, str]:
    """A transcript id per source from its name (without a file extension); repeated names (MAXQDA) get -2, -3."""
    ids, seen = {}, Counter()
    for source in qdpx.sources:
        name = source.name
        if name.lower().endswith(SOURCE_SUFFIXES):
            name = name.rsplit(".", 1)[0]
        base = safe_id(name)[:56] or "source"
        seen[base] += 1
        ids[source.guid] = base if seen[base] == 1 else f"{base}-{seen[base]}"
        if seen[base] > 1:
            notes.append(f"source '{source.name}' has the name of another source: imported as {ids[source.guid]}")
    return ids


def _defaults(path: Path | None) -> dict:
    if path is None:
        return {}
    data, _ = load_yaml_mapping(path.read_text(encoding="utf-8-sig"), path)
    return data


def case_kind(case: CaseIn) -> str | None:
    """What a case is: said by qualcode's `case type`, else recognised by its variables; None for an unnamed case."""
    declared = str(case.values.get(CASE_TYPE, "")).lower()
    if declared in CASE_TYPES:
        return declared
    names = {field_name(n) for n in case.values}
    if not case.name:
        return None
    if names & {"role", "informant_kind"}:
        return "participant"
    if names & {"phase", "school_type", "ofsted", "fsm", "designations"}:
        return "school"
    if names & {"members", "lead"}:
        return "partnership"
    return None


def _case_id(name: str, kind: str, result: QdpxImport) -> str:
    """A school or participant case's name as a qualcode id, saying so when it had to change."""
    made = safe_id(name)
    if made != name and f"'{name}'" not in " ".join(result.notes):
        result.notes.append(f"{kind} case '{name}' is imported as id '{made}' (ids hold only letters, digits, '-', '_' and '.')")
    return made


def _metadata(qdpx, ids, defaults, validator, result):
    """Each source's metadata from its variables, its cases and the defaults; the partnerships; what did not map."""
    metas = {s.guid: {"id": ids[s.guid]} for s in qdpx.sources}
    unmapped: Counter = Counter()
    partnerships, left = {}, {"cases": {}}

    def apply(meta: dict, values: dict, allowed=TRANSCRIPT_FIELDS) -> None:
        for name, value in values.items():
            key = field_name(name)
            if name == CASE_TYPE:
                continue
            if key not in allowed or key == "id":
                unmapped[name] += 1
            elif key in meta and str(meta[key]) != str(value):
                result.notes.append(f"{meta['id']}: {key}: '{value}' given again after '{meta[key]}': kept '{meta[key]}'")
            else:
                meta.setdefault(key, value)

    kinds = {case.guid: case_kind(case) for case in qdpx.cases}
    by_source = defaultdict(list)
    for case in qdpx.cases:
        for source in case.sources:
            by_source[source].append(case)
    for source in qdpx.sources:
        meta = metas[source.guid]
        apply(meta, source.values)
        for case in sorted(by_source[source.guid], key=lambda c: CASE_TYPES.index(kinds[c.guid] or "participant")):
            kind = kinds[case.guid]
            if kind == "locality":
                meta.setdefault(kind, case.name)
            elif kind in ("participant", "school"):
                meta.setdefault(kind, _case_id(case.name, kind, result))
            if kind != "partnership":
                apply(meta, case.values)
        # A source's own entry in the defaults corrects the file; the fields for every source only fill gaps.
        meta.update({field_name(k): v for k, v in ((defaults.get("sources") or {}).get(source.name) or {}).items()})
        for name, value in defaults.items():
            if name != "sources":
                meta.setdefault(field_name(name), value)
        meta.setdefault("kind", "full")  # a source another tool holds is the whole text unless a variable says otherwise
    for case in qdpx.cases:
        kind = kinds[case.guid]
        if kind == "partnership":
            values = {field_name(k): v for k, v in case.values.items() if field_name(k) in PARTNERSHIP_FIELDS}
            partnerships[case.name] = validator.partnership(case.name, values, Located(f"{qdpx.path}: Case '{case.name}'"))
        if kind is None and case.name:
            left["cases"][case.name] = "not recognisably a school, participant, locality or partnership: its variables describe its sources"
    counts = Counter(kinds.values())
    result.rows.append(("cases", len(qdpx.cases), len(qdpx.cases), 0, ", ".join(
        f"{counts[k]} {k}" for k in CASE_TYPES if counts[k]) + (f", {counts[None]} unnamed or other (variables read onto their sources)" if counts[None] else "")))
    values = sum(len(c.values) for c in qdpx.cases) + sum(len(s.values) for s in qdpx.sources)
    result.rows.append(("variable values", values, values - sum(unmapped.values()), sum(unmapped.values()),
                        "not a qualcode field: " + ", ".join(sorted(unmapped)) if unmapped else ""))
    return metas, partnerships, left


def _store_codes(session, qdpx: QdpxProject, coder: str, result: QdpxImport) -> dict[str, Code]:
    """The code tree, each code under its parent; names made valid keep the original as the title."""
    existing = set(code_paths(session).values())
    inductive = set(qdpx.sets.get(INDUCTIVE_SET, []))
    specs = code_specs(qdpx)
    codes, added, renamed, colours = {}, 0, [], []
    for code in qdpx.codes:
        spec = specs[tuple(code.names)]
        if spec.name != code.names[-1].lower():
            renamed.append(f"'{code.names[-1]}' -> {spec.path}")
        if code.colour and not spec.colour:
            colours.append(f"{spec.path} ({code.colour})")
        added += spec.path not in existing
        existing.add(spec.path)
        fields = {k: getattr(spec, k) for k in ("title", "definition", "include", "exclude", "example", "colour")}
        codes[code.guid] = ensure_code(session, spec.path, "inductive" if code.guid in inductive else "deductive",
                                       qdpx.users.get(code.author, coder), **fields)
    result.rows.append(("codes", len(qdpx.codes), added, 0,
                        f"{len(qdpx.codes) - added} already in the codebook, kept as they were" if len(qdpx.codes) > added else ""))
    if renamed:
        result.notes.append("code names made valid (the original is kept as the title): " + "; ".join(renamed))
    if colours:
        result.notes.append("colours not read (qualcode takes #rrggbb): " + ", ".join(colours))
    return codes


def code_specs(qdpx: QdpxProject) -> dict:
    """Each code's qualcode path and fields, by its names in the file (made valid: see `build_specs`)."""
    from qualcode.exchange.refi import parse_description

    return build_specs([(c.names, {**parse_description(c.description), "colour": c.colour}, None) for c in qdpx.codes])


def _store_codings(session, qdpx, ids, texts, codes, coder, result) -> None:
    """A coding for each code of each selection, by its coder; a selection without a code keeps its note as a memo."""
    have = set(session.execute(select(Coding.transcript_id, Coding.start, Coding.end, Coding.code_id, Coding.coder)))
    read = added = 0
    left: Counter = Counter()
    for source in qdpx.sources:
        transcript, text = ids[source.guid], texts[source.guid]
        marks = [(s, s.span, s.codings) for s in source.selections]
        marks += [(None, (0, len(text)), source.whole)] if source.whole else []
        for selection, (start, end), codings in marks:
            read += max(len(codings), 1)
            if start == end:
                left["a zero-length selection (a point, not a passage)"] += max(len(codings), 1)
                continue
            if not codings:
                if not (selection.notes or selection.description):
                    left["a selection with no code and no note"] += 1
                continue
            memo = selection_memo(qdpx, selection) if selection else None
            for code_guid, user in codings:
                code = codes.get(code_guid)
                if code is None:
                    left["a coding with a code not in the codebook"] += 1
                    result.notes.append(unknown_code(qdpx, source, selection, code_guid))
                    continue
                who = qdpx.users.get(user or (selection.author if selection else None), coder)
                key = (transcript, start, end, code.id, who)
                if key in have:
                    left["already stored (same span, code and coder)"] += 1
                    continue
                have.add(key)
                added += 1
                session.add(Coding(transcript_id=transcript, start=start, end=end, code_id=code.id, coder=who,
                                   origin="manual", memo=memo, quote=text[start:end],
                                   created_at=(selection.created if selection else None) or utcnow()))
    result.rows.append(("codings", read, added, sum(left.values()), "; ".join(f"{n} {why}" for why, n in left.items())))


def unknown_code(qdpx: QdpxProject, source, selection, code_guid: str) -> str:
    """Where a coding whose code the file's codebook lacks is, to find it in the other tool."""
    where = f"PlainTextSelection {selection.guid}" if selection else "Coding of the whole source"
    return (f"{qdpx.path}: TextSource '{source.name}' {where}: its code {code_guid} is not in the file's CodeBook:"
            " left out (export again from the other tool with its codebook)")


def selection_memo(qdpx: QdpxProject, selection) -> str | None:
    texts = [selection.description] + [qdpx.notes[n].text for n in selection.notes if n in qdpx.notes]
    return "\n".join(t for t in texts if t) or None


def _store_memos(session, qdpx, ids, texts, codes, left, coder, result) -> None:
    """Notes and descriptions as memos on what they annotate; a note tied to nothing is a project memo."""
    targets = memo_targets(qdpx, ids, texts, lambda guid: str(codes[guid].id))
    have = set(session.execute(select(Memo.target_kind, Memo.target_id, Memo.text)))
    added = 0
    for kind, target, text, author, created in targets:
        if text and (kind, target, text) not in have:
            have.add((kind, target, text))
            session.add(Memo(target_kind=kind, target_id=target, text=text, author=qdpx.users.get(author, coder),
                             created_at=created or utcnow()))
            added += 1
    result.rows.append(("notes and descriptions", len(targets), added, len(targets) - added,
                        "empty, or the same memo is already stored" if len(targets) > added else ""))
    for name, why in left["cases"].items():
        result.notes.append(f"case '{name}': {why}")
    _other_rows(qdpx, result)


def memo_targets(qdpx: QdpxProject, ids: dict[str, str], texts: dict[str, str],
                 code_target: Callable[[str], str]) -> list[tuple[str, str | None, str, str | None, object]]:
    """(kind, target, text, author guid, created) of each note and description, on what it annotates: a code
    is named by `code_target(guid)`; a note tied to nothing, or to what qualcode has no memos on, is the project's."""
    targets: list[tuple[str, str | None, str, str | None, object]] = []
    used: set[str] = set()

    def note(kind: str, target: str | None, guid: str) -> None:
        if guid in qdpx.notes:
            used.add(guid)
            found = qdpx.notes[guid]
            targets.append((kind, target, found.text, found.author, found.created))

    for guid in qdpx.project_notes:
        note("project", None, guid)
    for code in qdpx.codes:
        for guid in code.notes:
            note("code", code_target(code.guid), guid)
    for source in qdpx.sources:
        for guid in source.notes:
            note("transcript", ids[source.guid], guid)
        if source.description:
            targets.append(("transcript", ids[source.guid], source.description, None, None))
        for selection in source.selections:
            used |= set(selection.notes)
            if not selection.codings and (selection.notes or selection.description):
                start, end = selection.span
                passage = texts[source.guid][start:end]
                targets.append(("transcript", ids[source.guid], f"On \"{passage}\": {selection_memo(qdpx, selection)}",
                                selection.author, selection.created))
    cases = {case.guid: case for case in qdpx.cases}
    for guid, target in qdpx.links:
        case = cases.get(target)
        kind = case_kind(case) if case else None
        if kind in ("school", "locality"):
            note(kind, case.name, guid)
    for case in qdpx.cases:
        if case.description and case_kind(case) in ("school", "locality"):
            targets.append((case_kind(case), case.name, case.description, None, None))
    for guid in qdpx.notes:
        if guid not in used:
            note("project", None, guid)
    return targets


def _other_rows(qdpx: QdpxProject, result: QdpxImport) -> None:
    result.rows.insert(0, ("sources (text)", len(qdpx.sources), len(result.transcripts), 0, ""))
    result.rows.insert(0, ("users", len(qdpx.users), len(qdpx.users), 0, "read as coders and memo authors"))
    known = [name for name in qdpx.sets if name == INDUCTIVE_SET or name.startswith(LOCALITY_SET)]
    if qdpx.sets:
        result.rows.append(("sets", len(qdpx.sets), len(known), len(qdpx.sets) - len(known),
                            "qualcode has no sets: a set is not a code, case or transcript" if len(known) < len(qdpx.sets) else ""))
        other = [f"'{name}'" for name in qdpx.sets if name not in known]
        if other:
            result.notes.append(f"{qdpx.path}: Set {', '.join(other)} left out (qualcode has no sets)")
    for what, count, why in qdpx.unsupported:
        result.rows.append((what, count, 0, count, why))
