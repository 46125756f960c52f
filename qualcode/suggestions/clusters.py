"""Clusters of the passages no code covers yet: candidate codes the codebook has no words for.

A passage is a participant's turn (or a researcher's note of what they said,
the same passages `autocode` reads). It is *uncoded* when no coding of any
origin overlaps it: not by hand, not accepted, not suggested. Run `autocode`
first, or every passage its patterns would find counts as uncoded too.

Each uncoded passage becomes the lemmas of its content words (nouns, proper
nouns, verbs, adjectives; no stop words), from the parses `autocode` caches.
Passages with fewer than three are left out ("Yes, go ahead." has no topic), and
so are those sharing fewer than two with other passages (nothing to group them by).
Then, with scikit-learn:

* TF-IDF over those lemmas (a lemma must occur in two passages and in at most
  half of them; sublinear term frequency), reduced to at most 100 dimensions
  by truncated SVD and normalised (latent semantic analysis), so that passages
  using related words come close even when they share few of them;
* k-means (fixed seeds, so the same data always gives the same clusters) for
  each k from 2 to `max_clusters`, keeping the k with the best silhouette
  (cosine), unless the caller fixes k.

A cluster is labelled by the lemmas weighing most in its mean TF-IDF vector,
and its passages are ordered from the most typical (nearest its centre) on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qualcode.coding.manual import lines_of
from qualcode.ingest.transcript import line_starts

if TYPE_CHECKING:
    from qualcode.suggestions.nlp import Parsed

#: Parts of speech whose lemmas describe what a passage is about.
CONTENT_POS = frozenset({"NOUN", "PROPN", "VERB", "ADJ"})
MIN_TERMS = 3
MAX_CLUSTERS = 12
LABEL_TERMS = 3
#: What joins the lemmas of a label: "swimming / pool / lesson".
LABEL_SEPARATOR = " / "
LSA_DIMENSIONS = 100
#: Silhouettes are computed on a sample of this many passages at most (they cost n² otherwise).
SILHOUETTE_SAMPLE = 2000
SEED = 0


@dataclass(frozen=True)
class UncodedPassage:
    transcript: str
    school: str | None
    start: int
    end: int
    #: As `qualcode show` numbers them: ``12`` or ``12-18``.
    lines: str
    text: str
    terms: tuple[str, ...]


@dataclass
class Cluster:
    label: str
    terms: list[str]
    #: Most typical first.
    passages: list[UncodedPassage]
    #: Cosine similarity of each passage to the cluster's centre, in the same order.
    typicality: list[float]


def uncoded_passages(parsed: Sequence[Parsed], coded: dict[str, list[tuple[int, int]]]) -> list[UncodedPassage]:
    """The passages no coding overlaps (`coded`: transcript -> coded spans), with their content lemmas."""
    found = []
    for item in parsed:
        spans = coded.get(item.source.id, [])
        starts = line_starts(item.source.text)
        for passage, doc in zip(item.source.passages, item.docs):
            if any(start < passage.end and passage.start < end for start, end in spans):
                continue
            terms = tuple(
                token.lemma_.lower() for token in doc
                if token.pos_ in CONTENT_POS and token.is_alpha and not token.is_stop and len(token) > 2
            )
            if len(terms) >= MIN_TERMS:
                found.append(UncodedPassage(
                    item.source.id, item.source.school, passage.start, passage.end,
                    lines_of(item.source.text, passage.start, passage.end, starts),
                    item.source.text[passage.start : passage.end], terms,
                ))
    return found


def cluster_passages(
    passages: Sequence[UncodedPassage], clusters: int | None = None, min_size: int = 3, max_clusters: int = MAX_CLUSTERS
) -> list[Cluster]:
    """Group `passages` into `clusters` groups (None: the k from 2 to `max_clusters` with the best silhouette).

    Returns the groups of `min_size` passages or more, largest first.
    """
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    vectorizer = TfidfVectorizer(analyzer=_terms, min_df=2, max_df=0.5, sublinear_tf=True)
    try:
        weights = vectorizer.fit_transform(passages)
    except ValueError:  # no lemma in two passages (or no passages): nothing to group by
        return []
    # A passage sharing fewer than two of its lemmas with the others has nothing to be grouped by.
    shared = np.flatnonzero(weights.getnnz(axis=1) >= 2)
    passages, weights = [passages[i] for i in shared], weights[shared]
    if len(passages) < max(min_size, 3) or weights.shape[1] < 3:
        return []
    points = _semantic_space(weights)
    model = _kmeans(points, clusters) if clusters is not None else _best_kmeans(points, max_clusters)
    if model is None:
        return []
    vocabulary = vectorizer.get_feature_names_out()
    centres = normalize(model.cluster_centers_)
    found = []
    for number in range(model.n_clusters):
        members = np.flatnonzero(model.labels_ == number)
        if len(members) < min_size:
            continue
        mean = np.asarray(weights[members].mean(axis=0)).ravel()
        terms = [str(vocabulary[i]) for i in np.argsort(-mean, kind="stable")[:8] if mean[i] > 0]
        closeness = points[members] @ centres[number]
        order = np.argsort(-closeness, kind="stable")
        found.append(Cluster("", terms, [passages[members[i]] for i in order],
                             [round(max(float(closeness[i]), 0.0), 4) for i in order]))
    found.sort(key=lambda cluster: (-len(cluster.passages), cluster.terms))
    _label(found)
    return found


def _semantic_space(weights):
    """TF-IDF rows reduced by truncated SVD and normalised: latent semantic analysis."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    dimensions = min(LSA_DIMENSIONS, weights.shape[1] - 1, weights.shape[0] - 1)
    return normalize(TruncatedSVD(dimensions, random_state=SEED).fit_transform(weights))


def _kmeans(points, k: int):
    from sklearn.cluster import KMeans

    k = min(k, len(points) - 1)
    return KMeans(n_clusters=k, n_init=3, random_state=SEED).fit(points) if k >= 1 else None


def _best_kmeans(points, max_clusters: int):
    """The k-means of the k (2 to `max_clusters`) whose clusters are best separated (cosine silhouette; ties: fewer)."""
    from sklearn.metrics import silhouette_score

    sample = SILHOUETTE_SAMPLE if len(points) > SILHOUETTE_SAMPLE else None
    scored = []
    for k in range(2, min(max_clusters, len(points) - 1) + 1):
        model = _kmeans(points, k)
        if len(set(model.labels_)) > 1:
            quality = silhouette_score(points, model.labels_, metric="cosine", sample_size=sample, random_state=SEED)
            scored.append((quality, -k, model))
    return max(scored, key=lambda item: item[:2])[2] if scored else None


def _terms(passage: UncodedPassage) -> tuple[str, ...]:
    return passage.terms


def _label(clusters: list[Cluster]) -> None:
    """Name each cluster by its top lemmas, taking more of them where two names would be the same."""
    for count in range(LABEL_TERMS, 9):
        labels = [LABEL_SEPARATOR.join(cluster.terms[:count]) for cluster in clusters]
        if len(set(labels)) == len(labels) or count == 8:
            break
    seen: dict[str, int] = {}
    for cluster, label in zip(clusters, labels):
        seen[label] = seen.get(label, 0) + 1
        cluster.label = label if seen[label] == 1 else f"{label} ({seen[label]})"
