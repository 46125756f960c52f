"""Suggestions learned from the team's own coding: one calibrated model per code with enough examples.

Why: the codebook's patterns know the words its authors thought of; a team's
manual and accepted codings show how its own interviewees talk. A turn is
described by the lemmas of its content words, their bigrams, and one feature
per code whose patterns hit it (``pattern:<path>``), so what the patterns know
is kept and weighed by what the team did. Each code (and theme) with at least
`MIN_EXAMPLES` coded turns, and as many without, gets a logistic regression
whose scores are calibrated (Platt scaling, `CalibratedClassifierCV`), so a
score of 0.8 means about four in five such turns carry the code. A turn's
labels are the codes of the training codings overlapping it, with their
ancestors (a turn coded ``markets/competition`` is about markets).

Learned suggestions are stored under the coder `LEARNED`, apart from the
pattern-based ones (coder ``autocode``): one per uncoded participant turn,
the theme the models find likeliest and within it the deepest code scoring at
least one half, its score the calibrated probability.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import select

from qualcode.coding.blind import visible
from qualcode.errors import QualcodeError
from qualcode.suggestions.matching import CodebookMatcher, Suggestion, trimmed, select_codes
from qualcode.models import UNPLACED, Coding
from qualcode.suggestions.nlp import Progress, load_pipeline, processes, read_sources
from qualcode.suggestions.parallel import map_parsed
from qualcode.analysis.overview import code_paths
from qualcode.project import Project

if TYPE_CHECKING:
    from spacy.tokens import Doc

LEARNED = "learned"
#: Fewer coded turns than this (or fewer turns without the code) and a code is not modelled.
MIN_EXAMPLES = 5
TRAINING_ORIGINS = ("manual", "accepted")
#: A code within the chosen theme is suggested from this calibrated probability on.
CODE_THRESHOLD = 0.5
#: How many of a suggestion's strongest features are kept as its evidence.
EVIDENCE_FEATURES = 3
#: Training words times codes, divided by this, is weighed like words to parse by `processes`: fitting is
#: cheaper per word than parsing, and a second (joblib) process only pays for a bundled-corpus-sized training.
TRAINING_WORDS_PER_WORD = 10
#: Learned suggestions scoring less are held back unless a lower ``--min-score`` asks for them. In the
#: reliability table of ``benchmarks/learned.py`` (bundled corpus, trained on the Eastern locality) the 879
#: suggestions under 0.2 had a theme the gold coding has there 1 time in 100; those of 0.2-0.4, 39 in 100.
MIN_SCORE = 0.2


@dataclass
class Turn:
    """A participant's turn as the models see it: where it is, its features, and the codes coded on it."""

    transcript: str
    start: int
    end: int
    features: str
    labels: set[str] = field(default_factory=set)
    coded: bool = False


@dataclass
class Prediction:
    turn: Turn
    path: str
    score: float
    probabilities: dict[str, float]
    evidence: list[str]


@dataclass
class Models:
    """The fitted vectoriser and one calibrated classifier per modelled code path."""

    vectorizer: object
    classifiers: dict[str, object]
    too_few: dict[str, int]

    def probabilities(self, turns: list[Turn]) -> list[dict[str, float]]:
        if not turns or not self.classifiers:
            return [{} for _ in turns]
        return self._probabilities(self.vectorizer.transform([turn.features for turn in turns]))

    def _probabilities(self, matrix) -> list[dict[str, float]]:
        """Each row's probability per modelled code: one `predict_proba` per code for all rows at once."""
        columns = {path: model.predict_proba(matrix)[:, 1] for path, model in self.classifiers.items()}
        return [{path: round(float(column[i]), 4) for path, column in columns.items()} for i in range(matrix.shape[0])]

    def predict(self, turns: list[Turn]) -> list[Prediction]:
        """Each turn's likeliest theme and, within it, the deepest code scoring at least `CODE_THRESHOLD`.

        The turns are vectorised once, and the evidence read from the same rows.
        """
        if not turns or not self.classifiers:
            return []
        matrix = self.vectorizer.transform([turn.features for turn in turns]).tocsr()
        names = self.vectorizer.get_feature_names_out()
        coefficients: dict[str, object] = {}
        found = []
        for i, (turn, probabilities) in enumerate(zip(turns, self._probabilities(matrix))):
            themes = {path: p for path, p in probabilities.items() if "/" not in path}
            if not themes:
                continue
            theme = max(sorted(themes), key=themes.__getitem__)
            inside = [path for path, p in probabilities.items()
                      if path.startswith(theme + "/") and p >= CODE_THRESHOLD]
            path = max(sorted(inside), key=lambda p: (p.count("/"), probabilities[p]), default=theme)
            if path not in coefficients:
                coefficients[path] = self._coefficients(path)
            row = slice(matrix.indptr[i], matrix.indptr[i + 1])
            evidence = _strongest(names, matrix.indices[row], matrix.data[row], coefficients[path])
            found.append(Prediction(turn, path, probabilities[path], probabilities, evidence))
        return found

    def _coefficients(self, path: str):
        """The code's model's coefficients, averaged over its calibrated folds."""
        model = self.classifiers[path]
        return sum(c.estimator.coef_[0] for c in model.calibrated_classifiers_) / len(model.calibrated_classifiers_)


