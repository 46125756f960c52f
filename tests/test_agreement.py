"""Inter-coder agreement on a small real project: two coders, uncoded turns, overlapping spans,
a span running into the interviewer's turn, one coder missing a transcript, one transcript nobody coded.

Participant turns of the fixture corpus: EAS-S01-DH t3, EAS-S01-HT t2 and t4, EAS-S02-HT t2 and t4,
NAT-I01 t2. Every figure below is worked out by hand from `CODINGS` (see the comments).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from qualcode.analysis import agreement
from qualcode.analysis.agreement import sentences
from qualcode.coding.codebook import add_code
from qualcode.coding.manual import apply_codes
from qualcode.ingest.corpus import import_paths
from qualcode.errors import QualcodeError
from qualcode.project import Project, init_project
from qualcode.analysis.reliability import unitizing_terms
from tests.coded_fixture import IDENTITY_KEY, span_of
from tests.conftest import REPO

#: (coder, transcript, first words, last words, code): the span runs from the first to the end of the last.
CODINGS = [
    # ann: markets in HT t2 and S02 t4; a span from the end of S02 t2 into the interviewer's question.
    ("ann", "EAS-S01-HT", "a two-form entry primary", "a two-form entry primary", "markets"),
    ("ann", "EAS-S02-HT", "we have not forgotten it.", "And your designation", "markets"),
    ("ann", "EAS-S02-HT", "It brings status but also pressure.", "It brings status but also pressure.", "markets"),
    # ann: two overlapping networks spans in HT t4 (one stretch), and DH, which ben never coded.
    ("ann", "EAS-S01-HT", "The alliance matters most to us.", "The alliance matters most to us.", "networks"),
    ("ann", "EAS-S01-HT", "matters most to us.", "Since the local authority", "networks"),
    ("ann", "EAS-S01-DH", "It has opened doors.", "It has opened doors.", "networks"),
    # ben: markets in S02 t2 (the Year 7 sentence), networks in HT t4 (another sentence than ann's).
    ("ben", "EAS-S02-HT", "Every September", "compare with the school down the road.", "markets"),
    ("ben", "EAS-S01-HT", "we buy in support from the teaching school.", "we buy in support from the teaching school.", "networks"),
]


def span(project: Project, transcript: str, first: str, last: str) -> tuple[int, int]:
    start = span_of(project, transcript, first)[0]
    return start, span_of(project, transcript, last)[1] if last != first else start + len(first)


def make_two_coder_project(root: Path, corpus: Path, database_url: str | None = None) -> Project:
    project = init_project(root, database_url=database_url)
    import_paths(project, [corpus])
    for code in ("markets", "networks"):
        add_code(project, code, "tester")
    for coder, transcript, first, last, code in CODINGS:
        apply_codes(project, transcript, [code], coder, span=span(project, transcript, first, last))
    # A suggestion is not a judgement: it must not make ben a coder of EAS-S01-DH.
    apply_codes(project, "EAS-S01-DH", ["markets"], "ben", span=span_of(project, "EAS-S01-DH", "It has opened doors."),
                origin="suggested")
    (root / "identity-key.csv").write_text(IDENTITY_KEY, encoding="utf-8")
    return project


@pytest.fixture
def team(tmp_path: Path, corpus: Path) -> Project:
    return make_two_coder_project(tmp_path / "team", corpus)


def test_turn_units_count_uncoded_turns_as_absent_and_an_uncoded_transcript_as_missing(team: Project) -> None:
    report = agreement.agreement(team, ["ann", "ben"], unit="turn")
    assert report.missing == {"ben": ["EAS-S01-DH", "NAT-I01"], "ann": ["NAT-I01"]}
    markets, networks = report.per_code["markets"], report.per_code["networks"]
    # markets (ann, ben): DH (0, -), HT t2 (1, 0), HT t4 (0, 0), S02 t2 (1, 1), S02 t4 (1, 0), NAT (-, -)
    assert (markets["units"], markets["coded_units"], markets["missing_units"]) == (6, 3, 2)
    assert markets["percent_agreement"] == 0.5 and markets["absent_share"] == 0.5
    assert markets["cohen_kappa"] == pytest.approx(0.2)  # p_e = 3/4 * 1/4 + 1/4 * 3/4
    assert markets["krippendorff_alpha"] == pytest.approx(0.125)  # 1 - 4 / (32 / 7)
    assert markets["brennan_prediger"] == 0.0
    # networks: DH (1, -), HT t4 (1, 1), the three other complete turns (0, 0)
    assert (networks["units"], networks["coded_units"]) == (6, 2)
    assert networks["percent_agreement"] == 1.0 and networks["absent_share"] == 0.75 and networks["cohen_kappa"] == 1.0
    overall = report.overall
    assert (overall["units"], overall["coded_units"], overall["decisions"]) == (6, 5, 12)
    assert overall["percent_agreement"] == 0.75 and overall["absent_share"] == pytest.approx(2 / 3)


def test_sentence_units_split_turns_and_a_coders_overlapping_spans_count_once(team: Project) -> None:
    report = agreement.agreement(team, ["ann", "ben"], codes="networks", unit="sentence")
    # HT t4: 'The alliance...' (1, 0), 'Since ... teaching school.' (1, 1), 'We also share...' (0, 0);
    # HT t2: 3 sentences, S02 t2: 3, S02 t4: 2, all (0, 0); DH t3 and NAT t2 missing for ben.
    networks = report.per_code["networks"]
    assert networks["percent_agreement"] == pytest.approx(10 / 11)
    assert networks["absent_share"] == pytest.approx(9 / 10)


def test_segment_units_are_what_any_coder_coded_clipped_to_participant_turns(team: Project) -> None:
    material = agreement.load_material(team, ["ann", "ben"], "markets")
    judged = agreement.units_of(material, "segment", next(iter(material.codes)))
    turn_end = 288  # the end of S02 t2: ann's span ran on into the interviewer's question
    found = {(u.transcript, team_text(team, u)): pattern for u, pattern in judged}
    assert found == {
        ("EAS-S01-HT", "a two-form entry primary"): (1, 0),
        ("EAS-S02-HT", "Every September we count the Year 7 numbers and compare with the school down the road."): (0, 1),
        ("EAS-S02-HT", "we have not forgotten it."): (1, 0),
        ("EAS-S02-HT", "It brings status but also pressure."): (1, 0),
    }
    assert any(u.end == turn_end for u, _ in judged)
    assert agreement.agreement(team, ["ann", "ben"], "markets", "segment").per_code["markets"]["absent_share"] is None


def team_text(project: Project, unit) -> str:
    from qualcode.models import Transcript

    with project.session() as session:
        return session.get(Transcript, unit.transcript).text[unit.start:unit.end]


def test_character_units_weigh_each_character(team: Project) -> None:
    report = agreement.agreement(team, ["ann", "ben"], codes="networks", unit="character")
    networks = report.per_code["networks"]
    ben = len("we buy in support from the teaching school.")
    ann = len("The alliance matters most to us. Since the local authority")
    assert networks["coded_units"] == ann + ben + len("It has opened doors.")
    # In HT and S02 (complete) the coders disagree on exactly the characters one of them coded.
    complete = networks["units"] - networks["missing_units"]
    assert networks["percent_agreement"] == pytest.approx((complete - ann - ben) / complete)


def test_unitizing_alpha_reads_the_participants_talk_of_the_transcripts_both_coded(team: Project) -> None:
    """Each transcript both coded is a continuum: its participant turns end to end, spans clipped to them."""
    report = agreement.agreement(team, ["ann", "ben"], codes="markets")
    turns = {"EAS-S01-HT": [(72, 268), (323, 494)], "EAS-S02-HT": [(98, 288), (358, 486)]}
    lengths = [sum(e - s for s, e in spans) for spans in turns.values()]

    def talk(transcript: str, first: str, last: str | None = None) -> tuple[int, int]:
        """Offsets in the participant's talk: the text before the turn's start, less the interviewer's words."""
        start, end = span(team, transcript, first, last or first)
        (s1, e1), (s2, e2) = turns[transcript]
        shift = s1 if start < e1 else s2 - (e1 - s1)
        return start - shift, min(end, e1 if start < e1 else e2) - shift

    ann = {0: [talk("EAS-S01-HT", "a two-form entry primary")],
           1: [talk("EAS-S02-HT", "we have not forgotten it."), talk("EAS-S02-HT", "It brings status but also pressure.")]}
    ben = {1: [talk("EAS-S02-HT", "Every September", "compare with the school down the road.")]}
    assert ann[1][1][0] == 190  # S02's second turn begins where its first (190 characters) ends
    assert report.per_code["markets"]["unitizing_alpha"] == pytest.approx(unitizing_terms(lengths, [ann, ben]).alpha)


