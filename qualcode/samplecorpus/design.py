"""The study design as data: schools, partnerships and interviews at a given scale.

`build_design` turns ``data/design.yaml`` (the Annex 1 figures at scale 1)
into concrete `School`, `Partnership` and `Interview` records. At scale N a
locality's school table is repeated N times, so every proportion in the
Annex (phase mix, types, grades, designations, interviews per locality) is
kept while the counts grow.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass, field

from qualcode.samplecorpus.bank import load

ACADEMY_TYPES = ("converter academy", "sponsored academy", "free school")
FULL_ROLES = ("Headteacher", "Principal", "Executive headteacher")
LEADER_ROLES = FULL_ROLES + ("Head of school", "Deputy headteacher", "Assistant headteacher", "MAT CEO",
                             "Teaching School director")


@dataclass
class School:
    id: str
    locality: str
    folder: str
    phase: str
    school_type: str
    ofsted: str
    fsm: int
    designations: list[str]
    partnerships: list[str]
    federation: bool
    head_role: str
    extra_roles: list[str]
    #: Facts the talk refers to, fixed per school so every interview agrees.
    facts: dict = field(default_factory=dict)

    def metadata(self) -> dict:
        """The fields written to ``schools.yaml``."""
        return {
            "locality": self.locality,
            "phase": self.phase,
            "school_type": self.school_type,
            "ofsted": self.ofsted,
            "fsm": self.fsm,
            "designations": list(self.designations),
            "partnerships": list(self.partnerships),
            "federation": self.federation,
        }


@dataclass
class Partnership:
    id: str
    kind: str
    locality: str
    members: list[str]
    lead: str | None

    def metadata(self) -> dict:
        data = {"kind": self.kind, "locality": self.locality, "members": list(self.members)}
        if self.lead:
            data["lead"] = self.lead
        return data


@dataclass
class Interview:
    """One transcript: a staff member of a school or a system informant."""

    id: str
    locality: str
    folder: str
    date: dt.date
    kind: str  # full | notes
    role: str | None = None
    school: School | None = None
    informant_kind: str | None = None

    @property
    def is_informant(self) -> bool:
        return self.informant_kind is not None

    @property
    def is_head(self) -> bool:
        return self.id.endswith("-HT")


@dataclass
class Design:
    schools: list[School]
    partnerships: list[Partnership]
    interviews: list[Interview]
    folders: dict[str, str]  # locality -> folder


def build_design(scale: int, seed: int) -> Design:
    """Schools, partnerships and interviews for `scale` copies of each locality."""
    data = load("design")
    rng = random.Random(f"design:{seed}")
    schools: list[School] = []
    partnerships: list[Partnership] = []
    interviews: list[Interview] = []
    folders: dict[str, str] = {}
    for locality, spec in data["localities"].items():
        folders[locality] = spec["folder"]
        for copy in range(scale):
            loc_schools, loc_partnerships = _copy_locality(locality, spec, copy, rng)
            schools += loc_schools
            partnerships += loc_partnerships
            interviews += _staff_interviews(loc_schools, spec, data, rng)
        interviews += _informants(locality, spec["prefix"], spec["folder"], spec["informants"] * scale, spec["visits"], rng)
    nat = data["national"]
    folders["National"] = nat["folder"]
    interviews += _informants("National", nat["prefix"], nat["folder"], nat["informants"] * scale, nat["visits"], rng)
    return Design(schools, partnerships, interviews, folders)


def _renumber(key: str, copy: int, counts: dict[str, int]) -> str:
    """``MAT1`` in copy 2 of a locality with one MAT becomes ``MAT3``."""
    kind, number = re.fullmatch(r"([A-Z]+)(\d+)", key).groups()
    return f"{kind}{int(number) + copy * counts[kind]}"


def _copy_locality(locality: str, spec: dict, copy: int, rng: random.Random) -> tuple[list[School], list[Partnership]]:
    """One copy of a locality's school table, with ids offset by the copy number."""
    rows = spec["schools"]
    prefix = spec["prefix"]
    low, high = spec["fsm_range"]
    counts: dict[str, int] = {}
    for key in spec["partnerships"]:
        kind = re.match(r"[A-Z]+", key).group()
        counts[kind] = counts.get(kind, 0) + 1
    school_id = {i: f"{prefix}-S{copy * len(rows) + i:02d}" for i in range(1, len(rows) + 1)}
    pid = {key: f"{prefix}-{_renumber(key, copy, counts)}" for key in spec["partnerships"]}
    schools = []
    for i, row in enumerate(rows, start=1):
        fsm = row["fsm"]
        if copy and fsm not in (low, high):
            fsm = min(high - 1, max(low + 1, fsm + rng.randint(-3, 3)))
        schools.append(School(
            id=school_id[i], locality=locality, folder=spec["folder"], phase=row["phase"],
            school_type=row["school_type"], ofsted=row["ofsted"], fsm=fsm,
            designations=list(row.get("designations", [])),
            partnerships=[pid[key] for key in row.get("partnerships", [])],
            federation=bool(row.get("federation", False)),
            head_role=row.get("head_role", "Headteacher"),
            extra_roles=list(row.get("extra_roles", [])),
        ))
    partnerships = []
    for key, pspec in spec["partnerships"].items():
        members = [s.id for s in schools if pid[key] in s.partnerships]
        lead = school_id[pspec["lead"]] if "lead" in pspec else None
        partnerships.append(Partnership(pid[key], pspec["kind"], locality, members, lead))
    for school in schools:
        school.facts = _school_facts(school, rng)
    return schools, partnerships


