"""Reading a `.qdpx` as the tools really write it, into plain records (`QdpxProject`) for `importer` to map.

Tolerated, because real files do it: `Sources/` capitalised (NVivo), a
`<ProjectName>.qde` and an absolute `basePath` (ATLAS.ti), GUIDs in either
case or in braces, a BOM before `<?xml`, CRLF sources, a source with only a
`richTextPath` (its .docx is read), missing optional attributes. Refused, with
the file and element named: not a zip, no `.qde`, XML that does not parse, a
selection without positions, a source whose text cannot be found.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree as ET

from qualcode.errors import Problem
from qualcode.ingest.transcript import converted, decode


@dataclass
class Note:
    guid: str
    text: str
    author: str | None
    created: dt.datetime | None


@dataclass
class CodeIn:
    guid: str
    parent: str | None
    names: list[str]
    description: str | None
    colour: str | None
    author: str | None
    notes: list[str]


@dataclass
class Selection:
    guid: str
    start: int
    end: int
    #: (code guid, user guid) of each `Coding` of the selection.
    codings: list[tuple[str, str | None]]
    author: str | None
    created: dt.datetime | None
    description: str | None
    notes: list[str]
    #: Where it is in the stored text, once the file's position convention is known.
    span: tuple[int, int] | None = None


@dataclass
class SourceIn:
    guid: str
    name: str
    #: The text as the file stores it (CRLF kept, BOM removed): positions count in it.
    raw: str
    selections: list[Selection]
    values: dict[str, object]
    description: str | None
    notes: list[str]
    #: `Coding`s on the whole source (code guid, user guid).
    whole: list[tuple[str, str | None]]
    origin: str


@dataclass
class CaseIn:
    guid: str
    name: str | None
    values: dict[str, object]
    sources: list[str]
    description: str | None


@dataclass
class QdpxProject:
    path: Path
    qde: str
    users: dict[str, str] = field(default_factory=dict)
    codes: list[CodeIn] = field(default_factory=list)
    sources: list[SourceIn] = field(default_factory=list)
    cases: list[CaseIn] = field(default_factory=list)
    notes: dict[str, Note] = field(default_factory=dict)
    #: (note guid, target guid) of each `Link` from a note.
    links: list[tuple[str, str]] = field(default_factory=list)
    #: name -> member guids of each `Set`.
    sets: dict[str, list[str]] = field(default_factory=dict)
    project_notes: list[str] = field(default_factory=list)
    #: What was read otherwise than the file says, and why (a code renamed apart from a sibling of its name).
    read_as: list[str] = field(default_factory=list)
    #: (element, how many, why) of what is read but has no place in qualcode.
    unsupported: list[tuple[str, int, str]] = field(default_factory=list)


def gid(value: str | None) -> str | None:
    """A GUID as compared: lower case, without braces (NVivo writes upper case, some tools braces)."""
    return value.strip().strip("{}").lower() if value else None


def when(value: str | None) -> dt.datetime | None:
    """An xsd:dateTime as naive UTC, as qualcode stores times; None if absent or unreadable."""
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment.astimezone(dt.timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment


def read_qdpx(path: Path) -> QdpxProject:
    if not path.is_file():
        raise Problem(path, None, None, "no such file; check the name and folder")
    if not zipfile.is_zipfile(path):
        raise Problem(path, None, None, "not a zip archive, so not a REFI-QDA project (a .qdpx is a zip of project.qde and its sources)")
    with zipfile.ZipFile(path) as archive:
        qde = _qde_name(path, archive)
        root = _parse(path, qde, archive.read(qde))
        project = QdpxProject(path, qde)
        files = _Files(path, archive, root.get("basePath"), project.read_as)
        for user in root.iterfind("Users/User"):
            project.users[gid(user.get("guid"))] = user.get("name") or user.get("id") or gid(user.get("guid"))
        for codes in root.iterfind("CodeBook/Codes"):
            _codes(codes, [], project)
        for note in root.iterfind("Notes/Note"):
            text = note.findtext("PlainTextContent") or (files.text(note, f"Note '{note.get('name')}'")
                                                         if note.get("plainTextPath") else note.findtext("Description"))
            project.notes[gid(note.get("guid"))] = Note(gid(note.get("guid")), (text or "").strip(),
                                                        gid(note.get("creatingUser")), when(note.get("creationDateTime")))
        variables = {gid(v.get("guid")): v.get("name") for v in root.iterfind("Variables/Variable")}
        for element in root.iterfind("Sources/*"):
            if element.tag == "TextSource":
                project.sources.append(_source(element, files, variables, len(project.sources) + 1))
        _cases_links_sets(root, project, variables)
    return project


def _qde_name(path: Path, archive: zipfile.ZipFile) -> str:
    """`project.qde`, or the one `.qde` ATLAS.ti names after the project."""
    names = [n for n in archive.namelist() if n.lower().endswith(".qde")]
    standard = [n for n in names if n.lower() == "project.qde"]
    if standard or len(names) == 1:
        return (standard or names)[0]
    found = f"several .qde files ({', '.join(names)})" if names else "no .qde file"
    raise Problem(path, None, None, f"not a REFI-QDA project: {found}; the project is described in one project.qde")


def _parse(path: Path, qde: str, data: bytes) -> ET.Element:
    """The `.qde` without its namespace (tools disagree on prefixes), tolerating a BOM before `<?xml`."""
    data = data.lstrip(b"\xef\xbb\xbf").lstrip()
    try:
        root = ET.fromstring(data)
    except ET.ParseError as error:
        raise Problem(f"{path}!{qde}", error.position[0], None, f"invalid XML: {error.msg}") from None
    for element in root.iter():
        element.tag = element.tag.rsplit("}", 1)[-1]
    if root.tag != "Project":
        raise Problem(f"{path}!{qde}", None, root.tag, "not a REFI-QDA project: the root element is not <Project>")
    return root


class _Files:
    """Source files by their REFI path: `internal://` in the zip (`sources/` or `Sources/`), `relative://`, `absolute://`."""

    def __init__(self, path: Path, archive: zipfile.ZipFile, base: str | None, notes: list[str]):
        self.path, self.archive, self.base, self.notes = path, archive, base, notes
        files = [n for n in archive.namelist() if not n.endswith("/")]
        self.by_path = {n.lower(): n for n in files}
        self.by_name: dict[str, list[str]] = {}
        for name in files:
            self.by_name.setdefault(PurePosixPath(name).name.lower(), []).append(name)

    def read(self, reference: str, element: str) -> bytes:
        """The file's bytes: at its path under `sources/` (any case), else the one file of its name anywhere in the zip."""
        scheme, _, rest = reference.partition("://")
        relative = (rest or reference).replace("\\", "/").lstrip("/")
        exact = self.by_path.get(f"sources/{relative}".lower()) or self.by_path.get(relative.lower())
        named = self.by_name.get(PurePosixPath(relative).name.lower(), [])
        if exact or len(named) == 1:
            return self.archive.read(exact or named[0])
        if named:
            raise Problem(self.path, None, element, f"its file '{reference}' is not at sources/{relative}, and the"
                                                    f" archive holds several of its name ({', '.join(named)})")
        candidates = [Path(rest)] if scheme == "absolute" else []
        if scheme in ("relative", "") and self.base:
            candidates.append(Path(self.base.removeprefix("absolute://")) / (rest or reference))
        for candidate in candidates:
            if candidate.is_file():
                return candidate.read_bytes()
        raise Problem(self.path, None, element, f"its file '{reference}' is neither in the archive nor on this computer")

    def text(self, element: ET.Element, label: str) -> str:
        """The plain text of a source or note; a `richTextPath` alone is read as Word paragraphs."""
        plain = element.get("plainTextPath")
        if plain:
            data = self.read(plain, label)
            if not data.strip():
                return ""
            text, encoding = decode(data, f"{self.path}!{plain}")
            self.notes += [f"{self.path}: {label} ({plain}): {note}" for note in converted(encoding)]
            return text
        rich = element.get("richTextPath")
        from qualcode.ingest.wordfiles import read_word_document

        with tempfile.TemporaryDirectory() as folder:
            document = Path(folder) / "source.docx"
            document.write_bytes(self.read(rich, label))
            return read_word_document(document)[1]