def test_a_coder_agrees_with_themself_and_unknown_coders_are_named(team: Project) -> None:
    with pytest.raises(QualcodeError, match="at least two coders"):
        agreement.agreement(team, ["ann", "ann"])
    with pytest.raises(QualcodeError, match="no coder 'bne'.*did you mean 'ben'"):
        agreement.agreement(team, ["ann", "bne"])


@pytest.mark.parametrize(("where", "transcripts"), [
    ({"locality": "Eastern"}, 3), ({"designation": "LLE"}, 2), ({"partnership": "EAS-TSA1"}, 3),
    ({"phase": "secondary"}, 1), ({"role": "Headteacher", "phase": "primary"}, 1),
])
def test_where_keeps_only_the_matching_transcripts(team: Project, where: dict, transcripts: int) -> None:
    assert agreement.agreement(team, ["ann", "ben"], where=where).transcripts == transcripts


def test_where_that_matches_nothing_says_so(team: Project) -> None:
    with pytest.raises(QualcodeError, match="no transcript matches --where phase=special"):
        agreement.agreement(team, ["ann", "ben"], where={"phase": "special"})


def test_three_coders_have_no_cohen_kappa_but_fleiss_and_alpha(team: Project) -> None:
    apply_codes(team, "EAS-S01-HT", ["networks"], "cat", span=span_of(team, "EAS-S01-HT", "The alliance matters most to us."))
    report = agreement.agreement(team, ["ann", "ben", "cat"], codes="networks")
    networks = report.per_code["networks"]
    assert networks["cohen_kappa"] is None
    # Complete units: HT t2 (0, 0, 0) and HT t4 (1, 1, 1); S02 (cat has not coded it) is alpha's alone.
    assert networks["percent_agreement"] == 1.0 and networks["fleiss_kappa"] == 1.0
    assert networks["krippendorff_alpha"] == 1.0 and report.missing["cat"] == ["EAS-S01-DH", "EAS-S02-HT", "NAT-I01"]


