"""The identity key compiled for matching, kept as JSON so that a command need not compile it again.

Compiling the key (`qualcode.privacy.pseudonyms.Matcher`: every form of every
name, and their trie) takes 0.05 s on the bundled corpus's key and over half a
second on a key of 2,000 names, in every command that pseudonymises; reading it
back from JSON takes a fraction of that. The file holds real names, so it is
kept as the key is: owner-only, in the project's git-ignored ``.qualcode/``
folder. It is data, never code (no pickle: a project folder may be shared),
and it is used only while its stamp matches: the key's bytes, the
``[anonymise]`` settings and the matching code's source, so a changed key,
setting or qualcode never matches with a stale compilation. A file that cannot
be read or written is no error: the key is then compiled as before. Once the
key file is gone (destroyed, as an ethics approval may require), the next
command that pseudonymises deletes the compiled copy too.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

from qualcode.privacy import name_index, pseudonyms
from qualcode.privacy.name_index import FormIndex, Words
from qualcode.privacy.pseudonyms import KEY_FILE, Matcher, _Owner, anonymise_settings, project_key
from qualcode.project import Project

COMPILED_FILE = Path(".qualcode") / "identity-key.compiled.json"

#: The matchers this process has compiled or read, by stamp (a report pseudonymises many times).
_COMPILED: dict[str, Matcher] = {}


def compiled_matcher(project: Project) -> Matcher:
    """The project's identity key compiled for matching: from memory, from the compiled file if its stamp
    matches, else compiled from the key (which raises on a damaged key) and saved for the next command."""
    path = project.root / COMPILED_FILE
    if not (project.root / KEY_FILE).exists():  # no key, or one destroyed: no copy of its names may stay behind
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
        return project_key(project).matcher()
    try:
        stamp = _stamp(project)
    except OSError:  # a key it cannot read: compiling says so, naming the file
        return project_key(project).matcher()
    if stamp in _COMPILED:
        return _COMPILED[stamp]
    matcher = _read(path, stamp)
    if matcher is None:
        matcher = project_key(project).matcher()
        _write(path, stamp, matcher)
    _COMPILED.clear()
    _COMPILED[stamp] = matcher
    return matcher


def _stamp(project: Project) -> str:
    """What the compilation depends on: the key file (there is one: `compiled_matcher` asks first), the settings
    and the code that compiles and matches."""
    digest = hashlib.sha256((project.root / KEY_FILE).read_bytes())
    digest.update(json.dumps(anonymise_settings(project), sort_keys=True, default=str).encode())
    for module in (pseudonyms, name_index):
        digest.update(Path(module.__file__).read_bytes())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()


def _read(path: Path, stamp: str) -> Matcher | None:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return _from_state(state) if isinstance(state, dict) and state.get("stamp") == stamp else None


def _write(path: Path, stamp: str, matcher: Matcher) -> None:
    """Owner-only, replaced atomically (a reader sees the old file or the new, never half of one)."""
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(_state(stamp, matcher), handle, ensure_ascii=False, separators=(",", ":"))
        os.replace(temporary, path)
    except OSError:  # a read-only project folder: compile again next time
        temporary.unlink(missing_ok=True)


def _state(stamp: str, matcher: Matcher) -> dict:
    owners = list(dict.fromkeys(matcher.owners.values()))
    number = {owner: n for n, owner in enumerate(owners)}
    return {
        "stamp": stamp, "threshold": matcher.threshold, "exact_case": matcher.exact_case,
        "owners": [[owner.replacement, owner.kind] for owner in owners],
        "forms": {form: number[owner] for form, owner in matcher.owners.items()},
        "trie": _node(matcher.forms.root), "starts": sorted(matcher.forms.starts),
        "single_words": matcher._single_words, "pairs": matcher._pairs,
    }


def _from_state(state: dict) -> Matcher:
    matcher = Matcher.__new__(Matcher)
    owners = [_Owner(replacement, kind) for replacement, kind in state["owners"]]
    matcher.threshold, matcher.exact_case = state["threshold"], state["exact_case"]
    matcher.owners = {form: owners[n] for form, n in state["forms"].items()}
    matcher.forms = FormIndex(_words(state["trie"]), set(state["starts"]))
    matcher._single_words, matcher._pairs = state["single_words"], state["pairs"]
    matcher._fuzzy_cache = {}
    return matcher


def _node(node: Words) -> list:
    return [{word: _node(child) for word, child in node.deeper.items()}, node.ends]


def _words(node: list) -> Words:
    deeper, ends = node
    return Words({word: _words(child) for word, child in deeper.items()}, ends)