def _strongest(names, columns, values, coefficients) -> list[str]:
    """Of a row's features (`columns` with `values`), the `EVIDENCE_FEATURES` that raise the score most."""
    weights = {names[j]: value * coefficients[j] for j, value in zip(columns, values)}
    strongest = sorted((w, n) for n, w in weights.items() if w > 0)[::-1][:EVIDENCE_FEATURES]
    return [name for _, name in strongest]


def read_turns(project: Project, transcripts: list[str] | None = None, progress: Progress | None = None) -> list[Turn]:
    """Every participant turn of `transcripts` (default all) with its features and its training codes: in a blind
    round, only the codings its coder may see, so what is learned cannot pass on a colleague's hidden coding."""
    with project.session() as session:
        sources = read_sources(session, transcripts)
        paths = code_paths(session)
        try:
            patterned = select_codes(session, None)
        except QualcodeError:
            patterned = {}
        codings = session.execute(
            select(Coding.transcript_id, Coding.start, Coding.end, Coding.code_id).where(
                Coding.origin.in_(TRAINING_ORIGINS), Coding.anchor != UNPLACED,
                Coding.transcript_id.in_([s.id for s in sources]), visible(project))
        ).all()
    coded: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for transcript, start, end, code_id in codings:
        coded[transcript].append((start, end, paths[code_id]))
    matcher = CodebookMatcher(load_pipeline(), patterned, paths) if patterned else None
    described = lambda parsed: [  # noqa: E731 - run in the parsing processes
        (*trimmed(parsed.source.text, passage.start, passage.end), _features(doc, matcher))
        for passage, doc in zip(parsed.source.passages, parsed.docs)]
    turns = []
    for source, described_turns in zip(sources, map_parsed(project, sources, described, progress)):
        for start, end, features in described_turns:
            turn = Turn(source.id, start, end, features)
            for s, e, path in coded[source.id]:
                if s < end and start < e:
                    turn.coded = True
                    turn.labels.update(_with_ancestors(path))
            turns.append(turn)
    return turns


def _features(doc: Doc, matcher: CodebookMatcher | None) -> str:
    """Lemmas of the content words, then one ``pattern:<path>`` token per code whose patterns hit the turn."""
    words = [t.lemma_.lower() for t in doc if t.is_alpha and not t.is_stop]
    hits = [f"pattern:{matcher.paths[code_id]}" for code_id in sorted(matcher.evidence(doc))] if matcher else []
    return " ".join(words + hits)


def _with_ancestors(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]


def _label_counts(turns: list[Turn]) -> dict[str, int]:
    """How many of `turns` carry each code."""
    counts: dict[str, int] = defaultdict(int)
    for turn in turns:
        for label in turn.labels:
            counts[label] += 1
    return counts