def test_sentences_end_after_stops_and_closing_quotes() -> None:
    text = 'One. "Two?" Three!  Four'
    assert [text[s:e] for s, e in sentences(text, 0, len(text))] == ["One.", '"Two?"', "Three!", "Four"]


def test_disagreements_name_the_coders_and_pseudonymise_the_words(team: Project) -> None:
    found = agreement.disagreements(team, ["ann", "ben"], unit="sentence")
    by_code = {(d["transcript"], d["code"], d["coded_by"][0]): d for d in found}
    year = by_code["EAS-S02-HT", "markets", "ben"]
    assert year["not_coded_by"] == ["ann"] and year["missing"] == []
    assert "[year group]" in year["text"] and "Year 7" not in year["text"]
    assert by_code["EAS-S01-HT", "networks", "ann"]["text"] == "The alliance matters most to us."
    raw = agreement.disagreements(team, ["ann", "ben"], unit="sentence", raw=True)
    assert any("Year 7" in d["text"] for d in raw)
    # Nobody disagrees where a coder has not judged: DH's networks sentence is ann's alone.
    assert all(d["transcript"] not in ("EAS-S01-DH", "NAT-I01") for d in found)


def test_the_command_prints_json_tables_and_disagreements(team: Project, run) -> None:
    result = run("agreement", "--coders", "ann,ben", "--json", "--project", str(team.root))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data["overall"]) >= {"percent_agreement", "cohen_kappa", "fleiss_kappa", "krippendorff_alpha",
                                    "brennan_prediger", "unitizing_alpha", "units", "coded_units", "absent_share"}
    assert data["per_code"]["markets"]["cohen_kappa"] == pytest.approx(0.2)
    assert "ben has not coded 2 of 4 transcripts (EAS-S01-DH, NAT-I01)" in result.stderr

    three = run("agreement", "--coders", "ann,ben,tester", "--json", "--project", str(team.root))
    assert three.returncode == 1 and "no coder 'tester' has coded anything" in three.stderr

    table = run("agreement", "--coders", "ann,ben", "--unit", "character", "--project", str(team.root))
    assert table.returncode == 0, table.stderr
    assert re.search(r"overall .*\d+", table.stdout) and "Kripp. α" in table.stdout
    assert "of the agreement is on characters nobody coded" in table.stderr

    listing = run("agreement", "--coders", "ann,ben", "--disagreements", "--raw", "--project", str(team.root))
    assert listing.returncode == 0 and "--raw: names are not pseudonymised" in listing.stderr
    assert "2 disagreements" in listing.stdout and "a two-form entry primary" in listing.stdout
    # A turn: ann coded only part of it, and the table shows which words.
    assert "ann: a two-form entry primary" in listing.stdout

    found = run("agreement", "--coders", "ann,ben", "--disagreements", "--unit", "sentence", "--json",
                "--project", str(team.root))
    rows = json.loads(found.stdout)
    assert len(rows) == 5 and {r["code"] for r in rows} == {"markets", "networks"}
    assert all("Year 7" not in r["text"] for r in rows)


def test_the_command_imports_neither_spacy_nor_pandas(team: Project) -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "qualcode", "agreement", "--coders", "ann,ben",
         "--unit", "sentence", "--project", str(team.root)],
        capture_output=True, text=True, cwd=REPO,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    modules = set(re.findall(r"^import time:.*\|\s+([\w.]+)$", result.stderr, re.MULTILINE))
    assert "qualcode.analysis.agreement" in modules and not {"spacy", "pandas", "krippendorff"} & modules
