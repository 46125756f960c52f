"""`qualcode autocode`, `suggest`, `evaluate`: deductive and inductive suggestions with spaCy.

spaCy is imported inside the library calls only, so loading this module costs
nothing to the commands that never use it.
"""

from pathlib import Path
from typing import Annotated

import typer

from qualcode.cli._console import terminal
from qualcode.cli._util import (
    CoderOption, JsonOption, ProjectOption, complete_code_name, default_coder, open_project, warn_unread,
)


def autocode_cli(
    codes: Annotated[str | None, typer.Option("--codes", help="Only codes matching this path or glob (e.g. markets, 'markets/*').", autocompletion=complete_code_name)] = None,
    transcript: Annotated[list[str] | None, typer.Option("--transcript", help="Only this transcript (repeatable).")] = None,
    accept: Annotated[bool, typer.Option("--accept", help="Store the suggestions as accepted codings.")] = False,
    min_score: Annotated[float | None, typer.Option("--min-score", min=0.0, max=1.0, help="Leave out passages scoring less (0-1; default 0 for pattern suggestions, 0.2 for learned ones).", show_default=False)] = None,
    coder: Annotated[str, typer.Option("--coder", help="Name the suggestions are stored under.")] = "autocode",
    learn: Annotated[bool, typer.Option("--learn", help="Also suggest from models trained on the manual and accepted codings (coder 'learned').")] = False,
    project: ProjectOption = None,
) -> None:
    """Suggest codes for passages from the codebook's patterns (replaces this coder's earlier suggestions)."""
    from qualcode.suggestions.matching import has_patterns

    opened = open_project(project)
    if learn and not has_patterns(opened):
        terminal.info("no code has patterns: suggesting from the learned models only")
    else:
        _from_patterns(opened, transcript or None, codes, accept, min_score or 0.0, coder)
    if learn:
        _learn(opened, transcript or None, min_score)
    warn_unread(opened, transcript, "suggested")


def _from_patterns(opened, transcripts: list[str] | None, codes: str | None, accept: bool, min_score: float,
                   coder: str) -> None:
    from qualcode.suggestions.autocode import autocode

    with terminal.progress("autocode") as progress:
        report = autocode(opened, transcripts, codes, accept, min_score, coder, progress)
    rows = sorted(report.per_code.items())
    if rows:
        terminal.table(f"{report.suggestions} {report.origin} codings", ["code", "passages"], rows)
    terminal.info(
        f"{report.suggestions} passages {report.origin} in {report.transcripts} transcripts "
        f"({report.words:,} words; {report.parsed} parsed, {report.cached} from the cache; "
        f"{report.replaced} earlier suggestions replaced)"
    )


def _learn(opened, transcripts: list[str] | None, min_score: float | None) -> None:
    from qualcode.suggestions.learning import LEARNED, MIN_EXAMPLES, MIN_SCORE, learn

    floor = MIN_SCORE if min_score is None else min_score
    with terminal.progress("learn") as progress:
        learned = learn(opened, transcripts, floor, progress)
    terminal.info(f"learned from {learned.trained_on} coded turns: {len(learned.modelled)} codes modelled; "
                  f"{learned.suggestions} uncoded turns suggested (coder '{LEARNED}')")
    if learned.held_back:
        terminal.info(f"{learned.held_back} learned suggestions scoring under {floor:g} held back "
                      "(they are rarely right; '--min-score 0' keeps them)")
    if learned.too_few:
        listed = ", ".join(f"{path} ({n})" for path, n in learned.too_few.items())
        terminal.warn(f"not modelled, fewer than {MIN_EXAMPLES} coded turns (or too few without them): {listed}")


