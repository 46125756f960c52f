"""The main job on the bundled corpus: what `make demo` shows a newcomer.

A research team's path through the study, in order: import the transcripts,
load the identity key and the codebook, let autocode suggest codes and measure
them against the gold coding, take the team's own coding (the corpus's gold
file, standing in for two years of fieldwork), then write the case studies,
quote banks and matrices, each checked before it is written.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from qualcode.config import SETTINGS_FILE
from qualcode.ingest.corpus import Progress, import_paths
from qualcode.analysis.overview import corpus_stats
from qualcode.project import Project, init_project

#: Who the demo's coding is credited to.
TEAM = "research-team"
DEMO_CODER = "demo"


@dataclass
class DemoResult:
    stats: dict
    evaluation: dict = field(default_factory=dict)
    written: list[Path] = field(default_factory=list)


def run_demo(
    project_dir: Path,
    transcripts: Path,
    reports: Path,
    codebook: Path,
    progress: Progress | None = None,
    step: Callable[[str], None] | None = None,
) -> DemoResult:
    """Run every stage on the corpus in `transcripts` (with its identity key and gold coding) into `reports`."""
    announce = step or (lambda _: None)
    project = Project.open(project_dir) if (project_dir / SETTINGS_FILE).exists() else init_project(project_dir)
    try:
        return _run(project, transcripts, reports, codebook, progress, announce)
    finally:
        project.close()


def _run(project: Project, transcripts: Path, reports: Path, codebook: Path, progress: Progress | None,
         announce: Callable[[str], None]) -> DemoResult:
    from qualcode.suggestions.autocode import autocode
    from qualcode.privacy.pseudonyms import load_key
    from qualcode.coding.codebook import load_codebook_file
    from qualcode.suggestions.evaluation import evaluate
    from qualcode.exchange.coding_tables import import_codings
    from qualcode.reports.render import render_demo_reports

    announce("importing the transcripts")
    import_paths(project, [transcripts], progress=progress)
    announce("loading the identity key and the codebook")
    key = load_key(project)
    key.import_csv(transcripts / "identity-key.csv")
    key.save()
    load_codebook_file(project, codebook, DEMO_CODER)
    announce("suggesting codes (autocode)")
    autocode(project, progress=progress)
    result = DemoResult(corpus_stats(project), evaluate(project, transcripts / "gold-codings.csv"))
    announce("taking the team's coding")
    import_codings(project, transcripts / "gold-codings.csv", TEAM)
    announce("writing and checking the reports")
    reports.mkdir(parents=True, exist_ok=True)
    result.written = render_demo_reports(project, reports, progress=progress)
    result.stats = corpus_stats(project)
    result.written += [
        _write_json(reports / "corpus-stats.json", result.stats),
        _write_json(reports / "autocode-evaluation.json", result.evaluation),
    ]
    return result


def _write_json(path: Path, data: dict) -> Path:
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path
