"""Project settings (`qualcode.toml`) and the controlled vocabularies they hold.

The defaults live in one file, `qualcode/data/qualcode.toml`, which `qualcode
init` copies into a new project; a project's own file is merged over them, so
an old project keeps working when a new setting is added.
"""

from __future__ import annotations

import functools
import os
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from qualcode.errors import Problem, QualcodeError

SETTINGS_FILE = "qualcode.toml"

#: What each vocabulary holds, in the words an error message uses.
VOCABULARY_NOUNS = {
    "locality": "locality",
    "phase": "school phase",
    "school_type": "school type",
    "ofsted": "grade",
    "designation": "designation",
    "partnership_kind": "partnership kind",
    "role": "staff role",
    "informant_kind": "informant kind",
    "transcript_kind": "transcript kind",
}


def default_settings_text() -> str:
    return resources.files("qualcode").joinpath("data", SETTINGS_FILE).read_text(encoding="utf-8")


def _merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class UnknownValue(QualcodeError):
    """A metadata value outside its vocabulary; `suggestions` are the closest known values, best first.

    `str()` is the short message (for a filter typed on the command line or a
    line in a manuscript); `with_fix` adds, for metadata being imported, the
    `qualcode.toml` key that would take the value, since a study may well use
    a role or a designation the defaults do not list.
    """

    def __init__(self, vocabulary: str, value: object, suggestions: list[str]):
        self.vocabulary = vocabulary
        self.value = value
        self.suggestions = suggestions
        noun = VOCABULARY_NOUNS.get(vocabulary, vocabulary)
        hint = f"; did you mean {' or '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        super().__init__(f"'{value}' is not a known {noun}{hint}")

    @property
    def suggestion(self) -> str | None:
        return self.suggestions[0] if self.suggestions else None

    @property
    def with_fix(self) -> str:
        short = str(self)
        return (
            f"{short}{' ' if short.endswith('?') else '. '}To accept it, add it to {self.vocabulary} under"
            f" [vocabularies] in {SETTINGS_FILE}, or map it under [aliases.{self.vocabulary}]"
        )


@dataclass
class Vocabularies:
    """Controlled lists with aliases: `resolve` maps any accepted spelling to the canonical value."""

    values: dict[str, list[str]]
    aliases: dict[str, dict[str, str]] = field(default_factory=dict)

    def resolve(self, vocabulary: str, value: object) -> str:
        text = str(value).strip()
        canonical = {v.lower(): v for v in self.values[vocabulary]}
        canonical.update({a.lower(): v for a, v in self.aliases.get(vocabulary, {}).items()})
        if text.lower() in canonical:
            return canonical[text.lower()]
        raise UnknownValue(vocabulary, value, self.suggest(vocabulary, text))

    def suggest(self, vocabulary: str, text: str) -> list[str]:
        """The closest values, if close enough to help: the best, and up to two others about as close.

        A value may match in part ('academy' suggests both kinds of academy);
        an alias must match whole, or the short ones ('Head', 'TA') would be
        suggested for anything that contains them ('Head of maths'). Near
        ties are all offered, since fuzzy matching cannot tell which of
        'Head of year' and 'Head of department' a head of maths is.
        """
        from rapidfuzz import fuzz  # only on a typo: every command loads the settings

        text = text.lower()
        scores = {value: fuzz.WRatio(text, value.lower()) for value in self.values[vocabulary]}
        for alias, value in self.aliases.get(vocabulary, {}).items():
            scores[value] = max(scores.get(value, 0), fuzz.ratio(text, alias.lower()))
        ranked = sorted((score, -n, value) for n, (value, score) in enumerate(scores.items()) if score >= 60)[::-1]
        return [value for score, _, value in ranked[:3] if score >= ranked[0][0] - 6]


