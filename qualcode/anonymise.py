"""Anonymisation: the identity key, finding names, pseudonymising text, leak checks and small cells.

Interviewees were promised anonymity, but the talk names heads, schools,
towns and trusts. The stored transcripts stay as they were (researchers need
the originals); whatever leaves the tool goes through
`IdentityKey.pseudonymise`. The key is the one file holding real names, so it
lives beside the project rather than in the database (which a team may share
on a server), owner-only (0600) and git-ignored, and nothing here ever writes
a real name into a report, an export or a message.
"""

from __future__ import annotations

import csv
import io
import itertools
import os
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from qualcode.attribution import Speaker, render, speaker_for
from qualcode.config import Settings
from qualcode.speakers import known_labels
from qualcode.errors import ImportFailed, Problem, QualcodeError
from qualcode.models import Participant, School, Transcript
from qualcode.nlp import PIPELINE
from qualcode.project import Project, ignore_private_files

if TYPE_CHECKING:
    from spacy.language import Language

Progress = Callable[[int, int], None]

KEY_FILE = "identity-key.csv"
COLUMNS = ("name", "kind", "variants", "replacement", "refers_to")
KINDS = ("person", "school", "place", "organisation", "partnership")
TITLES = ("Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "Prof", "Sir", "Dame")

#: Words that end a school's, partnership's or council's full name and that people drop in speech.
SCHOOL_SUFFIXES = ("School", "Academy", "College", "Primary", "Junior", "Infant", "Infants", "High", "Secondary",
                   "Community", "Grammar", "Special", "C of E", "CofE", "CE", "Catholic", "RC")
PARTNERSHIP_SUFFIXES = ("Trust", "Learning", "Education", "Teaching", "School", "Schools", "Alliance",
                        "Family of Schools", "Cluster", "cluster", "Partnership", "Community", "Federation")
COUNCIL_SUFFIXES = ("Council", "City", "County", "Borough", "District", "Metropolitan")
#: Words a school's short name takes in speech: 'Violet Lane' is also 'Violet Lane School'.
SCHOOL_WORDS = ("School", "Academy", "Primary")
ARTICLES = ("the", "a", "an")


# The identity key ----------------------------------------------------------------


@dataclass
class KeyEntry:
    """One real name, the other forms it is written in, and what replaces it."""

    name: str
    kind: str
    variants: list[str] = field(default_factory=list)
    replacement: str = ""
    refers_to: str = ""

    def listed_forms(self) -> list[str]:
        """The name and the variants the researcher listed: what must never leave the tool."""
        return list(dict.fromkeys([self.name, *self.variants]))

    def forms(self) -> list[str]:
        """The listed forms, then those derived from the name (surname, 'Mrs H.', short school names)."""
        return list(dict.fromkeys([*self.listed_forms(), *derived_forms(self.name, self.kind)]))


@dataclass
class IdentityKey:
    """The project's identity key: real names and their replacements, kept in `path` (CSV, 0600)."""

    path: Path | None
    entries: list[KeyEntry] = field(default_factory=list)
    settings: dict = field(default_factory=dict)
    _matcher: Matcher | None = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.entries)

    def find(self, name: str, kind: str) -> KeyEntry | None:
        return next((e for e in self.entries if e.name == name and e.kind == kind), None)

    def add(self, name: str, kind: str, variants: Iterable[str] = (), replacement: str | None = None,
            refers_to: str = "") -> KeyEntry:
        """Add an entry, or merge new variants into the entry of the same name and kind.

        An entry added without a replacement gets the kind's numbered
        placeholder (``[person 3]``), so each person stays distinct.
        """
        name, variants = name.strip(), [v.strip() for v in variants if v.strip()]
        if kind not in KINDS:
            raise QualcodeError(f"'{kind}' is not a kind of name; use one of {', '.join(KINDS)}")
        if not name:
            raise QualcodeError("a key entry needs a name")
        entry = self.find(name, kind)
        if entry is not None:
            if replacement and replacement != entry.replacement:
                raise QualcodeError(f"this {kind} is already in the key with another replacement")
            entry.variants = list(dict.fromkeys([*entry.variants, *variants]))
            self._matcher = None
            return entry
        entry = KeyEntry(name, kind, list(dict.fromkeys(variants)), replacement or self._placeholder(kind), refers_to)
        self.entries.append(entry)
        self._matcher = None
        return entry

    def _placeholder(self, kind: str) -> str:
        template = self.settings.get("placeholders", {}).get(kind, f"[{kind} {{n}}]")
        taken = {e.replacement for e in self.entries}
        return next(p for n in itertools.count(1) if (p := template.format(n=n)) not in taken)

    def import_csv(self, path: Path) -> int:
        """Add every row of an identity-key CSV; raise `ImportFailed` naming each bad file:line:field."""
        rows, problems = _read_key_csv(path)
        for line, row in rows:
            try:
                self.add(row["name"], row["kind"], row["variants"].split(";"), row["replacement"] or None,
                         row["refers_to"])
            except QualcodeError as exc:
                problems.append(Problem(path, line, "replacement", str(exc)))
        if problems:
            raise ImportFailed(problems)
        return len(rows)

    def save(self) -> Path:
        """Write the key owner-only (0600, also when it already existed) and keep it out of git."""
        if self.path is None:
            raise QualcodeError("this key has no file to save to")
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(COLUMNS)
        for e in self.entries:
            writer.writerow([e.name, e.kind, ";".join(e.variants), e.replacement, e.refers_to])
        _write_private(self.path, buffer.getvalue())
        ignore_private_files(self.path.parent)
        return self.path

    def matcher(self) -> Matcher:
        """The key compiled for matching; built once, again only after an entry changes."""
        if self._matcher is None:
            self._matcher = Matcher(self.entries, self.settings)
        return self._matcher

    def pseudonymise(self, text: str) -> tuple[str, list[Replacement]]:
        """`text` with every name in the key replaced; the replacements name no original."""
        return self.matcher().pseudonymise(text)


