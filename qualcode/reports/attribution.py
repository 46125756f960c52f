"""Attribution lines: rendering them from a speaker's metadata, and reading what a written one says.

The project's format lives in `qualcode.toml` (`[attribution]`), by default
``{role}, {school_phrase}, Ofsted {ofsted}`` for school staff and
``{informant_phrase} interviewee`` for system informants. `render` is the one
place a line is made; `read` takes any line a person wrote ("Executive head,
secondary convertor academy, Ofsted RI.") and recovers the metadata it
states, with a note for each departure from the format, so that `qualcode
check` can say exactly what is wrong and what the line should be.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from rapidfuzz import fuzz, process

from qualcode.config import Settings, UnknownValue

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Speaker:
    """The metadata an attribution line states: a member of staff or a system informant."""

    role: str | None = None
    informant_kind: str | None = None
    phase: str | None = None
    school_type: str | None = None
    ofsted: str | None = None
    federation: bool = False

    @property
    def is_informant(self) -> bool:
        return self.informant_kind is not None


def speaker_for(participant) -> Speaker:
    """The `Speaker` of a stored `Participant` (with its school)."""
    return speaker_from(participant.is_system_informant, participant.informant_kind, participant.role,
                        participant.school)


def speaker_from(informant: bool, informant_kind: str | None, role: str | None, school) -> Speaker:
    """The `Speaker` of a participant's columns; `school` is anything with a school's phase, school_type, ofsted
    and federation (a `School`, or a row of them read without the ORM), or None."""
    if informant:
        return Speaker(informant_kind=informant_kind)
    return Speaker(
        role=role,
        phase=school.phase if school else None,
        school_type=school.school_type if school else None,
        ofsted=school.ofsted if school else None,
        federation=bool(school and school.federation),
    )


def render(settings: Settings, speaker: Speaker) -> str:
    """The attribution line for `speaker` in the project's format.

    A comma-separated part whose value is unknown (a school with no Ofsted
    grade yet) is left out rather than printed as a gap.
    """
    config = settings.attribution
    if speaker.is_informant:
        phrase = config["informant_phrase"].get(speaker.informant_kind, speaker.informant_kind)
        return _fill(config["informant"], {"informant_phrase": phrase})
    values = {"role": speaker.role, "ofsted": speaker.ofsted, "phase": speaker.phase, "school_phrase": _school_phrase(config, speaker)}
    return _fill(config["staff"], values)


def _school_phrase(config: dict, speaker: Speaker) -> str | None:
    if not speaker.school_type or not speaker.phase:
        return None
    phrase = config["school_phrase"].get(speaker.school_type, "{phase} " + speaker.school_type).format(phase=speaker.phase)
    if speaker.federation and phrase.endswith(" school"):
        phrase = phrase[: -len("school")] + config.get("federation_word", "federation")
    return phrase


def _fill(template: str, values: dict[str, str | None]) -> str:
    parts = [part for part in template.split(", ") if all(values.get(name) for name in _PLACEHOLDER.findall(part))]
    return ", ".join(part.format(**{k: v for k, v in values.items() if v}) for part in parts)


@dataclass
class Reading:
    """What a written attribution line states, and how it departs from the format."""

    line: str
    speaker: Speaker
    #: Human-readable notes: variants corrected, words dropped, parts missing.
    notes: list[str] = field(default_factory=list)
    #: Parts the line does not state (e.g. 'Ofsted grade'), which only the speaker's metadata can fill.
    missing: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missing


#: Words that may trail an attribution in a manuscript but are not part of it.
_TRAILERS = re.compile(r"\s*\((original emphasis|emphasis added|sic)\)\s*$", re.IGNORECASE)


def read(settings: Settings, line: str) -> Reading | None:
    """Read an attribution line; None if it does not look like one (no role or informant in it)."""
    text, notes = _strip_decoration(line)
    reading = _read_informant(settings, text) or _read_staff(settings, text)
    if reading is None:
        return None
    reading.line = line
    reading.notes[:0] = notes
    return reading


def _strip_decoration(line: str) -> tuple[str, list[str]]:
    notes = []
    text = line.strip()
    trailer = _TRAILERS.search(text)
    if trailer:
        notes.append(f"'{trailer.group(0).strip()}' does not belong on the attribution line")
        text = text[: trailer.start()]
    if text.startswith("(") and text.endswith(")"):
        notes.append("the line stands alone, without brackets")
        text = text[1:-1]
    if text.endswith("."):
        notes.append("no full stop at the end")
        text = text.rstrip(".")
    return text.strip(), notes


def _read_informant(settings: Settings, text: str) -> Reading | None:
    """'RSC interviewee', 'Regional School Commissioner', 'Local authority interviewee' ..."""
    core = re.sub(r"\s+interviewee$", "", text, flags=re.IGNORECASE).strip()
    names = _informant_names(settings)
    match = process.extractOne(core.lower(), list(names), scorer=fuzz.ratio, score_cutoff=88)
    if match is None:
        return None
    return Reading(text, Speaker(informant_kind=names[match[0]]))


def _informant_names(settings: Settings) -> dict[str, str]:
    """Every way of naming an informant kind (lower case) -> the kind."""
    vocab = settings.vocabularies
    names = {kind.lower(): kind for kind in vocab.values["informant_kind"]}
    names.update({alias.lower(): kind for alias, kind in vocab.aliases.get("informant_kind", {}).items()})
    names.update({phrase.lower(): kind for kind, phrase in settings.attribution["informant_phrase"].items()})
    # What `--coarsen` calls any informant whose kind would single them out ('System informant interviewee').
    coarse = settings.raw.get("anonymise", {}).get("coarse_informant") or "System informant"
    names.setdefault(coarse.lower(), coarse)
    return names


def _read_staff(settings: Settings, text: str) -> Reading | None:
    vocab = settings.vocabularies
    reading = Reading(text, Speaker())
    role, rest = _role(settings, text, reading)
    if role is None:
        return None
    lowered = rest.lower()
    phase = next((p for p in vocab.values["phase"] if re.search(rf"\b{re.escape(p)}\b", lowered)), None)
    reading.speaker = Speaker(
        role=role,
        phase=phase,
        school_type=_school_type(settings, lowered, reading),
        ofsted=_ofsted(settings, rest, reading),
        federation="federation" in lowered,
    )
    for label, value in [("school phase", phase), ("school type", reading.speaker.school_type),
                         ("Ofsted grade", reading.speaker.ofsted)]:
        if value is None and label not in reading.missing:
            reading.missing.append(label)
    return reading


def _role(settings: Settings, text: str, reading: Reading) -> tuple[str | None, str]:
    """The role at the start of the line (or inside it, as in 'primary head'), and the rest."""
    vocab = settings.vocabularies
    names = {r.lower(): r for r in vocab.values["role"]}
    names.update({a.lower(): r for a, r in vocab.aliases.get("role", {}).items()})
    first, _, rest = text.partition(",")
    lowered = first.strip().lower()
    for name in sorted(names, key=len, reverse=True):
        if lowered == name or re.search(rf"(^|\s){re.escape(name)}$", lowered):
            role = names[name]
            written = first.strip()[len(first.strip()) - len(name):]
            if written != role:
                reading.notes.append(f"'{written}' is written '{role}'")
            leftover = lowered[: len(lowered) - len(name)].strip()
            return role, ", ".join(filter(None, [leftover, rest.strip()]))
    match = process.extractOne(lowered, list(names), scorer=fuzz.ratio, score_cutoff=80)
    if match:
        reading.notes.append(f"'{first.strip()}' is not a known role; did you mean '{names[match[0]]}'?")
        return names[match[0]], rest.strip()
    return None, text


_TYPE_WORDS = [
    ("voluntary aided", r"\bvoluntary[- ]aided\b|\bVA\b"),
    ("voluntary controlled", r"\bvoluntary[- ]controlled\b|\bVC\b"),
    ("foundation", r"\bfoundation\b"),
    ("free school", r"\bfree school\b"),
    ("sponsored academy", r"\bsponsored\b"),
    ("converter academy", r"\bconver[st]or\b|\bconverter\b|\bconversion\b"),
    ("maintained", r"\bmaintained\b|\bcommunity\b"),
]


def _school_type(settings: Settings, lowered: str, reading: Reading) -> str | None:
    for school_type, pattern in _TYPE_WORDS:
        if re.search(pattern, lowered, flags=re.IGNORECASE):
            if "convertor" in lowered:
                reading.notes.append("'convertor' is spelt 'converter'")
            return school_type
    if "academy" in lowered:
        reading.missing.append("school type")
        reading.notes.append("'academy' alone does not say whether it is a converter or a sponsored academy")
    return None


def _ofsted(settings: Settings, rest: str, reading: Reading) -> str | None:
    match = re.search(r"\bofsted\b\s*(.*)$", rest, flags=re.IGNORECASE)
    if not match:
        return None
    written = match.group(1).strip(" ,")
    try:
        grade = settings.vocabularies.resolve("ofsted", written)
    except UnknownValue as exc:
        reading.notes.append(str(exc))
        if exc.suggestion is None:
            reading.missing.append("Ofsted grade")
        return exc.suggestion
    if written != grade:
        reading.notes.append(f"'Ofsted {written}' is written 'Ofsted {grade}'")
    return grade


def corrected(settings: Settings, reading: Reading, truth: Speaker | None = None) -> str | None:
    """The line in the project's format: from what it states, with gaps filled from `truth` if known."""
    speaker = reading.speaker
    if truth is not None and speaker.is_informant == truth.is_informant:
        fill = {name: getattr(truth, name) for name in ("phase", "school_type", "ofsted") if getattr(speaker, name) is None}
        speaker = replace(speaker, **fill)
    elif not reading.complete:
        return None
    return render(settings, speaker)