def _school_facts(school: School, rng: random.Random) -> dict:
    """Dates and sizes that every interview at the school must agree on."""
    pupils = {"primary": (180, 460), "junior": (220, 360), "infant": (150, 270),
              "secondary": (700, 1650), "all-through": (1100, 1800), "special": (90, 180)}[school.phase]
    month = rng.choice(["January", "February", "March", "May", "June", "September", "October", "November"])
    return {
        "pupils": rng.randrange(pupils[0], pupils[1], 10),
        "ofsted_year": rng.choice([2012, 2013, 2014]) if school.ofsted in ("Outstanding", "Good") else rng.choice([2014, 2015]),
        "ofsted_month": month,
        "academy_year": rng.choice([2011, 2012, 2013]) if school.school_type == "converter academy" else rng.choice([2012, 2013, 2014]),
        "head_since": rng.choice(range(2003, 2014)),
    }


def _split_interviews(total: int, schools: list[School], cap: int, rng: random.Random) -> list[int]:
    """How many interviews each school gets: at least its required ones, at most `cap`, summing to `total`."""
    counts = [1 + len(s.extra_roles) for s in schools]
    if sum(counts) > total or total > cap * len(schools):
        raise ValueError(f"cannot share {total} interviews among {len(schools)} schools")
    while sum(counts) < total:
        i = rng.randrange(len(schools))
        if counts[i] < cap:
            counts[i] += 1
    return counts


def _staff_interviews(schools: list[School], spec: dict, data: dict, rng: random.Random) -> list[Interview]:
    """The -HT interview of every school plus the other staff, dated on the school's visit day."""
    counts = _split_interviews(spec["staff_interviews"], schools, data["max_interviews_per_school"], rng)
    interviews = []
    for school, count in zip(schools, counts):
        day = _weekday(spec["visits"], rng)
        interviews.append(Interview(f"{school.id}-HT", school.locality, school.folder, day, "full", school.head_role, school))
        for role in school.extra_roles:
            suffix = data["extra_role_suffix"][role]
            interviews.append(Interview(f"{school.id}-{suffix}", school.locality, school.folder, day, "notes", role, school))
        for role, suffix in _pick_roles(count - 1 - len(school.extra_roles), school, data["staff_roles"], rng):
            interviews.append(Interview(f"{school.id}-{suffix}", school.locality, school.folder, day, "notes", role, school))
    return interviews


