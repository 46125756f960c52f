"""Pseudonymised exports of transcripts, and small cells: attributions that point to one school or person.

The identity key and the pseudonymising itself are in `qualcode.privacy.pseudonyms`; finding
names the key lacks is `qualcode.privacy.namescan`.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from qualcode.reports.attribution import Speaker, render, speaker_for
from qualcode.config import Settings
from qualcode.errors import QualcodeError
from qualcode.models import Participant, School, Transcript
from qualcode.project import Project
from qualcode.privacy.pseudonyms import Matcher, Replacement, anonymise_settings, load_key

Progress = Callable[[int, int], None]


@dataclass
class ExportReport:
    """What an export wrote: files, and how many names of each kind were replaced."""

    folder: Path
    files: list[Path]
    replaced: Counter


def export_anonymised(project: Project, out_dir: Path, progress: Progress | None = None) -> ExportReport:
    """Fully pseudonymised copies of every transcript, for sharing or a data archive; the stored ones are untouched.

    Each file keeps the transcript format (front matter with the pseudonymised
    ids only, then the body) so it can be imported again. ``replacements.csv``
    gives each replaced span's offsets in the original and its replacement,
    never the original words; ``summary.csv`` counts replacements per kind. The
    written text is checked for leaks before anything is kept.
    """
    matcher = load_key(project).matcher()
    out_dir.mkdir(parents=True, exist_ok=True)
    report = ExportReport(out_dir, [], Counter())
    rows = []
    query = (select(Transcript).order_by(Transcript.id)
             .options(selectinload(Transcript.participant).selectinload(Participant.school)))
    with project.session(commit=False) as session:
        transcripts = session.scalars(query).all()
        for done, transcript in enumerate(transcripts, 1):
            replacements = _export_one(matcher, transcript, out_dir, report)
            rows += [(transcript.id, r.start, r.end, r.replacement, r.kind, round(r.score, 1)) for r in replacements]
            if progress:
                progress(done, len(transcripts))
    _write_csv(out_dir / "replacements.csv", ("transcript", "start", "end", "replacement", "kind", "score"), rows)
    _write_csv(out_dir / "summary.csv", ("kind", "replaced"), sorted(report.replaced.items()))
    return report


def _export_one(matcher: Matcher, transcript: Transcript, out_dir: Path, report: ExportReport) -> list[Replacement]:
    """Write one pseudonymised transcript, refusing if any name (in any case) survived."""
    text, replacements = matcher.pseudonymise(transcript.text)
    if matcher.matches(text):
        raise QualcodeError(f"{transcript.id}: a name is still present after pseudonymisation; the file was not written")
    path = out_dir / transcript.participant.locality_name.lower() / f"{transcript.id}.md"
    path.parent.mkdir(exist_ok=True)
    path.write_text(_front_matter(transcript) + text, encoding="utf-8")
    report.files.append(path)
    report.replaced.update(r.kind for r in replacements)
    return replacements


def _front_matter(transcript: Transcript) -> str:
    """The pseudonymised ids and coded metadata a transcript file carries; no names are stored in them."""
    participant = transcript.participant
    fields = {
        "id": transcript.id,
        "participant": participant.id,
        "school": participant.school_id,
        "locality": participant.locality_name,
        "role": participant.role,
        "informant_kind": participant.informant_kind,
        "date": transcript.interview_date,
        "kind": transcript.kind,
    }
    return "---\n" + "".join(f"{name}: {value}\n" for name, value in fields.items() if value) + "---\n"


def _write_csv(path: Path, header: tuple[str, ...], rows: Iterable[tuple]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


# Small cells -----------------------------------------------------------------------


@dataclass(frozen=True)
class SmallCell:
    """A speaker (or a school) whose attribution, read with the locality, points to fewer schools or people
    than is safe."""

    participant: str
    locality: str
    attribution: str
    count: int
    #: What `participant` names: a 'person' (a participant id) or a 'school' (a school id).
    unit: str = "person"

    @property
    def finding(self) -> str:
        """What is small: 'EAS-S02: 'secondary converter academy, Ofsted Outstanding' in Eastern fits 1 school'."""
        noun = self.unit if self.count == 1 else "schools" if self.unit == "school" else "people or schools"
        return f"{self.participant}: '{self.attribution}' in {self.locality} fits {self.count} {noun}"

    @property
    def message(self) -> str:
        return f"{self.finding}; use --coarsen or check the quote does not identify them"


def small_cells(project: Project, speakers: Iterable[str]) -> list[SmallCell]:
    """Participants (by id) whose attribution line, read with their locality, fits too few schools or people.

    A member of staff is counted with the schools of the locality that the
    line describes (phase, type, grade); an informant with the informants of
    the locality whose line is the same ('RSC interviewee' in Eastern is one
    person). The smallest safe cell is `[anonymise] min_cell_size` (default 2).
    """
    wanted = set(speakers)
    minimum, settings = min_cell_size(project), project.settings
    with project.session(commit=False) as session:
        participants, cells = _cells(session, settings)
        return [SmallCell(p.id, p.locality_name, render(settings, speaker_for(p)), len(cells[_cell(settings, p)]))
                for p in participants if p.id in wanted and len(cells[_cell(settings, p)]) < minimum]


def small_school_cells(project: Project, schools: Iterable[str]) -> list[SmallCell]:
    """Schools (by id) that are small cells by the same rule: what an attribution line says about the school
    (phase, type, grade), read with its locality, fits fewer than `min_cell_size` schools there."""
    wanted = set(schools)
    minimum, settings = min_cell_size(project), project.settings
    with project.session(commit=False) as session:
        _, cells = _cells(session, settings)
        found = []
        for school in session.scalars(select(School).where(School.id.in_(wanted)).order_by(School.id)):
            line = render(settings, _school_speaker(school))
            if len(cells[(school.locality_name, line)]) < minimum:
                found.append(SmallCell(school.id, school.locality_name, line, len(cells[(school.locality_name, line)]), "school"))
        return found


def min_cell_size(project: Project) -> int:
    """`[anonymise] min_cell_size`: the fewest schools or people a published line or cell may point to (default 2)."""
    return int(anonymise_settings(project).get("min_cell_size", 2))


def _cells(session, settings: Settings) -> tuple[list[Participant], dict[tuple[str, str], set[str]]]:
    """Every participant, and the members of each cell: (locality, what a line says about the school) -> the
    schools it fits; for informants, (locality, their whole line) -> the informants it fits."""
    participants = session.scalars(select(Participant).options(selectinload(Participant.school))).all()
    cells: dict[tuple[str, str], set[str]] = defaultdict(set)
    for school in session.scalars(select(School)):
        cells[(school.locality_name, render(settings, _school_speaker(school)))].add(school.id)
    for participant in participants:
        if participant.school is None:
            cells[_cell(settings, participant)].add(participant.id)
    return participants, cells


def _school_speaker(school: School) -> Speaker:
    return Speaker(phase=school.phase, school_type=school.school_type, ofsted=school.ofsted, federation=school.federation)


def _cell(settings: Settings, participant: Participant) -> tuple[str, str]:
    """Locality and what the attribution line says about the school (or, for informants, the whole line)."""
    speaker = _school_speaker(participant.school) if participant.school else speaker_for(participant)
    return participant.locality_name, render(settings, speaker)


def coarsen(speaker: Speaker, settings: Settings | None = None) -> Speaker:
    """A speaker too vague to single anyone out: staff keep only their role ('Headteacher');
    every informant becomes `[anonymise] coarse_informant` ('System informant interviewee')."""
    if speaker.is_informant:
        coarse = settings.raw.get("anonymise", {}).get("coarse_informant") if settings else None
        return Speaker(informant_kind=coarse or "System informant")
    return Speaker(role=speaker.role)