def _read_key_csv(path: Path) -> tuple[list[tuple[int, dict]], list[Problem]]:
    """The rows (with their file line) and the problems of an identity-key CSV."""
    from qualcode.transcript import read_text

    try:
        text, _ = read_text(path)  # a key saved from Excel is often Windows-1252
    except OSError as exc:
        raise ImportFailed([Problem(path, None, None, f"cannot read the key: {exc.strerror}")]) from None
    except Problem as problem:
        raise ImportFailed([problem]) from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("name", "kind") if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportFailed([Problem(path, 1, None, f"missing column(s): {', '.join(missing)}; expected {','.join(COLUMNS)}")])
    rows, problems = [], []
    for row in reader:
        line = reader.line_num
        row = {c: (row.get(c) or "").strip() for c in COLUMNS}
        if not row["name"]:
            problems.append(Problem(path, line, "name", "empty name"))
        elif row["kind"] not in KINDS:
            problems.append(Problem(path, line, "kind", f"'{row['kind']}' is not one of {', '.join(KINDS)}"))
        else:
            rows.append((line, row))
    return rows, problems


def _write_private(path: Path, text: str) -> None:
    """Write `text` to a file only its owner can read, replacing it atomically."""
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)
    os.chmod(path, 0o600)


def anonymise_settings(project: Project) -> dict:
    return project.settings.raw.get("anonymise", {})


def load_key(project: Project) -> IdentityKey:
    """The project's identity key (empty if it has none yet)."""
    key = IdentityKey(project.root / KEY_FILE, settings=anonymise_settings(project))
    if key.path.exists():
        key.import_csv(key.path)
    return key


# Forms of a name ---------------------------------------------------------------


def derived_forms(name: str, kind: str) -> list[str]:
    """The forms people use for a name without spelling it out: 'Mrs H.', 'Hollis', 'Violet Lane'."""
    if kind == "person":
        return _person_forms(name)
    if kind == "school":
        return [f"{stem} {word}" if word else stem for stem in _stems(name, SCHOOL_SUFFIXES) for word in ("", *SCHOOL_WORDS)]
    if kind == "partnership":
        return _stems(name, PARTNERSHIP_SUFFIXES)
    if kind == "organisation" and name.endswith(" Council"):
        return [f for stem in _stems(name, COUNCIL_SUFFIXES) for f in (stem, f"{stem} council")]
    return []


