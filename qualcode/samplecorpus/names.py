"""Fictional names for everything participants mention, and the identity key.

Participants talk the way real people do: they name their head, the school
down the road, the town, the trust. Each such name is an `Entity` with the
surface forms it can take ("Janet Hollis", "Mrs Hollis", "Janet", "Mrs H.").
Every form actually written into a transcript is recorded, so that
``identity-key.csv`` lists exactly the variants an anonymiser has to find.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from qualcode.samplecorpus.bank import load
from qualcode.samplecorpus.design import Design

FEMALE_TITLES = ("Mrs", "Ms", "Miss", "Dr")
MALE_TITLES = ("Mr", "Mr", "Mr", "Dr")


@dataclass
class Entity:
    """A named person, school, place, organisation or partnership."""

    name: str
    kind: str  # person | school | place | organisation | partnership
    replacement: str
    refers_to: str = ""
    #: Forms that may be written, most formal first.
    forms: tuple[str, ...] = ()
    #: Forms actually written, in order of first use.
    used: list[str] = field(default_factory=list)
    #: For schools outside the study: primary or secondary, so talk can name a school of the right phase.
    phase: str = ""

    def form(self, rng: random.Random, formal: bool = False) -> str:
        """A surface form for running speech (the first, most formal one if `formal`)."""
        return self.forms[0] if formal or len(self.forms) == 1 else rng.choice(self.forms)

    def confirm(self, form: str) -> None:
        """Record that `form` was written into a transcript (called once the text is final)."""
        if form not in self.used:
            self.used.append(form)


class NameBook:
    """Draws unique fictional names and keeps every entity created, in creation order."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.data = load("names")
        self.entities: list[Entity] = []
        self._taken: set[str] = set()
        prefixes = self.data["place_prefixes"]
        self._stems = self._pool(self.data["place_stems"],
                                 [f"{p}{s} {d}".strip() for p in prefixes for d in ["", *self.data["place_descriptors"]]
                                  for s in self.data["place_stems"]])
        self._towns = self._pool(self.data["town_stems"],
                                 [f"{p}{s} {x}".strip() for p in prefixes for x in ["", *self.data["town_suffixes"]]
                                  for s in self.data["town_stems"] if not s.endswith(x) or not x])

    def _pool(self, simple: list[str], more: list[str]) -> list[str]:
        """Candidates to pop from the end: the simple names first, then combinations, each shuffled."""
        extra = [name for name in dict.fromkeys(more) if name not in simple]
        return self._shuffled(extra) + self._shuffled(simple)

    def _shuffled(self, items: list[str]) -> list[str]:
        items = list(items)
        self.rng.shuffle(items)
        return items

    def _unique(self, make) -> str:
        for _ in range(10000):
            name = make()
            if name not in self._taken:
                self._taken.add(name)
                return name
        raise RuntimeError("ran out of fictional names")

    def add(self, entity: Entity) -> Entity:
        self.entities.append(entity)
        return entity

    # --- people -----------------------------------------------------------------
    def person(self, replacement: str, refers_to: str = "", formal_only: bool = False) -> Entity:
        """A fictional person with forms: full name, title + surname, first name, title + initial."""
        female = self.rng.random() < 0.6
        firsts = self.data["first_names"]["female" if female else "male"]
        full = self._unique(lambda: f"{self.rng.choice(firsts)} {self.rng.choice(self.data['surnames'])}")
        first, last = full.split(" ", 1)
        title = self.rng.choice(FEMALE_TITLES if female else MALE_TITLES)
        forms = (f"{title} {last}", full, f"{title} {last}", first, f"{title} {last[0]}.")
        if formal_only:
            forms = (f"{title} {last}", full)
        return self.add(Entity(full, "person", replacement, refers_to, forms))

    # --- places and schools ------------------------------------------------------
    def _stem(self) -> str:
        return self._pop(self._stems)

    def _pop(self, pool: list[str]) -> str:
        while pool:
            name = pool.pop()
            if name not in self._taken:
                self._taken.add(name)
                return name
        raise RuntimeError("ran out of fictional names")

    def town(self, replacement: str) -> Entity:
        name = self._pop(self._towns)
        return self.add(Entity(name, "place", replacement, "", (name,)))

    def school(self, phase: str, school_type: str, replacement: str, refers_to: str = "") -> Entity:
        """A school name fitting its phase and type, with its everyday short forms."""
        if school_type.startswith("voluntary"):
            saint = self._unique(lambda: f"St {self.rng.choice(self.data['saints'])}'s"
                                 + (f" {self.rng.choice(self.data['place_descriptors'])}" if self.rng.random() < 0.5 else ""))
            church = "C of E" if school_type == "voluntary controlled" or self.rng.random() < 0.5 else "Catholic"
            word = "Junior" if phase == "junior" else "Primary"
            return self.add(Entity(f"{saint} {church} {word} School", "school", replacement, refers_to,
                                   (f"{saint} {church} {word} School", saint, f"{saint} {word}")))
        stem = self._stem()
        if phase in ("primary", "junior", "infant"):
            word = {"primary": "Primary", "junior": "Junior", "infant": "Infant"}[phase]
            full = f"{stem} {word} Academy" if "academy" in school_type else f"{stem} {word} School"
            forms = (full, f"{stem} {word}", stem)
        elif phase == "special":
            full = f"{stem} School"
            forms = (full, stem)
        else:
            word = "Academy" if "academy" in school_type else self.rng.choice(["High School", "Community College", "School"])
            full = f"{stem} {word}"
            forms = (full, stem)
        return self.add(Entity(full, "school", replacement, refers_to, forms))

    def named(self, name: str, kind: str, replacement: str, forms: tuple[str, ...], refers_to: str = "") -> Entity:
        self._taken.add(name)
        return self.add(Entity(name, kind, replacement, refers_to, forms))

    def key_rows(self) -> list[dict]:
        """Rows of ``identity-key.csv``: entities whose names were written, with the forms used."""
        return [
            {"name": e.name, "kind": e.kind, "variants": ";".join(e.used), "replacement": e.replacement, "refers_to": e.refers_to}
            for e in self.entities if e.used
        ]


