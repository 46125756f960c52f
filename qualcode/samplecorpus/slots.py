"""Filling ``{slot}`` and ``{a|b}`` placeholders in content lines for one speaker.

Slots draw on the speaker's school and locality, so a head in Western talks
about Western's towns and her own trust, and every school fact (roll, last
inspection, conversion year) is the same in each interview at that school.
Names are taken through `Entity.say`, which records the form used for the
identity key.
"""

from __future__ import annotations

import random
import re

from qualcode.samplecorpus.design import Design, Interview
from qualcode.samplecorpus.names import Entity, World

_SLOT = re.compile(r"\{([^{}]*)\}")
ORDINALS = ["second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "eleventh", "twelfth"]
NUMBER_WORDS = ["two", "three", "four", "five", "six", "seven", "eight", "nine"]
STAFF_FOCUS = {
    "Deputy headteacher": ["behaviour and attendance", "curriculum and assessment", "teaching and learning and staff development"],
    "Assistant headteacher": ["data and tracking", "inclusion and the SEND provision", "CPD and the trainees", "Key Stage Two"],
    "Middle leader": ["leading the English department", "maths across the school", "leading Key Stage One", "science and the curriculum"],
    "Teacher": ["a Year {year_group} class", "teaching English to Key Stage Three", "early years", "teaching maths, mostly to the older groups"],
    "School business manager": ["finance, premises and HR", "the budget and the contracts", "business and the site"],
    "Chair of governors": ["chairing the full governing body", "holding the head to account, in the nicest way"],
    "Head of school": ["the day-to-day running of the school", "leading the school while the executive head works across the federation"],
    "MAT CEO": ["running the trust's central team and the board's strategy", "growth and standards across the trust"],
    "Teaching School director": ["the alliance's training programmes and school-to-school support", "initial teacher training and the NPQ programmes"],
}
FIRST_JOBS = {"Chair of governors": "a parent governor", "School business manager": "an office assistant",
              "MAT CEO": "a head in one of the schools", "Teaching School director": "a deputy head"}


class Slots:
    """Fills placeholders for one interview, with its own random stream."""

    def __init__(self, rng: random.Random, interview: Interview, world: World, design: Design):
        self.rng = rng
        self.interview = interview
        self.world = world
        self.school = interview.school
        self.local = world.localities[interview.locality]
        self.partners = self._partner_schools(design)
        self.year = interview.date.year
        #: Every (entity, form) written, checked against the final text for the identity key.
        self.mentions: list[tuple[Entity, str]] = []

    def say(self, entity: Entity, formal: bool = False) -> str:
        form = entity.form(self.rng, formal)
        self.mentions.append((entity, form))
        return form

    def _partner_schools(self, design: Design) -> list[Entity]:
        if not self.school:
            return []
        mine = set(self.school.partnerships)
        return [self.world.schools[s.id] for s in design.schools
                if s.id != self.school.id and mine & set(s.partnerships)]

    # ------------------------------------------------------------------------
    def fill(self, text: str, speaker: str = "") -> str:
        """Replace every placeholder in `text`; `speaker` is the notes phrase for ``{Speaker}``."""
        def one(match: re.Match) -> str:
            body = match.group(1)
            if "|" in body:
                options = body.split("|")
                if options[0] == "if_school":
                    return options[1] if self.school else options[2]
                return self.rng.choice(options)
            if body == "Speaker":
                before = match.string[:match.start()].rstrip()
                starts_sentence = not before or before.endswith((".", "?", "!", ":"))
                return speaker if starts_sentence else speaker[:1].lower() + speaker[1:]
            return self.value(body)
        return _SLOT.sub(one, _SLOT.sub(one, text))

    def value(self, name: str) -> str:
        method = getattr(self, f"slot_{name}", None)
        if method is None:
            raise KeyError(f"unknown slot {{{name}}}")
        return method()

    # --- names -------------------------------------------------------------------
    def _pick(self, entities: list[Entity], formal: bool = False) -> str:
        return self.say(self.rng.choice(entities), formal)

    def slot_town(self) -> str:
        return self._pick(self.local.towns)

    def slot_other_school(self) -> str:
        """Mostly a school of the speaker's own phase: heads compare themselves with their own kind."""
        mine = "secondary" if self.school and self.school.phase in ("secondary", "all-through") else "primary"
        same = [s for s in self.local.other_schools if s.phase == mine]
        return self._pick(same if same and self.rng.random() < 0.8 else self.local.other_schools)

    def slot_partner_school(self) -> str:
        return self._pick(self.partners or self.local.other_schools)

    def slot_study_school(self) -> str:
        """A case-study school of the speaker's locality, as informants name them."""
        prefix = self.interview.id[:4]
        schools = [entity for sid, entity in self.world.schools.items() if sid.startswith(prefix)]
        return self._pick(schools) if schools else self.slot_other_school()

    def slot_own_school(self) -> str:
        return self.say(self.world.schools[self.school.id]) if self.school else self.slot_other_school()

    def slot_head(self) -> str:
        return self.say(self.world.heads[self.school.id]) if self.school else self.slot_person()

    def slot_person(self) -> str:
        return self._pick(self.local.colleagues)

    def slot_former_head(self) -> str:
        return self._pick(self.local.former_heads)

    def slot_former_adviser(self) -> str:
        return self._pick(self.local.advisers)

    def slot_la_officer(self) -> str:
        return self._pick(self.local.officers)

    def slot_employer(self) -> str:
        return self._pick(self.local.employers)

    def slot_provider(self) -> str:
        return self._pick(self.world.providers)

    def slot_diocese(self) -> str:
        return self.say(self.rng.choice(self.world.dioceses), formal=True)

    def slot_la_name(self) -> str:
        return self.say(self.local.council)

    def _partnership(self, kind: str, generic: str) -> str:
        """The speaker's own partnership of that kind, else one in the locality, else a generic phrase."""
        ids = [p for p in (self.school.partnerships if self.school else []) if self.world.partnerships[p].refers_to and kind in p]
        if not ids:
            ids = [pid for pid in self.world.partnerships if pid.startswith(self.interview.id[:4]) and kind in pid]
        if not ids:
            return generic
        return self.say(self.world.partnerships[self.rng.choice(ids)])

    def slot_mat(self) -> str:
        return self._partnership("MAT", "the trust")

    def slot_tsa(self) -> str:
        return self._partnership("TSA", "the alliance")

    def slot_cluster(self) -> str:
        return self._partnership("CL", "the local cluster")

    # --- numbers and dates -------------------------------------------------------
    def slot_n(self) -> str:
        return self.rng.choice(NUMBER_WORDS)

    def slot_n_big(self) -> str:
        return str(self.rng.randrange(12, 60))

    def slot_pct(self) -> str:
        return str(self.rng.randrange(8, 60))

    def slot_money(self) -> str:
        amount = self.rng.randrange(60, 900, 10)
        return self.rng.choice([f"£{amount},000", f"about £{amount}k", f"{amount} thousand pounds"])

    def slot_money_small(self) -> str:
        return f"£{self.rng.randrange(150, 650, 25)}"

    def slot_changes_year(self) -> str:
        return self.rng.choice(["2010", "2010", "2011", "2012"])

    def slot_recent_year(self) -> str:
        return str(self.rng.randrange(2013, self.year + 1))

    def slot_start_year(self) -> str:
        return str(self.rng.randrange(2004, self.year))

    def slot_rsc_start(self) -> str:
        return self.rng.choice(["September 2014", "the autumn of 2014", "2014"])

    def slot_month(self) -> str:
        return self.rng.choice(["January", "February", "March", "April", "May", "June", "July", "September", "October", "November", "December"])

    def slot_term(self) -> str:
        return self.rng.choice(["term", "autumn term", "spring term", "summer term"])

    def slot_year_group(self) -> str:
        phase = self.school.phase if self.school else "primary"
        return str(self.rng.randrange(7, 12) if phase in ("secondary", "all-through") else self.rng.randrange(1, 7))

    def slot_fsm(self) -> str:
        return str(self.school.fsm) if self.school else self.slot_pct()

    def slot_pupils(self) -> str:
        return str(self.school.facts["pupils"])

    def slot_ofsted_year(self) -> str:
        return str(self.school.facts["ofsted_year"]) if self.school else self.slot_recent_year()

    def slot_ofsted_when(self) -> str:
        if not self.school:
            return self.slot_recent_year()
        return f"in {self.school.facts['ofsted_month']} {self.school.facts['ofsted_year']}"

    def slot_ofsted_phrase(self) -> str:
        grade = self.school.ofsted
        return {"Outstanding": "Outstanding", "Good": "Good", "Requires Improvement": "as Requires Improvement",
                "Inadequate": "Inadequate, in special measures"}[grade]

    def slot_academy_year(self) -> str:
        return str(self.school.facts["academy_year"]) if self.school else self.slot_recent_year()

    def slot_start_year_head(self) -> str:
        return str(self.school.facts["head_since"])

    def slot_nth(self) -> str:
        years = max(2, self.year - self.school.facts["head_since"] + 1)
        return ORDINALS[min(years, len(ORDINALS) + 1) - 2]

    def slot_day_phrase(self) -> str:
        return self.rng.choice(["on a Friday afternoon", "in the last week of term", "in assessment week", "with everything going on"])

    # --- school and role phrases -------------------------------------------------
    def slot_size_phrase(self) -> str:
        pupils = self.school.facts["pupils"]
        if self.school.phase in ("primary", "junior", "infant"):
            return "one-form entry" if pupils < 240 else ("two-form entry" if pupils < 400 else "three-form entry")
        return "small" if pupils < 800 else ("fairly big" if pupils < 1300 else "big")

    def slot_phase_word(self) -> str:
        return {"primary": "primary", "junior": "junior school", "infant": "infant school", "secondary": "secondary",
                "all-through": "all-through school", "special": "special school"}[self.school.phase]

    def slot_type_word(self) -> str:
        return {"maintained": "community", "voluntary aided": "voluntary aided", "voluntary controlled": "voluntary controlled",
                "foundation": "foundation"}.get(self.school.school_type, "maintained")

    def slot_head_title_word(self) -> str:
        return {"Principal": "principal", "Executive headteacher": "executive head"}.get(self.school.head_role, "head")

    def slot_head_since(self) -> str:
        return str(self.school.facts["head_since"])

    def slot_first_job(self) -> str:
        return FIRST_JOBS.get(self.interview.role, "an NQT").split(" ", 1)[1]

    def slot_first_job_article(self) -> str:
        return FIRST_JOBS.get(self.interview.role, "an NQT")

    def slot_staff_focus(self) -> str:
        return self.fill(self.rng.choice(STAFF_FOCUS.get(self.interview.role, ["teaching"])))

    def slot_place_in_school(self) -> str:
        return self.rng.choice(["the head's office", "a small meeting room", "the staffroom", "the library", "an empty classroom", "the business manager's office"])

    def slot_time_of_day(self) -> str:
        return self.rng.choice(["the lunch break", "a free period", "the afternoon", "the end of the school day"])

    def slot_minutes(self) -> str:
        return str(self.rng.randrange(25, 60, 5))

    def slot_fillers(self) -> str:
        return self.rng.choice(["erm,", "you know,", "I mean,"])