def _person_forms(name: str) -> list[str]:
    """First name, surname, title + surname or initial (any title: the key may not know it), initials."""
    words = name.split()
    titled = bool(words) and words[0].rstrip(".") in TITLES
    parts = words[1:] if titled else words
    if not parts or (len(parts) == 1 and not titled):
        return []
    surname = parts[-1]
    forms = [surname] + [f"{t}{dot} {s}" for t in TITLES for dot in ("", ".") for s in (surname, f"{surname[0]}.")]
    if len(parts) > 1:
        first = parts[0]
        forms += [first, f"{first} {surname[0]}.", f"{first[0]}.{surname[0]}.", f"{first[0]}. {surname[0]}.",
                  f"{first[0]}{surname[0]}"]
    return forms


def _stems(name: str, suffixes: tuple[str, ...]) -> list[str]:
    """`name` and each shorter name left by dropping a suffix word: 'Oak Primary School', 'Oak Primary', 'Oak'."""
    stems = [name]
    while True:
        current = stems[-1]
        suffix = next((s for s in suffixes if current.endswith(" " + s)), None)
        shorter = current[: -len(suffix) - 1].strip() if suffix else ""
        if not shorter or shorter.split()[-1] in ("St", "of", "the"):
            return stems
        stems.append(shorter)


# Matching ---------------------------------------------------------------------


@dataclass(frozen=True)
class Replacement:
    """One replaced span of the original text: offsets and what it became, never what it was."""

    start: int
    end: int
    replacement: str
    kind: str
    score: float = 100.0


@dataclass(frozen=True)
class Leak:
    """A name from the key (or close to one) found in a text that should hold none."""

    text: str
    start: int
    end: int
    entry_kind: str
    score: float


@dataclass(frozen=True)
class _Owner:
    replacement: str
    kind: str


@dataclass(frozen=True)
class _Match:
    start: int
    end: int
    owner: _Owner
    score: float
    possessive: str = ""