@dataclass
class LocalWorld:
    """The named things one locality's participants can mention."""

    council: Entity
    towns: list[Entity]
    other_schools: list[Entity]
    colleagues: list[Entity]
    former_heads: list[Entity]
    advisers: list[Entity]
    officers: list[Entity]
    employers: list[Entity]


@dataclass
class World:
    """All names in the corpus: per school, per head, per partnership, per locality."""

    book: NameBook
    schools: dict[str, Entity]
    heads: dict[str, Entity]
    partnerships: dict[str, Entity]
    localities: dict[str, LocalWorld]
    providers: list[Entity]
    dioceses: list[Entity]


def build_world(design: Design, scale: int, seed: int) -> World:
    """Give every school, head, partnership and locality its fictional names."""
    rng = random.Random(f"names:{seed}")
    book = NameBook(rng)
    data = book.data
    schools = {s.id: book.school(s.phase, s.school_type, f"[school {s.id}]", s.id) for s in design.schools}
    heads = {}
    for s in design.schools:
        heads[s.id] = book.person(f"[{s.head_role} of {s.id}]", f"{s.id}-HT")
    partnerships = {p.id: _partnership_entity(book, p, data, rng) for p in design.partnerships}
    localities = {}
    for locality in [*dict.fromkeys(s.locality for s in design.schools), "National"]:
        council = data["councils"].get(locality)
        council_entity = (book.named(council["name"], "organisation", "[the local authority]",
                                     (council["name"], council["short"], f"{council['short']} council"))
                          if council else book.named("Department for Education", "organisation", "[the department]", ("the department",)))
        n = max(scale, 1)
        localities[locality] = LocalWorld(
            council=council_entity,
            towns=[book.town("[local town]") for _ in range(5 * n)],
            other_schools=_other_schools(book, rng, 5 * n),
            colleagues=[book.person("[another headteacher]") for _ in range(6 * n)],
            former_heads=[book.person("[former headteacher]", formal_only=True) for _ in range(2 * n)],
            advisers=[book.person("[former LA adviser]") for _ in range(2 * n)],
            officers=[book.person("[LA officer]") for _ in range(2 * n)],
            employers=[book.named(name, "organisation", "[local employer]", (name,)) for name in _draw(rng, data["employers"], 3)],
        )
    providers = [book.named(name, "organisation", "[consultancy]", (name,)) for name in data["providers"]]
    dioceses = [book.named(name, "organisation", "[the diocese]", (name, "the diocese")) for name in data["dioceses"]]
    return World(book, schools, heads, partnerships, localities, providers, dioceses)


def _other_schools(book: NameBook, rng: random.Random, count: int) -> list[Entity]:
    """Schools outside the study that participants mention; alternate phases so either phase can be named."""
    schools = []
    for i in range(count):
        phase = "secondary" if i % 3 == 2 else "primary"
        entity = book.school(phase, rng.choice(["maintained", "converter academy"]), "[another school]")
        entity.phase = phase
        schools.append(entity)
    return schools


def _draw(rng: random.Random, items: list[str], k: int) -> list[str]:
    return rng.sample(items, k)


def _partnership_entity(book: NameBook, partnership, data: dict, rng: random.Random) -> Entity:
    """MATs and TSAs take names from the lists, then from place stems; clusters are named after a place."""
    replacement = {"MAT": "[the MAT]", "TSA": "[the teaching school alliance]", "cluster": "[the cluster]"}[partnership.kind]
    pool = [n for n in {"MAT": data["mat_names"], "TSA": data["tsa_names"]}.get(partnership.kind, []) if n not in book._taken]
    if pool:
        name = rng.choice(pool)
        book._taken.add(name)
        forms = (name, name.split()[0])
    else:
        stem = book._stem()
        suffix = {"MAT": "Learning Trust", "TSA": "Teaching School Alliance"}.get(partnership.kind) or rng.choice(data["cluster_suffixes"])
        name = f"{stem} {suffix}"
        book._taken.add(name)
        forms = (name, f"the {stem} cluster") if partnership.kind == "cluster" else (name, stem)
    return book.add(Entity(name, "partnership", replacement, partnership.id, forms))
