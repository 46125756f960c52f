"""REFI-QDA exchange: the codebook format `.qdc` read by NVivo, ATLAS.ti, MAXQDA and QualCoder.

The schemas ship in `qualcode/data/refi/` (MIT, from the REFI initiative; see
their headers) and every file qualcode writes is validated against them
before it is left on disk.
"""

from __future__ import annotations

import re
import uuid
from importlib import resources
from pathlib import Path
from xml.etree import ElementTree as ET

from qualcode.coding.codebook_file import Codebook, CodeSpec
from qualcode.errors import QualcodeError

CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
#: GUIDs are derived from code paths, so re-exporting gives the same ids to the same codes.
GUID_NAMESPACE = uuid.UUID("5b1f0d4e-8c1a-4b7e-9a53-7c0f2a4d9e11")


def guid(kind: str, key: str) -> str:
    return str(uuid.uuid5(GUID_NAMESPACE, f"{kind}:{key}"))


def schema(name: str):
    import xmlschema  # validating against the REFI XSDs; imported only when exporting

    return xmlschema.XMLSchema(str(resources.files("qualcode").joinpath("data", "refi", name)))


#: Characters XML 1.0 cannot hold: control characters such as the vertical tab Word leaves for Shift+Enter.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(root: ET.Element) -> int:
    """Write every character XML cannot hold, in any text or attribute under `root`, as a space; return how many
    (the caller says so): otherwise the file cannot be written, or no tool can read it."""
    replaced = 0
    for element in root.iter():
        for name, value in element.attrib.items():
            element.attrib[name], count = NOT_XML.subn(" ", value)
            replaced += count
        for part in ("text", "tail"):
            value = getattr(element, part)
            if value:
                clean, count = NOT_XML.subn(" ", value)
                setattr(element, part, clean)
                replaced += count
    return replaced


def write_qdc(book: Codebook, path: Path) -> Path:
    """Write `book` as a REFI-QDA codebook and validate it; a file that fails is not left behind."""
    for spec in book.codes:  # refused, not changed: a codebook is short, and its words are the research
        for name in ("name", "title", "definition", "include", "exclude", "example"):
            if (found := NOT_XML.search(getattr(spec, name) or "")) is not None:
                raise QualcodeError(f"{path}: code {spec.path}: its {name} holds the control character U+{ord(found.group()):04X}"
                                    " (Word leaves U+000B for Shift+Enter), which XML cannot hold; correct it in the"
                                    " codebook YAML ('codebook export FILE.yaml'), load that, and export again")
    ET.register_namespace("", CODEBOOK_NS)
    root = ET.Element(f"{{{CODEBOOK_NS}}}CodeBook", {"origin": "qualcode"})
    codes = ET.SubElement(root, f"{{{CODEBOOK_NS}}}Codes")
    elements: dict[str | None, ET.Element] = {None: codes}
    for spec in book.codes:
        elements[spec.path] = code_element(elements[spec.parent], spec)
    tmp = path.with_suffix(path.suffix + ".tmp")
    path.parent.mkdir(parents=True, exist_ok=True)  # as every table export does
    ET.ElementTree(root).write(tmp, encoding="utf-8", xml_declaration=True)
    errors = list(schema("Codebook.xsd").iter_errors(str(tmp)))
    if errors:
        tmp.unlink()
        raise QualcodeError(f"{path}: the codebook does not validate against Codebook.xsd: {errors[0].reason}")
    tmp.replace(path)
    return path


def code_element(parent: ET.Element, spec: CodeSpec, namespace: str = CODEBOOK_NS) -> ET.Element:
    """A `Code` with its description; a `.qdpx` project writes the same element in its own namespace."""
    attributes = {"guid": guid("code", spec.path), "name": spec.name, "isCodable": "true"}
    if spec.colour:
        attributes["color"] = spec.colour
    element = ET.SubElement(parent, f"{{{namespace}}}Code", attributes)
    description = describe(spec)
    if description:
        ET.SubElement(element, f"{{{namespace}}}Description").text = description
    return element


#: The labels a code's description gives its parts, in order; a definition alone is written bare.
DESCRIPTION_LABELS = ("Title", "Definition", "Include", "Exclude", "Example")


def describe(spec: CodeSpec) -> str:
    """A code's title, definition, include, exclude and example as one REFI description."""
    parts = [spec.title, spec.definition, spec.include, spec.exclude, spec.example]
    if spec.definition and not any([spec.title, spec.include, spec.exclude, spec.example]):
        return spec.definition
    return "\n\n".join(
        f"{label}: {text}"
        for label, text in zip(DESCRIPTION_LABELS, parts) if text
    )


def parse_description(text: str | None) -> dict[str, str]:
    """The fields of a description `describe` wrote; any other description is a definition."""
    if not text or not text.strip():
        return {}
    pattern = r"(?:^|\n\n)(" + "|".join(DESCRIPTION_LABELS) + r"): "
    pieces = re.split(pattern, text.strip())
    if pieces[0].strip() or len(pieces) < 3:
        return {"definition": text.strip()}
    return {label.lower(): value.strip() for label, value in zip(pieces[1::2], pieces[2::2])}


def read_qdc(path: Path) -> list[tuple[str, str | None]]:
    """(path, description) of each code in a `.qdc` file, parents first: for checking exports."""
    root = ET.parse(path).getroot()
    found: list[tuple[str, str | None]] = []

    def walk(element: ET.Element, prefix: str) -> None:
        for code in element.findall(f"{{{CODEBOOK_NS}}}Code"):
            name = code.get("name")
            full = f"{prefix}/{name}" if prefix else name
            found.append((full, code.findtext(f"{{{CODEBOOK_NS}}}Description")))
            walk(code, full)

    walk(root.find(f"{{{CODEBOOK_NS}}}Codes"), "")
    return found