class Matcher:
    """Every form of every key entry in one compiled regex (a trie, so the longest form wins), plus fuzzy words.

    A form shared by several entries (two Mr Naylors) resolves to the entry
    that lists it most directly: its name, then its listed variants, then
    derived forms; if that still leaves entries with different replacements,
    the kind's unnumbered placeholder (``[person]``) is used, so no one is
    given someone else's pseudonym.
    """

    def __init__(self, entries: list[KeyEntry], settings: dict, derive: bool = True):
        self.threshold = float(settings.get("fuzzy_threshold", 90))
        never = set(settings.get("not_initials", []))
        placeholders = settings.get("placeholders", {})
        claims: dict[str, list[tuple[int, _Owner]]] = defaultdict(list)
        for entry in entries:
            owner = _Owner(entry.replacement, entry.kind)
            listed = entry.listed_forms()
            for form in entry.forms() if derive else listed:
                if form in never:
                    continue
                rank = 0 if form == entry.name else 1 if form in listed else 2
                for spelling in {form, form.replace("'", "’")}:
                    claims[spelling.lower()].append((rank, owner))
                    if not _starts_with_article(form):
                        claims[f"the {spelling.lower()}"].append((rank, owner))
        self.owners = {form: _resolve(found, placeholders) for form, found in claims.items()}
        self.exact_case = {f.lower(): f for e in entries for f in e.forms() if len(f) <= 4 and not any(c.islower() for c in f)}
        self.pattern = _compile(self.owners)
        self._single_words = _by_initial([f for f in self.owners if " " not in f and len(f) >= 5])
        self._pairs = _by_initial([f for f in self.owners if f.count(" ") == 1 and not f.startswith("the ") and len(f) >= 8])
        self._fuzzy_cache: dict[str, tuple[str, float] | None] = {}

    def matches(self, text: str, fuzzy: bool = True, any_case: bool = False) -> list[_Match]:
        """Every name in `text`, in order; `any_case` drops the case rules (to recognise a candidate as known)."""
        found = [m for m in (self._exact(match, any_case) for match in self.pattern.finditer(text)) if m]
        if fuzzy:
            found += self._fuzzy(text, found)
        return sorted(found, key=lambda m: m.start)

    def _exact(self, match: re.Match, any_case: bool) -> _Match | None:
        """A match of the compiled key, or None if its case rules it out.

        Every form is also compiled with 'the' before it, so that the longest
        form wins ('the Diocese of Kelbury' over 'the diocese'); the article
        stays in the text unless the replacement brings its own ('[the MAT]').
        """
        name = match.group("name")
        owner = self.owners[_normal(name)]
        start, end = match.span("name")
        article = re.match(r"the\s+", name, re.IGNORECASE)
        core = name[article.end():] if article else name
        if not any_case and not self._case_fits(core):
            return None
        if article and not _starts_with_article(owner.replacement):
            start, name = start + article.end(), core
        possessive = match.group("pos") or ""
        if possessive in ("'", "’") and not name.lower().endswith("s"):
            possessive = ""
        return _Match(start, end + len(possessive), owner, 100.0, possessive)

    def _case_fits(self, written: str) -> bool:
        """Initials must match exactly ('MH', not 'mh'); a one-word form must be capitalised as a name is."""
        form = _normal(written)
        exact = self.exact_case.get(form.replace("’", "'"))
        if exact is not None:
            return written.replace("’", "'") == exact.replace("’", "'")
        return " " in form or written[:1].isupper()

    def _fuzzy(self, text: str, exact: list[_Match]) -> list[_Match]:
        """Capitalised words close to a one- or two-word form with the same first letter: misspelt names.

        Pairs go first ('Drennick Enginering'), then single words, with a title
        just before a word taken in ('Mrs Holliss').
        """
        taken = [(m.start, m.end) for m in exact]
        found = []
        for pattern, pool in ((_PAIR, self._pairs), (_WORD, self._single_words)):
            for word in pattern.finditer(text):
                start, end = word.span("word")
                if any(s < end and start < e for s, e in taken):
                    continue
                best = self._closest(word.group("word").lower(), pool)
                if best is None:
                    continue
                title = _TITLE_BEFORE.search(text, 0, start)
                possessive = word.group("pos") or ""
                found.append(_Match(title.start() if title else start, end + len(possessive), self.owners[best[0]],
                                    best[1], possessive))
                taken.append((start, end))
        return found

    def _closest(self, words: str, pool: dict[str, list[str]]) -> tuple[str, float] | None:
        if words not in self._fuzzy_cache:
            best = process.extractOne(words, pool.get(words[0], []), scorer=fuzz.ratio, score_cutoff=self.threshold)
            self._fuzzy_cache[words] = (best[0], best[1]) if best and words not in self.owners else None
        return self._fuzzy_cache[words]

    def pseudonymise(self, text: str) -> tuple[str, list[Replacement]]:
        pieces, replacements, position = [], [], 0
        for match in self.matches(text):
            if match.start < position:
                continue
            new = _render(text, match)
            pieces += [text[position : match.start], new]
            replacements.append(Replacement(match.start, match.end, new, match.owner.kind, match.score))
            position = match.end
        pieces.append(text[position:])
        return "".join(pieces), replacements


_WORD = re.compile(r"(?<![\w'’])(?P<word>[A-Z][a-z][\w]{3,})(?P<pos>['’]s)?(?![\w])")
#: Every pair of adjacent capitalised words, overlapping ('A B C' gives 'A B' and 'B C').
_PAIR = re.compile(r"(?<![\w'’])(?=(?P<word>[A-Z][\w.]+ [A-Z][a-z]\w+)(?P<pos>['’]s)?(?![\w]))")
_TITLE_BEFORE = re.compile(r"\b(?:%s)\.?\s+$" % "|".join(TITLES))


def _normal(form: str) -> str:
    return re.sub(r"\s+", " ", form.lower())


def _starts_with_article(text: str) -> bool:
    """Whether a form or replacement brings its own article ('the Oak cluster', '[the MAT]', '[another school]')."""
    first = text.lstrip("[").split(" ", 1)[0].lower()
    return first in (*ARTICLES, "another")