def _pick_roles(n: int, school: School, roles: list[dict], rng: random.Random) -> list[tuple[str, str]]:
    """Draw `n` staff roles by weight, respecting each role's maximum; number repeated suffixes."""
    taken: dict[str, int] = {}
    picked = []
    for _ in range(n):
        options = [r for r in roles if taken.get(r["role"], 0) < r["max"]
                   and (r.get("needs") != "executive" or school.head_role == "Executive headteacher")]
        role = rng.choices(options, weights=[r["weight"] for r in options])[0]
        taken[role["role"]] = taken.get(role["role"], 0) + 1
        picked.append(role)
    result = []
    for role in picked:
        suffix = role["suffix"]
        if role["max"] > 1:
            seen = sum(1 for r, _ in result if r == role["role"])
            suffix = f"{suffix}{seen + 1}"
        result.append((role["role"], suffix))
    return result


def _informants(locality: str, prefix: str, folder: str, kinds: list[str], window: list[str], rng: random.Random) -> list[Interview]:
    return [
        Interview(f"{prefix}-I{i:02d}", locality, folder, _weekday(window, rng), "full", informant_kind=kind)
        for i, kind in enumerate(kinds, start=1)
    ]


def _weekday(window: list[str], rng: random.Random) -> dt.date:
    """A random Monday-to-Friday date inside the fieldwork window."""
    start, end = (dt.date.fromisoformat(d) for d in window)
    while True:
        day = start + dt.timedelta(days=rng.randrange((end - start).days + 1))
        if day.weekday() < 5:
            return day


def speaker_tags(interview: Interview, partnerships: dict[str, Partnership]) -> frozenset[str]:
    """The tags that decide which lines of content a speaker can say (see data/schedule.yaml)."""
    tags = {interview.locality.lower()}
    if interview.is_informant:
        tags |= {"informant", interview.informant_kind.lower().split()[0]}
        if interview.locality == "National":
            tags.add("national")
        return frozenset(tags)
    school = interview.school
    role = interview.role
    tags.add("school")
    if role in FULL_ROLES:
        tags |= {"head", "leader"}
    elif role in ("MAT CEO", "Teaching School director"):
        tags |= {"leader", "exec"}
    elif role in ("Chair of governors", "School business manager"):
        pass  # they speak for the school but not as teaching staff
    else:
        tags.add("staff")
        if role in LEADER_ROLES:
            tags.add("leader")
    if role in ("Teacher", "Middle leader"):
        tags.add("teacher")
    if role == "MAT CEO":
        tags.add("ceo")
    if role == "Teaching School director":
        tags.add("tsd")
    if role == "School business manager":
        tags.add("sbm")
    if role == "Chair of governors":
        tags.add("governor")
    if role == "Executive headteacher" and any(partnerships[p].kind == "MAT" and partnerships[p].lead == school.id
                                                for p in school.partnerships):
        tags.add("exec")
    tags.add({"junior": "primary", "infant": "primary", "all-through": "secondary"}.get(school.phase, school.phase))
    tags.add("academy" if school.school_type in ACADEMY_TYPES else "maintained")
    tags |= {"converter"} if school.school_type == "converter academy" else set()
    tags |= {"sponsored"} if school.school_type == "sponsored academy" else set()
    tags |= {"faith"} if school.school_type.startswith("voluntary") else set()
    tags |= {"federation"} if school.federation else set()
    tags |= {"designated"} if school.designations else set()
    tags |= {"teachingschool"} if "Teaching School" in school.designations else set()
    tags.add("ri" if school.ofsted in ("Requires Improvement", "Inadequate") else "strong")
    tags.add(school.ofsted.lower().replace(" ", "-"))
    tags |= {"outstanding"} if school.ofsted == "Outstanding" else set()
    for pid in school.partnerships:
        tags.add(partnerships[pid].kind.lower())
    return frozenset(tags)