@dataclass
class Settings:
    database_url: str
    vocabularies: Vocabularies
    attribution: dict
    raw: dict

    @classmethod
    def load(cls, path: Path | None) -> Settings:
        """Defaults, overlaid with the project's `qualcode.toml` if `path` is given."""
        data = tomllib.loads(default_settings_text())
        if path is not None:
            text = path.read_text(encoding="utf-8")
            try:
                own = tomllib.loads(text)
            except tomllib.TOMLDecodeError as exc:
                raise QualcodeError(f"{path}: {exc}") from None
            _check_vocabularies(own, data["vocabularies"], path, text)
            data = _merge(data, own)
        values = {name: list(values) for name, values in data["vocabularies"].items()}
        # A default alias whose value a project dropped from its list would map outside the list.
        aliases = {
            name: {alias: value for alias, value in mapping.items() if value in values.get(name, ())}
            for name, mapping in data.get("aliases", {}).items()
        }
        return cls(data["database"]["url"], Vocabularies(values, aliases), data["attribution"], data)


def _check_vocabularies(own: dict, defaults: dict, path: Path, text: str) -> None:
    """A project's vocabularies must be lists and its aliases tables of names that map into them.

    Checked here, so that the message names `qualcode.toml` and the key,
    rather than every transcript whose value a mistyped list fails to match.
    """
    vocabularies = own.get("vocabularies", {})
    if not isinstance(vocabularies, dict):
        raise _settings_problem(path, text, None, "vocabularies", "write the lists under a [vocabularies] table")
    for name, values in vocabularies.items():
        _check_known(path, text, "vocabularies", name, defaults)
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            example = f'{name} = ["{values}"]' if isinstance(values, str) else f'{name} = ["...", "..."]'
            raise _settings_problem(path, text, "vocabularies", name, f"write a list of values in brackets, e.g. {example}")
    aliases = own.get("aliases", {})
    if not isinstance(aliases, dict):
        raise _settings_problem(path, text, None, "aliases", "write the aliases as tables, e.g. [aliases.role]")
    for name, mapping in aliases.items():
        _check_known(path, text, "aliases", name, defaults)
        if not isinstance(mapping, dict):
            raise _settings_problem(
                path, text, "aliases", name, f'write the aliases as a table: [aliases.{name}] with lines like "Spelling" = "Value"'
            )
        listed = {v.lower(): v for v in vocabularies.get(name, defaults[name])}
        for alias, value in mapping.items():
            if not isinstance(value, str) or value.lower() not in listed:
                raise _settings_problem(
                    path, text, f"aliases.{name}", alias, f"'{alias}' maps to '{value}', which is not in {name} under [vocabularies]"
                )
            if listed.get(alias.lower(), value) != value:
                raise _settings_problem(
                    path, text, f"aliases.{name}", alias, f"'{alias}' is itself a value of {name}; an alias cannot map it elsewhere"
                )


def _check_known(path: Path, text: str, table: str, name: str, defaults: dict) -> None:
    if name not in defaults:
        from rapidfuzz import process

        match = process.extractOne(name, list(defaults), score_cutoff=60)
        hint = f"did you mean '{match[0]}'?" if match else f"the vocabularies are {', '.join(defaults)}"
        raise _settings_problem(path, text, table, name, f"not a vocabulary; {hint}")


def _settings_problem(path: Path, text: str, table: str | None, key: str, message: str) -> Problem:
    """A `Problem` at the line of `key` in `table` (or of the table itself) in `qualcode.toml`."""
    section, line_number = None, None
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            section = stripped.strip("[] ")
            if table is None and section == key or section == f"{table}.{key}":
                line_number = number
        elif section == table and stripped.split("=")[0].strip().strip('"') == key:
            line_number = number
        if line_number:
            break
    return Problem(path, line_number, f"{table}.{key}" if table else key, message)


def default_coder() -> str:
    """Who a change is by (and who is looking) when no one is named: $QUALCODE_CODER, else git's user.name,
    else the login name. A team shares one database, and git's name is the one people already set as theirs."""
    import getpass

    return os.environ.get("QUALCODE_CODER") or _git_user_name() or getpass.getuser()


@functools.cache
def _git_user_name() -> str | None:
    """git's `user.name`, if git is installed and it is set (a few milliseconds: asked only when needed, and once)."""
    import subprocess

    try:
        found = subprocess.run(["git", "config", "user.name"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return found.stdout.strip() or None