def _render(text: str, match: _Match) -> str:
    """The replacement, with the possessive kept; '[The MAT]' where the words replaced began with 'The',
    or began a sentence and the replacement begins with an article."""
    new = match.owner.replacement
    written = text[match.start : match.end]
    if written.split(" ", 1)[0].lower() in ARTICLES:
        capital = written[:1].isupper()
    else:
        capital = _starts_with_article(new) and bool(_SENTENCE_START.search(text, 0, match.start))
    if capital:
        new = _capitalise(new)
    if match.possessive:
        new += ("’" if "’" in match.possessive else "'") + "s"
    return new


_SENTENCE_START = re.compile(r"(?:\A|[.!?:\n][\"'‘“]?)\s*$")


def _capitalise(replacement: str) -> str:
    index = 1 if replacement.startswith("[") else 0
    return replacement[:index] + replacement[index : index + 1].upper() + replacement[index + 1 :]


def _resolve(claims: list[tuple[int, _Owner]], placeholders: dict) -> _Owner:
    """Who a form stands for: the entries claiming it most directly; a neutral placeholder if they disagree."""
    best = min(rank for rank, _ in claims)
    owners = {owner for rank, owner in claims if rank == best}
    if len({o.replacement for o in owners}) == 1:
        return owners.pop()
    kind = sorted(o.kind for o in owners)[0]
    template = placeholders.get(kind, f"[{kind} {{n}}]")
    return _Owner(re.sub(r"\s*\{n\}", "", template), kind)


def _compile(forms: Iterable[str]) -> re.Pattern:
    trie = _trie_pattern(forms)
    return re.compile(rf"(?<![\w])(?P<name>{trie})(?P<pos>['’]s?)?(?![\w])", re.IGNORECASE)


def _trie_pattern(words: Iterable[str]) -> str:
    """One regex for many words, sharing prefixes, longer continuations tried before a word ends."""
    trie: dict = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    return _node_pattern(trie) or "(?!)"


def _node_pattern(node: dict) -> str:
    branches = [(r"\s+" if char == " " else re.escape(char)) + _node_pattern(child)
                for char, child in sorted(node.items()) if char]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if "" in node else body


