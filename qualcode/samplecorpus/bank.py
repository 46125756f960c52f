"""Loading the content YAML files: statement bank, schedule, names, design.

Content lives in ``data/*.yaml`` so that researchers can read and extend it
without touching code. A line of content may start with ``tag,tag| `` to say
who can speak it (see ``data/schedule.yaml``); `Line` keeps the tags apart
from the text so that the generator can filter by speaker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

_TAGGED = re.compile(r"^(?P<tags>[a-z!+][a-z0-9!+/,\- ]*)\| (?P<text>.*)$", re.S)


@dataclass(frozen=True)
class Line:
    """One piece of content text with the speaker tags it requires."""

    text: str
    needs: frozenset[str] = frozenset()
    refuses: frozenset[str] = frozenset()
    #: Further codes the line was written for ("+code/path" among the tags): the passage carries them too.
    also: tuple[str, ...] = ()

    def fits(self, tags: frozenset[str]) -> bool:
        return self.needs <= tags and not (self.refuses & tags)


def parse_line(raw: str) -> Line:
    """Split ``"school,primary,+other/code| text"`` into tags, extra codes and text (untagged: anyone)."""
    match = _TAGGED.match(raw)
    if not match:
        return Line(raw)
    tags = [t.strip() for t in match.group("tags").split(",") if t.strip()]
    return Line(
        match.group("text"),
        frozenset(t for t in tags if t[0] not in "!+"),
        frozenset(t[1:] for t in tags if t.startswith("!")),
        tuple(t[1:] for t in tags if t.startswith("+")),
    )


def parse_lines(raws: list[str] | tuple[str, ...]) -> tuple[Line, ...]:
    return _parse_lines(tuple(raws))


@cache
def _parse_lines(raws: tuple[str, ...]) -> tuple[Line, ...]:
    """Parsed once per distinct list: the generator asks for the same schedule lists thousands of times."""
    return tuple(parse_line(raw) for raw in raws)


@cache
def load(name: str) -> dict:
    """Read ``data/<name>.yaml`` from the package (cached: the files never change at run time)."""
    text = resources.files("qualcode.samplecorpus").joinpath("data", f"{name}.yaml").read_text(encoding="utf-8")
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@dataclass(frozen=True)
class CodeBank:
    """What participants say (`say`) and what notes summarise (`notes`) for one code."""

    code: str
    say: tuple[Line, ...]
    notes: tuple[Line, ...]


@cache
def statement_bank() -> dict[str, CodeBank]:
    """All ``statements_*.yaml`` files merged, keyed by code path, in file order."""
    bank: dict[str, CodeBank] = {}
    for name in ("statements_hierarchy", "statements_markets", "statements_networks",
                 "statements_leadership_equity", "statements_informants", "statements_system",
                 "statements_observers", "statements_roles", "statements_school",
                 "statements_more"):
        for code, entry in (load(name) or {}).items():
            old = bank.get(code)
            say = parse_lines(entry.get("say", []))
            notes = parse_lines(entry.get("notes", []))
            if old:
                say, notes = old.say + say, old.notes + notes
            bank[code] = CodeBank(code, say, notes)
    return bank


@cache
def variation() -> tuple[re.Pattern, dict[str, list[str]]]:
    """One pattern matching any phrase of data/variation.yaml (longest first, whole words) and each phrase's group."""
    groups: dict[str, list[str]] = {}
    for group in load("variation")["groups"]:
        for phrase in group:
            groups.setdefault(phrase, group)
    alternatives = "|".join(re.escape(p) for p in sorted(groups, key=len, reverse=True))
    return re.compile(rf"(?<![\w'{{|])(?:{alternatives})(?![\w'}}|])"), groups


def distinct_statements() -> list[str]:
    """Every distinct statement text in the bank (spoken and summary), for counting."""
    seen: dict[str, None] = {}
    for entry in statement_bank().values():
        for line in entry.say + entry.notes:
            seen.setdefault(line.text, None)
    return list(seen)
