"""Project settings (`qualcode.toml`) and the controlled vocabularies they hold.

The defaults live in one file, `qualcode/data/qualcode.toml`, which `qualcode
init` copies into a new project; a project's own file is merged over them, so
an old project keeps working when a new setting is added.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from qualcode.errors import QualcodeError

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
    """A metadata value outside its vocabulary; `suggestion` is the closest known value."""

    def __init__(self, vocabulary: str, value: object, suggestion: str | None):
        self.vocabulary = vocabulary
        self.value = value
        self.suggestion = suggestion
        noun = VOCABULARY_NOUNS.get(vocabulary, vocabulary)
        hint = f"; did you mean '{suggestion}'?" if suggestion else ""
        super().__init__(f"'{value}' is not a known {noun}{hint}")


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

    def suggest(self, vocabulary: str, text: str) -> str | None:
        """The closest value or alias (as its canonical value), if it is close enough to help."""
        from rapidfuzz import fuzz, process  # only on a typo: every command loads the settings

        choices = {v: v for v in self.values[vocabulary]}
        choices.update(self.aliases.get(vocabulary, {}))
        match = process.extractOne(text, list(choices), scorer=fuzz.WRatio, score_cutoff=60)
        return choices[match[0]] if match else None


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
            try:
                data = _merge(data, tomllib.loads(path.read_text(encoding="utf-8")))
            except tomllib.TOMLDecodeError as exc:
                raise QualcodeError(f"{path}: {exc}") from None
        vocabularies = Vocabularies(
            {name: list(values) for name, values in data["vocabularies"].items()},
            {name: dict(mapping) for name, mapping in data.get("aliases", {}).items()},
        )
        return cls(data["database"]["url"], vocabularies, data["attribution"], data)
