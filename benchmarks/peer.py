"""The peer CLI qc (``qualitative-coding`` on the package index) beside qualcode, for benchmarks/run.py.

qc is installed into a throwaway venv, given the same transcripts (the texts
qualcode stored, one .txt file each, as qc's verbatim importer takes them) and
the same manual codings (qc codes lines, so each coding becomes the lines it
spans), then the six operations of issue 14 are timed on both, best of three
wall seconds through each console script (the import once, on a fresh project).
If qc cannot be installed here, the lines returned say so and why.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from benchmarks.run import REPEAT, command, qualcode, settle

#: The version measured in issue 14.
PACKAGE = "qualitative-coding==1.7.8"
CODER = "research-team"
#: A command slower than this is run once: another run would not change its ratio much.
ONCE = 10.0
LOAD_CODINGS = """
import json, sys
from qualitative_coding.corpus import QCCorpus
corpus = QCCorpus("settings.yaml")
with corpus.session():
    for document, lines in json.load(open(sys.argv[1])).items():
        corpus.update_coded_lines(document, sys.argv[2], lines)
"""


def compare(folder: Path, project_root: Path, seconds: dict[str, float], venv: Path | None = None) -> list[str]:
    """Markdown lines: qc and qualcode side by side on the project at `project_root` (bundled corpus, SQLite).

    qc is installed into a new venv in `folder`, unless `venv` names one that has it already.
    """
    folder.mkdir(parents=True)
    origin = f"{PACKAGE} in a throwaway venv"
    if venv is not None and (venv / "bin" / "qc").exists():
        origin = f"{PACKAGE} from the package index, in a venv an earlier run made ({venv})"
    else:
        venv = folder / "venv"
        failed = _install(venv)
        if failed is not None:
            return ["## Peer: qc", "", f"qc could not be installed here ({PACKAGE}): {failed}", ""]
    qc = str(venv / "bin" / "qc")
    work = folder / "project"
    work.mkdir()
    texts, codings, leaf = _export(project_root, folder / "texts")
    command([qc, "init"], cwd=work)
    imported = command([qc, "corpus", "import", "--recursive", "--importer", "verbatim", str(folder / "texts")],
                       cwd=work)
    (folder / "codings.json").write_text(json.dumps(codings), encoding="utf-8")
    command([str(venv / "bin" / "python"), "-c", LOAD_CODINGS, str(folder / "codings.json"), CODER], cwd=work)
    codes = sorted({c["code_id"] for lines in codings.values() for c in lines})
    operations = [
        ("import the corpus", None, None),
        ("code stats (`codebook show`)", ["codes", "stats"], ["codebook", "show"]),
        ("codes by document (`query framework --by participant`)", ["codes", "stats", "--by-document"],
         ["query", "framework", "--by", "participant"]),
        ("co-occurrence (`query cooccur`)", ["codes", "crosstab", *codes], ["query", "cooccur"]),
        (f"a code's passages (`query find {leaf}`)", ["codes", "find", _qc_name(leaf)], ["query", "find", leaf]),
        ("`--help`", ["--help"], ["--help"]),
    ]
    rows, waited = [], settle()  # the install, the import and loading the codings leave disk writes behind
    for label, theirs, ours in operations:
        if theirs is None:
            peer, own = imported.wall, seconds["import"]
        else:
            peer = _best(lambda: command([qc, *theirs], cwd=work).wall)
            own = _best(lambda: qualcode(*ours, project=project_root).wall)
        rows.append(f"| {label} | {peer:.2f} s | {own:.2f} s | {peer / own:.1f}× |")
        print(f"  peer: {label:<60} qc {peer:6.2f} s  qualcode {own:6.2f} s  x{peer / own:.1f}", flush=True)
    lines = sum(len(v) for v in codings.values())
    return [
        "## Peer: qc", "",
        f"{origin}, on the same {texts} transcripts and {lines:,} coded lines"
        " (qualcode's manual codings of the bundled corpus, as the lines they span); best of"
        f" {REPEAT} wall seconds (one run of the import, and of a command over {ONCE:.0f} s), after waiting"
        f" {waited:.0f} s for the machine to settle (`settle` in benchmarks/run.py)."
        " Target: qualcode at least 5× faster on each.", "",
        "| operation | qc | qualcode | qc/qualcode |", "|---|---|---|---|", *rows, "",
    ]


def _best(run) -> float:
    """Best of `REPEAT` wall seconds, or the one run of a command that takes over `ONCE` seconds."""
    times = [run()]
    while times[0] <= ONCE and len(times) < REPEAT:
        times.append(run())
    return min(times)


def _install(venv: Path) -> str | None:
    """Create the venv and install qc from the package index; the reason it failed, or None."""
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, text=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", PACKAGE], check=True, capture_output=True,
                       text=True, timeout=900)
    except subprocess.CalledProcessError as exc:
        return (exc.stderr or exc.stdout or str(exc)).strip().splitlines()[-1]
    except subprocess.TimeoutExpired:
        return "pip install took over 15 minutes"
    return None


def _qc_name(path: str) -> str:
    return path.replace("/", ".")


def _export(project_root: Path, folder: Path) -> tuple[int, dict[str, list[dict]], str]:
    """Write each transcript's text for qc; its codings as coded lines; the leaf code coded most often."""
    from sqlalchemy import select

    from qualcode.models import Coding, Transcript
    from qualcode.analysis.overview import code_paths
    from qualcode.project import Project

    project = Project.open(project_root)
    with project.session() as session:
        paths = code_paths(session)
        texts = dict(session.execute(select(Transcript.id, Transcript.text)).all())
        rows = session.execute(select(Coding.transcript_id, Coding.start, Coding.end, Coding.code_id).where(
            Coding.origin == "manual", Coding.coder == CODER)).all()
    project.close()
    folder.mkdir(parents=True)
    for transcript, text in texts.items():
        (folder / f"{transcript}.txt").write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    coded: dict[str, set[tuple[int, str]]] = {}
    for transcript, start, end, code_id in rows:
        text, name = texts[transcript], _qc_name(paths[code_id])
        first, last = text.count("\n", 0, start), text.count("\n", 0, max(start, end - 1))
        coded.setdefault(f"{transcript}.txt", set()).update((line, name) for line in range(first, last + 1))
    leaves = {p for p in paths.values() if not any(q.startswith(p + "/") for q in paths.values())}
    leaf = Counter(paths[c] for *_, c in rows if paths[c] in leaves).most_common(1)[0][0]
    codings = {doc: [{"line": line, "code_id": name} for line, name in sorted(lines)] for doc, lines in coded.items()}
    return len(texts), codings, leaf