def train(turns: list[Turn]) -> Models:
    """Fit the vectoriser on the coded turns' features and a calibrated model per code with enough examples."""
    from joblib import Parallel, delayed
    from sklearn.feature_extraction.text import TfidfVectorizer

    training = [turn for turn in turns if turn.coded]
    counts = _label_counts(training)
    enough = sorted(p for p, n in counts.items() if n >= MIN_EXAMPLES and len(training) - n >= MIN_EXAMPLES)
    too_few = {p: n for p, n in sorted(counts.items()) if p not in enough}
    if not enough:
        return Models(None, {}, too_few)
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, token_pattern=r"\S+", sublinear_tf=True)
    matrix = vectorizer.fit_transform([turn.features for turn in training])
    targets = [[path in turn.labels for turn in training] for path in enough]
    jobs = processes(sum(len(turn.features.split()) for turn in training) * len(enough) // TRAINING_WORDS_PER_WORD)
    fitted = Parallel(n_jobs=jobs)(delayed(_fit)(matrix, target) for target in targets)
    return Models(vectorizer, dict(zip(enough, fitted)), too_few)


def _fit(matrix, target: list[bool]):
    """One code's calibrated model (in a worker process of joblib's where there are two)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression

    model = CalibratedClassifierCV(LogisticRegression(max_iter=2000, class_weight="balanced"), method="sigmoid", cv=3)
    return model.fit(matrix, target)


@dataclass
class LearnReport:
    modelled: list[str]
    too_few: dict[str, int]
    trained_on: int
    suggestions: int = 0
    #: Uncoded turns whose best learned suggestion scored under the run's minimum, so was not stored.
    held_back: int = 0
    predictions: list[Prediction] = field(default_factory=list)


def learn(project: Project, transcripts: list[str] | None = None, min_score: float = MIN_SCORE,
          progress: Progress | None = None) -> LearnReport:
    """Train on the project's manual and accepted codings; suggest a code for each uncoded turn of `transcripts`.

    The models are trained on every transcript's coded turns; suggestions are
    made for the turns of `transcripts` (default all) that no manual or
    accepted coding overlaps, replacing the earlier learned suggestions there.
    Those scoring under `min_score` are held back (counted in the report): see `MIN_SCORE`.
    """
    from qualcode.suggestions.autocode import AutocodeReport, store_run

    turns = read_turns(project, None, progress)
    models = train(turns)
    report = LearnReport(sorted(models.classifiers), models.too_few, sum(t.coded for t in turns))
    if not models.classifiers:
        raise QualcodeError(
            f"too few coded turns to learn from: no code has {MIN_EXAMPLES} coded turns (and as many without it); "
            "code more turns by hand or accept suggestions in 'qualcode tag', then run 'qualcode autocode --learn' again")
    wanted = set(transcripts) if transcripts else None
    open_turns = [t for t in turns if not t.coded and (wanted is None or t.transcript in wanted)]
    predicted = models.predict(open_turns)
    predictions = [p for p in predicted if p.score >= min_score]
    report.held_back = len(predicted) - len(predictions)
    with project.session() as session:
        ids = {path: code_id for code_id, path in code_paths(session).items()}
        sources = read_sources(session, sorted({t.transcript for t in turns if wanted is None or t.transcript in wanted}))
    found = [Suggestion(p.turn.transcript, p.turn.start, p.turn.end, ids[p.path], p.score, tuple(p.evidence))
             for p in predictions]
    store_run(project, sources, found, sorted(ids[path] for path in models.classifiers), LEARNED,
              f"autocode --learn {len(sources)} transcripts", AutocodeReport())
    report.suggestions, report.predictions = len(found), predictions
    return report


def cross_validate(project: Project, folds: int, progress: Progress | None = None) -> dict:
    """Precision, recall, F1 and Cohen's kappa per modelled code, from `folds`-fold cross-validation by transcript.

    Only transcripts with at least one manual or accepted coding take part (their
    uncoded turns count as carrying no code). Each fold's models are trained on
    the other folds' transcripts; a turn is predicted to carry a code when its
    calibrated score is at least one half.
    """
    from sklearn.metrics import cohen_kappa_score, precision_recall_fscore_support
    from sklearn.model_selection import GroupKFold

    turns = read_turns(project, None, progress)
    coded_transcripts = {t.transcript for t in turns if t.coded}
    turns = [t for t in turns if t.transcript in coded_transcripts]
    for turn in turns:
        turn.coded = True  # within a coded transcript an uncoded turn is a turn without any code
    if len(coded_transcripts) < folds:
        raise QualcodeError(f"--cv {folds} needs at least {folds} transcripts with manual or accepted codings; "
                            f"this project has {len(coded_transcripts)}")
    predicted: dict[str, list[bool]] = defaultdict(lambda: [False] * len(turns))
    modelled: set[str] = set()
    splitter = GroupKFold(n_splits=folds)
    for train_index, test_index in splitter.split(turns, groups=[t.transcript for t in turns]):
        models = train([turns[i] for i in train_index])
        modelled.update(models.classifiers)
        held = [turns[i] for i in test_index]
        for i, probabilities in zip(test_index, models.probabilities(held)):
            for path, p in probabilities.items():
                predicted[path][i] = p >= 0.5
    per_code = {}
    for path in sorted(modelled):
        truth = [path in t.labels for t in turns]
        precision, recall, f1, _ = precision_recall_fscore_support(truth, predicted[path], average="binary",
                                                                   zero_division=0)
        per_code[path] = {"precision": round(float(precision), 4), "recall": round(float(recall), 4),
                          "f1": round(float(f1), 4), "kappa": round(float(cohen_kappa_score(truth, predicted[path])), 4),
                          "coded": sum(truth)}
    counts = _label_counts(turns)
    return {"folds": folds, "transcripts": len(coded_transcripts), "turns": len(turns), "per_code": per_code,
            "too_few": {p: n for p, n in sorted(counts.items()) if p not in modelled}}