def suggest_cli(
    by: Annotated[str | None, typer.Option("--by", help="Phrases ranked by keyness per locality, phase or role against the rest (no clusters).")] = None,
    top: Annotated[int, typer.Option("--top", min=1, help="How many phrases (per group with --by).")] = 20,
    clusters: Annotated[int | None, typer.Option("--clusters", min=0, help="How many clusters of uncoded passages to make (default: the number that groups them best; 0: none).", show_default=False)] = None,
    create: Annotated[str | None, typer.Option("--create", help="Turn this phrase, or this cluster's label, into a code (with --as).")] = None,
    as_code: Annotated[str | None, typer.Option("--as", help="Path of the code --create makes, e.g. equity/winners-losers/left-behind.")] = None,
    as_json: JsonOption = False,
    coder: CoderOption = None,
    project: ProjectOption = None,
) -> None:
    """Candidate new codes: quoted, repeated and noun phrases the codebook does not cover yet, and clusters of uncoded passages."""
    opened = open_project(project)
    if create is not None:
        _create(opened, create, as_code, coder or default_coder(), clusters)
        return
    from dataclasses import asdict

    from qualcode.suggestions.inductive import suggest

    with terminal.progress("suggest") as progress:
        candidates = suggest(opened, by, top, progress=progress, clusters=clusters)
    if as_json:
        terminal.json([asdict(candidate) for candidate in candidates])
        return
    columns = ["phrase", "kind", "freq", "transcripts", "schools", "example"]
    if by:
        columns[:0] = ["group", "G2"]
    terminal.table(f"{len(candidates)} candidate codes", columns, [_row(c, bool(by)) for c in candidates])


def _row(candidate, grouped: bool) -> list:
    example = candidate.examples[0] if candidate.examples else None
    where = f"{example['transcript']}:{example['lines']}" if example else ""
    row = [candidate.phrase, candidate.kind, candidate.frequency, candidate.transcripts, candidate.schools, where]
    return [candidate.group, candidate.keyness, *row] if grouped else row


def _create(opened, phrase: str, code: str | None, coder: str, clusters: int | None) -> None:
    from qualcode.suggestions.inductive import create_candidate

    if not code:
        raise typer.BadParameter("--create needs --as CODE, the path of the new code")
    created = create_candidate(opened, phrase, code, coder, clusters)
    terminal.info(f"created inductive code {created.code} with {created.suggestions} suggested passages")


def evaluate_cli(
    gold: Annotated[Path | None, typer.Option("--gold", help="Gold coding CSV: transcript,start,end,code.", exists=True, dir_okay=False)] = None,
    cv: Annotated[int | None, typer.Option("--cv", min=2, help="Instead: K-fold cross-validation of the learned models on the project's own manual and accepted coding.")] = None,
    as_json: JsonOption = False,
    project: ProjectOption = None,
) -> None:
    """Precision, recall and F1 of the suggestions against a gold coding, per top-level theme and overall."""
    if cv is not None:
        _cross_validate(open_project(project), cv, as_json)
        return
    if gold is None:
        raise typer.BadParameter("give --gold FILE (a gold coding) or --cv K (cross-validate on the project's own coding)")
    from qualcode.suggestions.evaluation import evaluate

    result = evaluate(open_project(project), gold)
    if as_json:
        terminal.json(result)
        return
    rows = [(theme, *_figures(figures)) for theme, figures in [*result["per_code"].items(), ("overall", result["overall"])]]
    columns = ["theme", "precision", "recall", "F1", "suggested", "correct", "gold", "found"]
    terminal.table(f"{result['suggestions']} suggestions against {result['gold']} gold passages in {result['transcripts']} transcripts", columns, rows)
    if result["unplaced"]:
        terminal.warn(f"{result['unplaced']} unplaced suggestions left out (their words were not found when their transcript"
                      " was re-imported); 'qualcode codings --unplaced' lists them")


def _figures(figures: dict) -> list:
    return [f"{figures['precision']:.3f}", f"{figures['recall']:.3f}", f"{figures['f1']:.3f}",
            figures["suggested"], figures["correct"], figures["gold"], figures["found"]]


def _cross_validate(opened, folds: int, as_json: bool) -> None:
    from qualcode.suggestions.learning import MIN_EXAMPLES, cross_validate

    with terminal.progress("cross-validate") as progress:
        result = cross_validate(opened, folds, progress)
    if as_json:
        terminal.json(result)
        return
    rows = [(path, f"{f['precision']:.3f}", f"{f['recall']:.3f}", f"{f['f1']:.3f}", f"{f['kappa']:.3f}", f["coded"])
            for path, f in result["per_code"].items()]
    terminal.table(f"{folds}-fold cross-validation on {result['turns']} turns of {result['transcripts']} coded transcripts",
                   ["code", "precision", "recall", "F1", "kappa", "coded turns"], rows)
    if result["too_few"]:
        listed = ", ".join(f"{path} ({n})" for path, n in result["too_few"].items())
        terminal.warn(f"not modelled, fewer than {MIN_EXAMPLES} coded turns (or too few without them): {listed}")
