"""The identity key and pseudonymising text with it: the names, their forms in speech, and leak checks.

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
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz, process

from qualcode.errors import ImportFailed, Problem, QualcodeError
from qualcode.privacy.name_index import FormIndex, Span
from qualcode.project import Project, ignore_private_files

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

    def left_out(self, entries: Iterable[KeyEntry] | None = None) -> list[tuple[KeyEntry, list[str]]]:
        """Entries with forms `[anonymise] not_initials` keeps out of matching (their initials are an abbreviation
        of the field, such as RI), and those forms: written in a transcript, they are neither replaced nor reported."""
        never = set(self.settings.get("not_initials", []))
        found = [(entry, sorted(never.intersection(entry.forms()))) for entry in (self.entries if entries is None else entries)]
        return [(entry, forms) for entry, forms in found if forms]

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
    from qualcode.ingest.transcript import csv_delimiter, read_text

    try:
        text, _ = read_text(path)  # a key saved from Excel is often Windows-1252
    except OSError as exc:
        raise ImportFailed([Problem(path, None, None, f"cannot read the key: {exc.strerror}")]) from None
    except Problem as problem:
        raise ImportFailed([problem]) from None
    reader = csv.DictReader(io.StringIO(text), delimiter=csv_delimiter(text.split("\n", 1)[0]))
    # Excel writes 'Name', 'Kind', 'Refers to'; a column qualcode does not know would be dropped unread.
    reader.fieldnames = [_column(name) for name in reader.fieldnames or []]
    missing = [c for c in ("name", "kind") if c not in reader.fieldnames]
    if missing:
        raise ImportFailed([Problem(path, 1, None, f"missing column(s): {', '.join(missing)}; expected {','.join(COLUMNS)}")])
    unknown = [Problem(path, 1, name, f"'{name}' is not a column of the key, which has {','.join(COLUMNS)}"
                                      f"{_did_you_mean(name, COLUMNS)}") for name in reader.fieldnames
               if name and name not in COLUMNS]
    if unknown:
        raise ImportFailed(unknown)
    rows, problems = [], []
    for row in reader:
        line = reader.line_num
        row = {c: (row.get(c) or "").strip() for c in COLUMNS}
        row["kind"] = row["kind"].lower()
        if not row["name"]:
            problems.append(Problem(path, line, "name", "empty name"))
        elif row["kind"] not in KINDS:
            problems.append(Problem(path, line, "kind", f"'{row['kind']}' is not one of {', '.join(KINDS)}"
                                                        f"{_did_you_mean(row['kind'], KINDS)}"))
        else:
            rows.append((line, row))
    return rows, problems


def _column(name: str) -> str:
    return "_".join(name.strip().lower().split())


def _did_you_mean(value: str, known: tuple[str, ...]) -> str:
    import difflib

    close = difflib.get_close_matches(value, known, n=1, cutoff=0.8)
    return f"; did you mean '{close[0]}'?" if close else ""


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


#: A capitalised word of five letters or more, not just after a letter, digit or apostrophe; the capital first, so that
#: the regex engine skips to the next capital in C (a lookbehind first is a try at every character).
_WORD = re.compile(r"[A-Z](?<![\w'’].)(?P<rest>[a-z]\w{3,})(?P<pos>['’]s)?(?!\w)")
#: Every pair of adjacent capitalised words, overlapping ('A B C' gives 'A B' and 'B C'): only their first capital is taken.
_PAIR = re.compile(r"[A-Z](?<![\w'’].)(?=(?P<rest>[\w.]+ [A-Z][a-z]\w+)(?P<pos>['’]s)?(?!\w))")


class Matcher:
    """Every form of every key entry in an index by first word (the longest form written wins), plus fuzzy words.

    A form shared by several entries (two Mr Naylors) resolves to the entry
    that lists it most directly: its name, then its listed variants, then
    derived forms; if that still leaves entries with different replacements,
    the kind's unnumbered placeholder (``[person]``) is used, so no one is
    given someone else's pseudonym.
    """

    #: Where `_fuzzy` looks for misspelt names of two words and of one: a match starts at the first capital and its
    #: group 'rest' ends with the words.
    pair_scan, word_scan = _PAIR, _WORD

    def __init__(self, entries: list[KeyEntry], settings: dict, derive: bool = True):
        self.threshold = float(settings.get("fuzzy_threshold", 90))
        never = set(settings.get("not_initials", []))
        placeholders = settings.get("placeholders", {})
        claims: dict[str, list[tuple[int, _Owner]]] = defaultdict(list)
        self.exact_case = {}
        for entry in entries:
            owner = _Owner(entry.replacement, entry.kind)
            listed, forms = entry.listed_forms(), entry.forms()
            self.exact_case.update((f.lower(), f) for f in forms if len(f) <= 4 and not any(c.islower() for c in f))
            for form in forms if derive else listed:
                if form in never:
                    continue
                rank = 0 if form == entry.name else 1 if form in listed else 2
                article = _starts_with_article(form)
                for spelling in {form, form.replace("'", "’")}:
                    claims[spelling.lower()].append((rank, owner))
                    if not article:
                        claims[f"the {spelling.lower()}"].append((rank, owner))
        self.owners = {form: _resolve(found, placeholders) for form, found in claims.items()}
        self.forms = FormIndex.of(self.owners)
        self._single_words = _by_initial([f for f in self.owners if " " not in f and len(f) >= 5])
        self._pairs = _by_initial([f for f in self.owners if f.count(" ") == 1 and not f.startswith("the ") and len(f) >= 8])
        self._fuzzy_cache: dict[str, tuple[str, float] | None] = {}

    def matches(self, text: str, fuzzy: bool = True, any_case: bool = False) -> list[_Match]:
        """Every name in `text`, in order; `any_case` drops the case rules (to recognise a candidate as known)."""
        found = [m for m in (self._exact(text, span, any_case) for span in self.forms.spans(text)) if m]
        if fuzzy:
            found += self._fuzzy(text, found)
        return sorted(found, key=lambda m: m.start)

    def _exact(self, text: str, span: Span, any_case: bool) -> _Match | None:
        """A form found in `text`, or None if its case rules it out.

        Every form is also indexed with 'the' before it, so that the longest
        form wins ('the Diocese of Kelbury' over 'the diocese'); the article
        stays in the text unless the replacement brings its own ('[the MAT]').
        """
        form, start, end, after = span
        name, owner = text[start:end], self.owners[form]
        article = _THE.match(name)
        core = name[article.end():] if article else name
        if not any_case and not self._case_fits(core):
            return None
        if article and not _starts_with_article(owner.replacement):
            start, name = start + article.end(), core
        possessive = text[end:after]
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
        for pattern, pool in ((self.pair_scan, self._pairs), (self.word_scan, self._single_words)):
            for word in pattern.finditer(text):
                start, end = word.start(), word.end("rest")
                if any(s < end and start < e for s, e in taken):
                    continue
                best = self._closest(text[start:end].lower(), pool)
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


_TITLE_BEFORE = re.compile(r"\b(?:%s)\.?\s+$" % "|".join(TITLES))
_THE = re.compile(r"the\s+", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


def _normal(form: str) -> str:
    return _SPACES.sub(" ", form.lower())


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
    if len(claims) == 1:  # most forms: one entry's (this is the bulk of building the matcher)
        return claims[0][1]
    best = min(rank for rank, _ in claims)
    owners = {owner for rank, owner in claims if rank == best}
    if len({o.replacement for o in owners}) == 1:
        return owners.pop()
    kind = sorted(o.kind for o in owners)[0]
    template = placeholders.get(kind, f"[{kind} {{n}}]")
    return _Owner(re.sub(r"\s*\{n\}", "", template), kind)


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
