"""The identity key compiled once and kept as JSON: it matches as the key does, is private, and is never stale."""

from __future__ import annotations

import stat

import pytest

from qualcode.privacy import compiled_key
from qualcode.privacy.compiled_key import COMPILED_FILE, compiled_matcher
from qualcode.privacy.pseudonyms import load_key
from tests.conftest import FIXTURES

KEY = FIXTURES / "anonymise" / "identity-key.csv"


@pytest.fixture
def keyed(project):
    key = load_key(project)
    key.import_csv(KEY)
    key.save()
    compiled_key._COMPILED.clear()  # as a new command starts: nothing compiled in memory
    return project


def _texts() -> list[str]:
    """Every line of the fixture corpus that names someone: what the key must catch, in every form."""
    return [line for path in sorted((FIXTURES / "anonymise").rglob("*.md"))
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_read_back_it_pseudonymises_as_the_key_compiled_afresh(keyed):
    compiled_matcher(keyed)
    path = keyed.root / COMPILED_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # it holds real names, as the key does
    compiled_key._COMPILED.clear()
    read_back = compiled_key._read(path, compiled_key._stamp(keyed))
    assert read_back is not None and compiled_matcher(keyed) is not None
    fresh = load_key(keyed).matcher()
    texts = _texts()
    assert any(fresh.pseudonymise(text)[1] for text in texts)  # the fixture's names are found...
    assert [read_back.pseudonymise(text) for text in texts] == [fresh.pseudonymise(text) for text in texts]


def test_a_changed_key_or_setting_is_compiled_again(keyed):
    assert compiled_matcher(keyed).pseudonymise("Ask Zebedee Quark.")[0] == "Ask Zebedee Quark."
    key = load_key(keyed)
    key.add("Zebedee Quark", "person", replacement="[the bursar]")
    key.save()
    assert compiled_matcher(keyed).pseudonymise("Ask Zebedee Quark.")[0] == "Ask [the bursar]."
    compiled_key._COMPILED.clear()  # the next command reads the file: compiled from the changed key too
    assert compiled_matcher(keyed).pseudonymise("Ask Zebedee Quark.")[0] == "Ask [the bursar]."
    before = compiled_key._stamp(keyed)
    keyed.settings.raw.setdefault("anonymise", {})["fuzzy_threshold"] = 80
    assert compiled_key._stamp(keyed) != before


@pytest.mark.parametrize("content", ["not json {", '{"stamp": "someone else\'s"}', "[1, 2]"])
def test_an_unreadable_or_foreign_file_is_ignored_and_replaced(keyed, content):
    path = keyed.root / COMPILED_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    matcher = compiled_matcher(keyed)
    assert matcher.pseudonymise(_texts()[0]) == load_key(keyed).matcher().pseudonymise(_texts()[0])
    assert compiled_key._read(path, compiled_key._stamp(keyed)) is not None


def test_a_key_that_cannot_be_read_is_reported_as_before(keyed):
    from qualcode.errors import ImportFailed
    from qualcode.privacy.pseudonyms import KEY_FILE

    key = keyed.root / KEY_FILE
    key.unlink()
    key.mkdir()  # unreadable as a file, whoever runs the test (root reads a 0000 file)
    with pytest.raises(ImportFailed) as failed:
        compiled_matcher(keyed)
    assert "cannot read the key" in str(failed.value.problems[0]) and KEY_FILE in str(failed.value.problems[0])


def test_once_the_key_is_destroyed_its_compiled_copy_goes_with_the_next_command(keyed):
    compiled_matcher(keyed)
    assert (keyed.root / COMPILED_FILE).exists()
    (keyed.root / "identity-key.csv").unlink()
    compiled_key._COMPILED.clear()
    assert not compiled_matcher(keyed).owners  # no key: nothing to replace
    assert not (keyed.root / COMPILED_FILE).exists()