def _codes(parent: ET.Element, names: list[str], project: QdpxProject, parent_guid: str | None = None) -> None:
    """The codes below `parent`, each before its children; a second sibling of one name is kept apart, and said."""
    from qualcode.exchange.codebook_exchange import distinct_name

    siblings: dict[str, int] = {}
    for code in parent.iterfind("Code"):
        name = code.get("name") or "code"
        path = [*names, distinct_name(name, siblings)]
        if path[-1] != name:
            project.read_as.append(f"{project.path}: Code {code.get('guid')}: another code under "
                                 f"{'/'.join(names) or 'the top'} is also named '{name}': read as '{path[-1]}'")
        project.codes.append(CodeIn(
            gid(code.get("guid")), parent_guid, path, code.findtext("Description"), code.get("color"),
            gid(code.get("creatingUser")), [gid(n.get("targetGUID")) for n in code.iterfind("NoteRef")],
        ))
        _codes(code, path, project, gid(code.get("guid")))


def _values(element: ET.Element, variables: dict[str, str]) -> dict[str, object]:
    """Variable name -> value of an element's `VariableValue`s, typed as the file types them."""
    values = {}
    for value in element.iterfind("VariableValue"):
        ref = value.find("VariableRef")
        name = variables.get(gid(ref.get("targetGUID")) if ref is not None else None)
        for child in value:
            if child.tag != "VariableRef" and name:
                values[name] = _typed(child.tag, (child.text or "").strip())
    return values


