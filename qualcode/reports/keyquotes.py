"""Key quotes for a locality case study, chosen by a rule a reader can check.

A case study is about its schools, so its key quotes must speak for them: not
for whoever was coded first or most. The rule (`RULE`, printed in each case
study's method note) picks quotes one at a time, each the candidate that adds
most that is not yet represented: a school not yet quoted, a phase, a role, an
Ofsted grade. System informants (RSC, Ofsted, local authority) see the whole
locality from outside; they are chosen by the same rule but shown apart.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from qualcode.reports.contexts import Quote

#: School staff's key quotes per theme, system informants' per theme, and the quotes one participant may have.
STAFF_QUOTES = 4
INFORMANT_QUOTES = 2
PER_PARTICIPANT = 2
#: Preferred codings first: a coder's own, then suggestions a coder accepted.
ORIGIN_RANK = {"manual": 0, "accepted": 1}


def rule(min_words: int, max_words: int) -> list[str]:
    """The selection rule as the case study's method note states it."""
    return [
        "Candidates are the manually coded and accepted passages of each top-level theme (or its children) in the "
        f"locality, cut to the words of the participant, of {min_words} to {max_words} words; longer passages are "
        "shortened at a sentence end, and an ellipsis (...) marks where a quote starts or stops inside a sentence.",
        f"For each theme, up to {STAFF_QUOTES} quotes from school staff are chosen one at a time: each is the candidate "
        "that adds most not yet represented. A school not yet quoted in this case study and a phase not yet quoted "
        "on the theme count two points each; a school, role or Ofsted grade new to the theme one point each.",
        "Ties go to manually coded passages before accepted ones, then to passages a coder flagged important, then "
        "to quotes of whole sentences, then to text order.",
        f"No participant is quoted more than once on a theme or more than {PER_PARTICIPANT} times in the case study, "
        "and no passage twice.",
        f"System informants are chosen by the same rule (up to {INFORMANT_QUOTES} per theme, each informant counting "
        "as a school of their own) and shown in their own section, apart from the voices of the schools.",
    ]


@dataclass
class _Tally:
    """What the case study has quoted so far, across themes."""

    participants: Counter = field(default_factory=Counter)
    schools: set[str] = field(default_factory=set)
    passages: set[str] = field(default_factory=set)


def choose_key_quotes(quotes: list[Quote], themes: list[str]) -> dict[str, tuple[list[Quote], list[Quote]]]:
    """Theme -> (school staff's key quotes, system informants' key quotes), by `rule`.

    `quotes` are the candidates in text order (important first), each coded
    with a theme or one of its children.
    """
    tally = _Tally()
    chosen = {}
    for theme in themes:
        pool = [q for q in quotes if q.code.split("/")[0] == theme]
        staff = _pick([q for q in pool if not q.informant], STAFF_QUOTES, tally)
        informants = _pick([q for q in pool if q.informant], INFORMANT_QUOTES, tally)
        chosen[theme] = (staff, informants)
    return chosen


def _pick(pool: list[Quote], limit: int, tally: _Tally) -> list[Quote]:
    """Up to `limit` quotes from `pool`, each the one that adds most not yet represented (see `rule`)."""
    picked: list[Quote] = []
    seen: dict[str, set] = {"school": set(), "phase": set(), "role": set(), "ofsted": set()}
    while len(picked) < limit:
        here = {q.participant for q in picked}
        eligible = [
            (order, q) for order, q in enumerate(pool)
            if q.id not in tally.passages and q.participant not in here and tally.participants[q.participant] < PER_PARTICIPANT
        ]
        if not eligible:
            break
        _, best = min(eligible, key=lambda item: _rank(item[1], item[0], seen, tally))
        picked.append(best)
        tally.participants[best.participant] += 1
        tally.passages.add(best.id)
        tally.schools.add(_school(best))
        for name, value in _traits(best).items():
            seen[name].add(value)
    return picked


def _rank(quote: Quote, order: int, seen: dict[str, set], tally: _Tally) -> tuple:
    """Lower is better: most new to the case study and the theme, then manual, important, whole, first."""
    new = {name: value not in seen[name] for name, value in _traits(quote).items()}
    points = 2 * (_school(quote) not in tally.schools) + 2 * new["phase"] + new["school"] + new["role"] + new["ofsted"]
    return (-points, ORIGIN_RANK.get(quote.origin, len(ORIGIN_RANK)), not quote.important, not quote.whole, order)


def _school(quote: Quote) -> str:
    """The quote's school, or for a system informant the informant: each is a case of one."""
    return quote.school or quote.participant


def _traits(quote: Quote) -> dict[str, str | None]:
    return {"school": _school(quote), "phase": quote.phase, "role": quote.role, "ofsted": quote.ofsted}
