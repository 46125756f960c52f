"""Which files an import reads: transcripts and the metadata files beside them, and every other file
listed with the reason it was skipped, so nothing in a corpus folder is passed over without a word."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from qualcode.errors import ImportFailed, Problem
from qualcode.ingest.captions import CAPTION_SUFFIXES
from qualcode.ingest.sheets import SHEET_FILES

TRANSCRIPT_SUFFIXES = (".txt", ".md", ".docx", *CAPTION_SUFFIXES)
SCHOOL_FILES = ("schools.yaml", "schools.yml", "schools.csv")
PARTNERSHIP_FILES = ("partnerships.yaml", "partnerships.yml", "partnerships.csv")
#: Files in a corpus folder that are read as metadata, so never listed as skipped.
METADATA_FILES = (*SCHOOL_FILES, *PARTNERSHIP_FILES, *SHEET_FILES)


class Skipped(NamedTuple):
    """A file in an imported folder that qualcode did not read, and why."""

    path: Path
    reason: str


def collect_files(paths: list[Path]) -> tuple[list[Path], list[Path], list[Path], list[Path], list[Skipped]]:
    """Transcripts to import, the metadata files that go with them, and the files skipped.

    A folder brings every transcript and `schools.*`/`partnerships.*`/`participants.*`
    file below it, and lists every other file with the reason it was not read; a
    single file brings the metadata files in its folder and the folder above
    (where a corpus keeps `partnerships.yaml`).
    """
    transcripts: list[Path] = []
    folders: set[Path] = set()
    skipped: list[Skipped] = []
    problems = []
    for path in paths:
        if path.is_dir():
            found, below = _walk(path, skipped)
            transcripts += found
            folders |= {path, *below}
        elif not path.exists():
            problems.append(Problem(path, None, None, "no such file or folder"))
        elif path.name in METADATA_FILES:
            folders.add(path.parent)
        elif path.suffix.lower() not in TRANSCRIPT_SUFFIXES:
            table = " (a table of codings? 'qualcode import --codings FILE')" if path.suffix.lower() in (".csv", ".xlsx") else ""
            problems.append(Problem(path, None, None, f"not a transcript: expected a {_suffix_list(' or ')} file{table}"))
        else:
            transcripts.append(path)
            folders |= {path.parent, path.parent.parent}
    if problems:
        raise ImportFailed(problems)
    schools = _metadata_files(folders, SCHOOL_FILES)
    partnerships = _metadata_files(folders, PARTNERSHIP_FILES)
    return list(dict.fromkeys(transcripts)), schools, partnerships, _metadata_files(folders, SHEET_FILES), skipped


def _walk(folder: Path, skipped: list[Skipped]) -> tuple[list[Path], list[Path]]:
    """The transcripts and folders below `folder`; other files go into `skipped` with the reason.

    A hidden folder (`.git`, `.Trash`) is listed once, not file by file.
    """
    transcripts: list[Path] = []
    folders: list[Path] = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            skipped.append(Skipped(path, "hidden folder" if path.is_dir() else "hidden file"))
        elif path.is_dir():
            found, below = _walk(path, skipped)
            transcripts += found
            folders += [path, *below]
        elif (reason := _skip_reason(path)) is not None:
            skipped.append(Skipped(path, reason))
        elif path.suffix.lower() in TRANSCRIPT_SUFFIXES:
            transcripts.append(path)
    return transcripts, folders


def _skip_reason(path: Path) -> str | None:
    """Why a file in an imported folder is not read; None for transcripts and metadata files."""
    suffix = path.suffix.lower()
    if path.name.upper().startswith("README"):
        return "a README, not a transcript"
    if path.name.startswith("~$"):
        return "Word's lock file for a document that is open"
    if path.name in METADATA_FILES or suffix in TRANSCRIPT_SUFFIXES or _is_sidecar(path):
        return None
    if suffix in (".yaml", ".yml"):
        return f"no transcript named '{path.stem}' beside it, so not a sidecar (a sidecar is NAME.yaml beside NAME.txt)"
    what = f"unknown extension '{path.suffix}'" if path.suffix else "no extension"
    return f"{what} (qualcode reads {_suffix_list(', ')})"


def _is_sidecar(path: Path) -> bool:
    """A `<name>.yaml` beside a transcript `<name>.*` holds that transcript's metadata."""
    return path.suffix == ".yaml" and any(path.with_suffix(suffix).is_file() for suffix in TRANSCRIPT_SUFFIXES)


def _suffix_list(last: str) -> str:
    """'.txt, .md, .docx, .vtt, .srt', or with `last` ' or ' before the final one."""
    return ", ".join(TRANSCRIPT_SUFFIXES[:-1]) + last + TRANSCRIPT_SUFFIXES[-1]


def _metadata_files(folders: set[Path], names: tuple[str, ...]) -> list[Path]:
    found = {(folder / name).resolve() for folder in folders for name in names if (folder / name).is_file()}
    return sorted(found)
