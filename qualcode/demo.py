"""The main job on the bundled corpus: what `make demo` shows a newcomer."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from qualcode.config import SETTINGS_FILE
from qualcode.corpus import Progress, import_paths
from qualcode.overview import corpus_stats
from qualcode.project import Project, init_project


@dataclass
class DemoResult:
    stats: dict
    written: list[Path] = field(default_factory=list)


def run_demo(project_dir: Path, transcripts: Path, reports: Path, progress: Progress | None = None) -> DemoResult:
    """Init (or reuse) the project, import the corpus, write `reports/corpus-stats.json`."""
    if (project_dir / SETTINGS_FILE).exists():
        project = Project.open(project_dir)
    else:
        project = init_project(project_dir)
    import_paths(project, [transcripts], progress=progress)
    result = DemoResult(corpus_stats(project))
    reports.mkdir(parents=True, exist_ok=True)
    stats_path = reports / "corpus-stats.json"
    stats_path.write_text(json.dumps(result.stats, indent=2) + "\n", encoding="utf-8")
    result.written.append(stats_path)
    return result