def _by_initial(forms: list[str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for form in forms:
        grouped[form[0]].append(form)
    return grouped


def leaks(project: Project, text: str, key: IdentityKey | None = None) -> list[Leak]:
    """Every key name or variant in `text`, and capitalised words within the fuzzy threshold of one.

    Case as for pseudonymising: a name of several words in any case, a
    one-word name capitalised (so 'a rowan tree' is not a leak of Rowan),
    initials exactly. Fast enough to call per line: the compiled key is
    cached until the key file changes.
    """
    matcher = (key or project_key(project)).matcher()
    return [Leak(text[m.start : m.end], m.start, m.end, m.owner.kind, m.score) for m in matcher.matches(text)]


_LOADED: dict[tuple[Path, int, int], IdentityKey] = {}


def project_key(project: Project) -> IdentityKey:
    """The project's key, read and compiled again only when its file changes.

    Shared by every caller in the process (leak checks, pseudonymising each
    report), so treat it as read-only: to change the key, `load_key` and save.
    """
    path = project.root / KEY_FILE
    stat = path.stat() if path.exists() else None
    stamp = (path, stat.st_mtime_ns, stat.st_size) if stat else (path, 0, 0)
    if stamp not in _LOADED:
        _LOADED.clear()
        _LOADED[stamp] = load_key(project)
    return _LOADED[stamp]


# Finding names ------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """A span of a transcript that may be a name: from the key, spaCy's NER or a title pattern."""

    transcript: str
    start: int
    end: int
    label: str
    source: str  # key | ner | pattern


@dataclass
class Candidate:
    """A possible name not yet in the key, for the researcher to decide on."""

    text: str
    label: str
    count: int
    transcripts: list[str]
    contexts: list[str]

    @property
    def kind(self) -> str:
        """The key kind a candidate would be added as."""
        if self.label == "PERSON":
            return "person"
        if self.label in ("GPE", "LOC", "NAME"):
            return "place"
        if re.search(r"\b(School|Academy|Primary|College|High)$", self.text):
            return "school"
        if re.search(r"\b(Trust|Alliance|Cluster|cluster|Partnership|Federation)$", self.text):
            return "partnership"
        return "organisation"


_LABEL = re.compile(r"(?:\*\*)?(?P<label>[A-Z][\w'.\- ]{0,40}):(?:\*\*)?\s*")
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|$)", re.MULTILINE)
_TOKEN = re.compile(r"[A-Za-z][\w'’-]*")
#: Entity labels that say a capitalised word is not a name of anyone or anywhere (numbers, languages).
#: Not DATE: the model takes unfamiliar surnames for days ('Farraday').
_NOT_NAMES = frozenset({"PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL", "NORP", "LANGUAGE"})
_PATTERNS = [
    ("PERSON", re.compile(r"\b(?:%s)\.? [A-Z](?:[\w'’-]+|\.)" % "|".join(TITLES))),
    ("ORG", re.compile(r"\b(?:[A-Z][\w'’-]+ ){1,3}(?:Primary |Junior |Infant |High |Community |C of E |Catholic )?"
                       r"(?:School|Academy|College|Primary|Trust|Alliance|Federation|Partnership|Council|cluster)\b")),
    ("NAME", re.compile(r"\b[A-Z][\w'’-]+(?: [A-Z][\w'’-]+)*")),
]


def find_names(project: Project, key: IdentityKey | None = None, transcripts: list[str] | None = None,
               progress: Progress | None = None) -> list[Found]:
    """Every span the key, NER or a pattern takes for a name, in the given transcripts (default all).

    NER runs once per distinct sentence (interviews repeat themselves) and
    only on sentences with a word the corpus never writes in lower case,
    since a sentence without one holds no proper name. Such a word written
    mid-sentence that NER gives no label at all is also reported ('NAME'):
    small places and firms are what NER misses most.
    """
    return _find_in(project, _texts(project, transcripts), key if key is not None else load_key(project), progress)


def _find_in(project: Project, texts: dict[str, str], key: IdentityKey, progress: Progress | None) -> list[Found]:
    labels = set(anonymise_settings(project).get("labels", ["PERSON", "ORG", "GPE", "LOC", "FAC"]))
    found = [Found(tid, m.start, m.end, m.owner.kind, "key") for tid, text in texts.items()
             for m in key.matcher().matches(text, fuzzy=True)]
    sentences = _sentences(texts, known_labels(project.settings))
    words = _NameWords.of(sentences)
    entities = _ner_hits(sentences, words.capitalised, progress)
    named = _spans_by_transcript(e for e in entities if e.label in labels)
    not_names = _spans_by_transcript(e for e in entities if e.label in _NOT_NAMES)
    found += [hit for hit in entities if hit.label in labels]
    found += [hit for hit in _pattern_hits(sentences, words)
              if hit.label != "NAME" or not (_within(named.get(hit.transcript, []), hit)
                                             or _overlaps(not_names.get(hit.transcript, []), hit))]
    return found


def _texts(project: Project, ids: list[str] | None) -> dict[str, str]:
    query = select(Transcript.id, Transcript.text).order_by(Transcript.id)
    if ids:
        query = query.where(Transcript.id.in_(ids))
    with project.session(commit=False) as session:
        texts = dict(session.execute(query).all())
    unknown = sorted(set(ids or []) - set(texts))
    if unknown:
        raise QualcodeError(f"no transcript {', '.join(unknown)}; see 'qualcode transcripts'")
    return texts


def _sentences(texts: dict[str, str], labels: frozenset[str]) -> dict[str, list[tuple[str, int]]]:
    """Each distinct sentence -> where it occurs (transcript, offset).

    Role labels ('Headteacher:') are left out, since they are in every other
    line and name nobody; a label that is not a known role ('Mrs Hollis:') is
    kept, as it may be a name.
    """
    where: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for tid, text in texts.items():
        for match in _SENTENCE.finditer(text):
            start, sentence = match.start(), match.group()
            label = _LABEL.match(sentence) if start == 0 or text[start - 1] == "\n" else None
            if label and label.group("label").lower() in labels:
                start, sentence = start + label.end(), sentence[label.end():]
            stripped = sentence.strip()
            if stripped:
                where[stripped].append((tid, start + sentence.index(stripped)))
    return where


@dataclass(frozen=True)
class _NameWords:
    """Capitalised words the corpus never writes in lower case, and those of them also met mid-sentence."""

    capitalised: frozenset[str]
    mid_sentence: frozenset[str]

    @classmethod
    def of(cls, sentences: Iterable[str]) -> _NameWords:
        seen, lower, inner = set(), set(), set()
        for sentence in sentences:
            tokens = _TOKEN.findall(sentence)
            seen.update(tokens)
            lower.update(_bare(t) for t in tokens if t[0].islower())
            inner.update(t for t in tokens[1:] if not t[:2].isupper() and t.rstrip(".") not in TITLES)
        capitalised = {w for w in seen if w[0].isupper() and _bare(w).lower() not in lower and not w.startswith("I'") and w != "I"}
        return cls(frozenset(capitalised), frozenset(capitalised & inner))


def _bare(word: str) -> str:
    """A word without its possessive ending."""
    return re.sub(r"['’]s?$", "", word)


def _pattern_hits(sentences: dict[str, list[tuple[str, int]]], words: _NameWords) -> list[Found]:
    """'Mrs Hollis', 'Violet Lane Academy', 'the Kestrel Learning Trust', 'Grindlecote': spans that look like names."""
    found = []
    for sentence, places in sentences.items():
        for label, pattern in _PATTERNS:
            for match in pattern.finditer(sentence):
                start = match.start() if label == "PERSON" else _first_name_word(match, words, label)
                if start is not None:
                    found += [Found(tid, offset + start, offset + match.end(), label, "pattern") for tid, offset in places]
    return found


def _first_name_word(match: re.Match, words: _NameWords, label: str) -> int | None:
    """Where the name starts: 'Then Oak Academy' is 'Oak Academy'; None if no word could be a name.

    A bare capitalised run ('NAME') needs a word also met mid-sentence (so that
    'Yeah' opening a sentence is not a name), and takes in the name-like words
    just before it ('Oswin Farraday').
    """
    tokens = list(_TOKEN.finditer(match.group()))
    if label != "NAME":
        first = next((t for t in tokens[:-1] if t.group() in words.capitalised), None)
        return match.start() + first.start() if first else None
    index = next((i for i, t in enumerate(tokens) if t.group() in words.mid_sentence), None)
    if index is None:
        return None
    while index > 0 and tokens[index - 1].group() in words.capitalised:
        index -= 1
    return match.start() + tokens[index].start()


def _ner_hits(sentences: dict[str, list[tuple[str, int]]], capitalised: frozenset[str],
              progress: Progress | None) -> list[Found]:
    """Every entity spaCy finds (any label), in the sentences that could hold a name."""
    todo = [s for s in sentences if any(w in capitalised for w in _TOKEN.findall(s))]
    found = []
    for done, doc in enumerate(ner_pipeline().pipe(todo, batch_size=256), 1):
        for ent in doc.ents:
            found += [Found(tid, offset + ent.start_char, offset + ent.end_char, ent.label_, "ner")
                      for tid, offset in sentences[doc.text]]
        if progress and (done % 100 == 0 or done == len(todo)):
            progress(done, len(todo))
    if progress and not todo:
        progress(0, 0)
    return found


@lru_cache(maxsize=1)
def ner_pipeline() -> Language:
    """The spaCy pipeline with only its entity recogniser (which has its own tok2vec), loaded once."""
    import importlib

    from spacy.util import get_model_meta

    package = importlib.import_module(PIPELINE)
    components = get_model_meta(Path(package.__file__).parent)["components"]
    return package.load(exclude=[name for name in components if name != "ner"])


def scan(project: Project, transcripts: list[str] | None = None, progress: Progress | None = None) -> list[Candidate]:
    """Possible names not yet in the key, most frequent first, with where and how they occur."""
    key = load_key(project)
    texts = _texts(project, transcripts)
    found = _find_in(project, texts, key, progress)
    known = _spans_by_transcript(f for f in found if f.source == "key")
    public = {n.lower() for n in anonymise_settings(project).get("public_names", [])}
    public |= {v.lower() for values in project.settings.vocabularies.values.values() for v in values}
    groups: dict[tuple[str, str], list[Found]] = defaultdict(list)
    seen: set[tuple[str, int, int]] = set()
    for hit in found:
        where = (hit.transcript, hit.start, hit.end)
        if hit.source == "key" or where in seen or _overlaps(known.get(hit.transcript, []), hit):
            continue
        seen.add(where)
        name = _candidate_text(texts[hit.transcript][hit.start : hit.end])
        if _worth_reporting(name, public) and not _is_known(key, name):
            groups[(name, hit.label)].append(hit)
    candidates = [_candidate(name, label, hits, texts) for (name, label), hits in groups.items()]
    return _one_label_each(candidates)


def _spans_by_transcript(found: Iterable[Found]) -> dict[str, list[tuple[int, int]]]:
    spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for hit in found:
        spans[hit.transcript].append((hit.start, hit.end))
    return spans


def _overlaps(spans: list[tuple[int, int]], hit: Found) -> bool:
    return any(start < hit.end and hit.start < end for start, end in spans)


def _within(spans: list[tuple[int, int]], hit: Found) -> bool:
    return any(start <= hit.start and hit.end <= end for start, end in spans)


def _candidate_text(written: str) -> str:
    """The name as it would go in the key: no leading article, no possessive, one space between words."""
    text = re.sub(r"\s+", " ", written).strip(" ,;:-")
    text = re.sub(r"^(?:the|a|an) ", "", text, flags=re.IGNORECASE)
    return re.sub(r"['’]s?$", "", text)


_COUNTING = re.compile(r"(?:(?:Key|Stage|Year|Years|Form|One|Two|Three|Four|Five|Six|Seven|Eight|Nine|Ten|Eleven|Twelve|"
                       r"Thirteen|January|February|March|April|May|June|July|August|September|October|November|"
                       r"December|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)s?\b\s*)+$")


def _worth_reporting(name: str, public: set[str]) -> bool:
    """Not a public body, not an acronym ('NQT', 'CPD'), not a year group ('Key Stage Two', 'Year Twelve')."""
    has_name_word = any(w[0].isupper() and not w[:2].isupper() for w in name.split())
    return has_name_word and name.lower() not in public and not _COUNTING.match(name)


def _is_known(key: IdentityKey, name: str) -> bool:
    matches = key.matcher().matches(name, fuzzy=False, any_case=True)
    return any(m.start == 0 and m.end >= len(name) for m in matches)


def _candidate(name: str, label: str, hits: list[Found], texts: dict[str, str]) -> Candidate:
    contexts = []
    for hit in hits[:3]:
        text = texts[hit.transcript]
        contexts.append(re.sub(r"\s+", " ", text[max(0, hit.start - 40) : hit.end + 40]).strip())
    return Candidate(name, label, len(hits), sorted({h.transcript for h in hits}), contexts)


def _one_label_each(candidates: list[Candidate]) -> list[Candidate]:
    """One candidate per text: NER and patterns may label the same words differently; the most frequent label wins."""
    best: dict[str, Candidate] = {}
    for candidate in sorted(candidates, key=lambda c: -c.count):
        if candidate.text in best:
            kept = best[candidate.text]
            kept.transcripts = sorted(set(kept.transcripts) | set(candidate.transcripts))
        else:
            best[candidate.text] = candidate
    return sorted(best.values(), key=lambda c: (-c.count, c.text))


def add_candidates(project: Project, candidates: Iterable[Candidate]) -> IdentityKey:
    """Put candidates in the key (each with its kind's numbered placeholder) and save it."""
    key = load_key(project)
    for candidate in candidates:
        key.add(candidate.text, candidate.kind)
    key.save()
    return key


def recall(project: Project, truth: IdentityKey, found: list[Found]) -> float:
    """Share of the occurrences of `truth`'s listed names and variants that some span in `found` overlaps."""
    matcher = Matcher(truth.entries, truth.settings, derive=False)
    spans = _spans_by_transcript(found)
    total = caught = 0
    for tid, text in _texts(project, None).items():
        for match in matcher.matches(text, fuzzy=False):
            total += 1
            caught += _overlaps(spans.get(tid, []), Found(tid, match.start, match.end, "", ""))
    return caught / total if total else 1.0


# Exporting pseudonymised transcripts ---------------------------------------------------


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