def _typed(tag: str, text: str) -> object:
    if tag == "BooleanValue":
        return text.lower() in ("true", "1")
    if tag == "DateValue":
        return text[:10]
    return text


def _refs(element: ET.Element, tag: str) -> list[str]:
    return [gid(ref.get("targetGUID")) for ref in element.iterfind(tag)]


def _source(element: ET.Element, files: _Files, variables: dict[str, str], number: int) -> SourceIn:
    name = (element.get("name") or f"source {number}").strip()
    label = f"TextSource '{name}'"
    in_file = element.get("plainTextPath") or element.get("richTextPath")
    raw = files.text(element, label) if in_file else element.findtext("PlainTextContent")
    if raw is None:
        raise Problem(files.path, None, label, "no plainTextPath, richTextPath or PlainTextContent: no text to read")
    selections = []
    for selection in element.iterfind("PlainTextSelection"):
        where = f"{label} PlainTextSelection {selection.get('guid')}"
        try:
            start, end = int(selection.get("startPosition")), int(selection.get("endPosition"))
        except (TypeError, ValueError):
            raise Problem(files.path, None, where, "startPosition and endPosition must be whole numbers") from None
        selections.append(Selection(
            gid(selection.get("guid")), min(start, end), max(start, end),
            [(gid(c.find("CodeRef").get("targetGUID")), gid(c.get("creatingUser")))
             for c in selection.iterfind("Coding") if c.find("CodeRef") is not None],
            gid(selection.get("creatingUser")), when(selection.get("creationDateTime")),
            (selection.findtext("Description") or "").strip() or None, _refs(selection, "NoteRef"),
        ))
    whole = [(gid(c.find("CodeRef").get("targetGUID")), gid(c.get("creatingUser")))
             for c in element.iterfind("Coding") if c.find("CodeRef") is not None]
    return SourceIn(gid(element.get("guid")), name, raw, selections, _values(element, variables),
                    (element.findtext("Description") or "").strip() or None, _refs(element, "NoteRef"), whole,
                    element.get("plainTextPath") or element.get("richTextPath") or "PlainTextContent")


def _cases_links_sets(root: ET.Element, project: QdpxProject, variables: dict[str, str]) -> None:
    for case in root.iterfind("Cases/Case"):
        project.cases.append(CaseIn(gid(case.get("guid")), (case.get("name") or "").strip() or None,
                                    _values(case, variables), _refs(case, "SourceRef"),
                                    (case.findtext("Description") or "").strip() or None))
    for link in root.iterfind("Links/Link"):
        origin, target = gid(link.get("originGUID")), gid(link.get("targetGUID"))
        if origin in project.notes:
            project.links.append((origin, target))
        elif target in project.notes:
            project.links.append((target, origin))
    for element in root.iterfind("Sets/Set"):
        project.sets[element.get("name") or ""] = [gid(m.get("targetGUID")) for m in element if m.get("targetGUID")]
    project.project_notes = _refs(root, "NoteRef")
    other = [e for e in root.iterfind("Sources/*") if e.tag != "TextSource"]
    for kind in sorted({e.tag for e in other}):
        names = [f"'{e.get('name') or e.get('guid')}'" for e in other if e.tag == kind]
        project.unsupported.append((kind, len(names), "qualcode stores text transcripts only"))
        project.read_as.append(f"{project.path}: {kind} {', '.join(names)} left out (qualcode stores text transcripts only)")
    for tag in ("Graphs/Graph", "Cases/Case/SelectionRef", "Cases/Case/CodeRef"):
        count = len(root.findall(tag))
        if count:
            project.unsupported.append((tag.replace("/", " "), count, "qualcode has no place for it"))
