"""Queries on a small coded project, against counts worked out by hand from `coded_fixture.CODINGS`."""

from __future__ import annotations

import shutil
from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from qualcode.errors import QualcodeError
from qualcode.models import Coding, Transcript, Turn
from qualcode.analysis.overview import code_paths
from qualcode.analysis.framework import framework
from qualcode.analysis.query import COUNTED_ORIGINS, export_table, find, growing_batches, records
from qualcode.analysis.query_matrix import matrix
from qualcode.analysis.query_cooccur import cooccur
from qualcode.analysis.query_text import text_matches, text_search
from qualcode.analysis.query_where import parse_where
from tests.coded_fixture import CODINGS, change_codings, counted_spans, make_coded_project, tallies, words
from tests.conftest import FIXTURES


@pytest.fixture
def coded(tmp_path, corpus):
    return make_coded_project(tmp_path / "coded", corpus)


def cells(table) -> dict[tuple[str, str], float]:
    return {(code, column): value for code, row in table.iterrows() for column, value in row.items() if value}


def test_matrix_counts_segments_by_locality(coded):
    assert cells(matrix(coded, by="locality")) == {
        ("markets", "Eastern"): 2, ("markets/competition", "Eastern"): 2, ("networks", "Eastern"): 1,
        ("networks", "National"): 1, ("networks/tsa", "Eastern"): 2,
    }


def test_rollup_counts_children_in_their_parents(coded):
    table = matrix(coded, by="locality", rollup=True)
    assert table.loc["markets", "Eastern"] == 4
    assert table.loc["networks", "Eastern"] == 3
    assert table.loc["markets/competition", "Eastern"] == 2


def test_units(coded):
    competition = [phrase for _, phrase, code, _, _ in CODINGS if code == "markets/competition"]
    assert matrix(coded, codes="competition", unit="words").loc["markets/competition", "Eastern"] == sum(map(words, competition))
    by_unit = {unit: matrix(coded, codes="markets", rollup=True, unit=unit).loc["markets", "Eastern"]
               for unit in ("transcripts", "participants", "schools")}
    assert by_unit == {"transcripts": 2, "participants": 2, "schools": 2}


def test_list_fields_explode_and_two_fields_make_joined_columns(coded):
    assert cells(matrix(coded, codes="markets", by="designation")) == {
        ("markets", "LLE"): 1, ("markets", "NLE"): 1, ("markets", "Teaching School"): 1,
        ("markets/competition", "NLE"): 2, ("markets/competition", "Teaching School"): 2,
    }
    table = matrix(coded, codes="networks", by="locality,phase")
    assert list(table.columns) == ["Eastern / primary", "National / n/a"]
    assert table.loc["networks", "National / n/a"] == 1 and table.loc["networks/tsa", "Eastern / primary"] == 2


def test_where_resolves_values_through_the_vocabularies(coded):
    table = matrix(coded, where=parse_where(["ofsted=1"]))
    assert cells(table) == {("markets", "Eastern"): 1, ("markets/competition", "Eastern"): 2}
    assert cells(matrix(coded, where={"partnership": "eas-tsa1"}, codes="networks")) == {("networks", "Eastern"): 1, ("networks/tsa", "Eastern"): 2}
    with pytest.raises(QualcodeError, match="did you mean 'primary'"):
        matrix(coded, where={"phase": "primry"})
    with pytest.raises(QualcodeError, match="did you mean 'locality'"):
        parse_where(["localty=Eastern"])


def test_where_any_of_several_values_or_none_of_them(coded):
    from qualcode.analysis.agreement import transcripts_where
    from qualcode.analysis.query import transcript_meta
    from qualcode.analysis.query_where import Condition, apply_where

    def kept(*items: str) -> list[str]:
        where = parse_where(items)
        found = sorted(apply_where(coded, transcript_meta(coded), where)["transcript"])
        assert sorted(transcripts_where(coded, where)) == found  # the same rule in SQL as in pandas
        return found

    assert parse_where(["role=Headteacher, Principal", "phase!=primary"]) == {
        "role": Condition(("Headteacher", "Principal")), "phase": Condition(("primary",), negate=True)}
    assert kept("role=headteacher,principal") == ["EAS-S02-HT", "EAS-S01-HT"][::-1]
    assert kept("role!=Headteacher,Deputy head") == ["EAS-S02-HT", "NAT-I01"]
    # "None of" keeps what has no value for the field: the informant has no school, so no phase.
    assert kept("phase!=primary") == ["EAS-S02-HT", "NAT-I01"]
    assert kept("partnership!=EAS-TSA1", "locality=Eastern,National") == kept("partnership!=eas-tsa1")
    assert kept("ofsted=1,2", "role!=Principal") == ["EAS-S01-DH", "EAS-S01-HT"]
    assert sorted(text_search(coded, "partnerships", where=parse_where(["locality!=Eastern"]))["transcript"]) == ["NAT-I01"]
    with pytest.raises(QualcodeError, match="role is given twice; give its values once, comma-separated"):
        parse_where(["role=Headteacher", "role=Principal"])
    with pytest.raises(QualcodeError, match="FIELD!=VALUE"):
        parse_where(["role!="])
    with pytest.raises(QualcodeError, match="did you mean 'primary'"):
        kept("phase=secondary,primry")
    # a list field keeps a table of no rows as it is, columns and all (a code with no codings there)
    none = apply_where(coded, transcript_meta(coded).iloc[:0], parse_where(["designation=NLE"]))
    assert none.empty and list(none.columns) == list(transcript_meta(coded).columns)


def test_percentages(coded):
    row = matrix(coded, codes="networks", by="locality", percent="row")
    assert row.loc["networks"].tolist() == [50.0, 50.0]
    column = matrix(coded, codes="networks", by="locality", percent="column")
    assert column["Eastern"].tolist() == [33.3, 66.7]
    # of the column's coded passages, each once: with --rollup a parent's share is not diluted by its children's rows
    rolled = matrix(coded, by="locality", rollup=True, percent="column")
    assert rolled["Eastern"].tolist() == [66.7, 33.3, 50.0, 33.3]  # 4, 2, 3 and 2 of Eastern's 6 coded passages
    # For schools a column share is of the column's schools: one school has many codes, so shares need not add to 100.
    schools = matrix(coded, by="locality", unit="schools", percent="column")
    counts = matrix(coded, by="locality", unit="schools")
    assert (schools["Eastern"] == (counts["Eastern"] / 2 * 100).round(1)).all()  # Eastern has two schools
    assert schools["Eastern"].max() == 100.0 and schools["Eastern"].sum() > 100
    people = matrix(coded, by="phase", unit="participants", percent="column", where=parse_where(["phase!=secondary"]))
    assert people.loc["networks/tsa", "primary"] == 100.0 * matrix(coded, by="phase", unit="participants").loc["networks/tsa", "primary"] / 2


def test_suggestions_do_not_count(coded):
    assert matrix(coded, codes="networks").loc["networks", "National"] == 1


def test_find_and_or_not(coded):
    both = find(coded, "markets,tsa", mode="and")
    assert both["text"].tolist() == ["we buy in support from the teaching school."]
    assert both["codes"].tolist() == ["markets, networks/tsa"]
    assert both["attribution"].tolist() == ["Headteacher, maintained primary school, Ofsted Good"]
    without = find(coded, "markets,tsa", mode="not")
    assert len(without) == 3 and "teaching school" not in " ".join(without["text"])
    either = find(coded, "markets,tsa")
    assert len(either) == 5


def test_find_pseudonymises_and_gives_context(coded):
    passages = find(coded, "competition", context=20)
    assert passages["text"].iloc[0].startswith("Every September we count the [year group] numbers")
    assert passages["important"].iloc[0]
    assert passages["before"].iloc[0] == "l: Fierce, frankly. "
    raw = find(coded, "competition", raw=True)
    assert "Year 7" in raw["text"].iloc[0]


def test_find_pseudonymises_each_passage_as_if_alone(coded):
    """Each distinct text is pseudonymised once (contexts overlap, empty ones repeat): every row still reads
    as its own words put through the key, and texts never get one another's."""
    from qualcode.analysis.query import pseudonymiser
    from qualcode.privacy.pseudonyms import load_key

    key = load_key(coded)
    raw, clean = find(coded, "markets,networks", context=60, raw=True), find(coded, "markets,networks", context=60)
    for column in ("before", "text", "after"):
        assert clean[column].tolist() == [key.pseudonymise(text)[0] for text in raw[column]]
    assert any("Year 7" in text for text in raw["text"]) and not any("Year 7" in text for text in clean["text"])
    texts = ["the Year 7 intake", "", "Year 7", "the Year 7 intake", "no names here", ""]
    assert [pseudonymiser(coded)(text) for text in texts] == [key.pseudonymise(text)[0] for text in texts]


def test_text_search_by_word_wildcard_and_fuzzy(coded):
    hits = text_search(coded, "pupil*")
    assert hits[["transcript", "match"]].values.tolist() == [["EAS-S02-HT", "pupils"]]
    assert text_search(coded, "pupills", fuzzy=True)["match"].tolist() == ["pupils"]
    # The interviewer's question mentions competition; only participants' words are searched.
    assert text_search(coded, "competition").empty
    assert text_search(coded, "partnerships", where={"locality": "National"})["transcript"].tolist() == ["NAT-I01"]
    assert text_search(coded, "partnerships", where={"locality": "Eastern"}).empty


def test_growing_batches_cover_every_item_in_order_in_runs_that_double():
    items = list(range(1000))
    runs = list(growing_batches(items, first=4, most=256))
    assert [len(run) for run in runs] == [4, 8, 16, 32, 64, 128, 256, 256, 236]
    assert [item for run in runs for item in run] == items and list(growing_batches([])) == []


def test_text_matches_are_found_as_they_are_read_and_bad_arguments_fail_before_the_first(coded):
    found = text_matches(coded, "partnership*")
    assert not isinstance(found, (list, tuple)) and iter(found) is found  # nothing searched until read
    rows = list(found)
    assert [row["transcript"] for row in rows] == text_search(coded, "partnership*")["transcript"].tolist()
    assert len(rows) >= 1 and next(found, None) is None
    for bad in (dict(lemma=True, fuzzy=True), dict(pattern=" ")):
        with pytest.raises(QualcodeError):
            text_matches(coded, **{"pattern": "x", **bad})  # raised by the call itself, not by reading rows


@pytest.mark.parametrize("pattern", ["partnership*", "the local", "school", "we", "zzz nowhere", "* *", "s* s*"])
def test_text_search_skips_only_turns_without_a_hit(coded, pattern):
    from qualcode.analysis.query_text import _Matches, _participant_passages, _regex_hits, _word_regex

    with coded.session() as session:
        everything = set(session.scalars(select(Transcript.id)))
    regex = _word_regex(pattern)
    every_turn = _regex_hits(regex, _participant_passages(coded, everything))
    assert _regex_hits(regex, _participant_passages(coded, everything, _word_regex(pattern, bounded=False))) == every_turn
    # A turn's words are searched on their own: a word char just before the turn cannot hide a hit in it.
    text = "xSchool leaders"
    assert _word_regex("school").search(text[1:]) and not _word_regex("school").search(text)
    assert _word_regex("school", bounded=False).search(text)
    # A match the search skips, inside another ('a a' at 2 in 'a a a'), is in a turn that other one reaches into.
    found = _Matches(_word_regex("a a", bounded=False), "a a a")
    assert found.overlap(2, 5) and not found.overlap(3, 5)


def test_text_search_by_lemma(coded):
    pytest.importorskip("qualcode.suggestions.nlp")
    hits = text_search(coded, "pupil", lemma=True)
    assert hits["match"].tolist() == ["pupils"]


def test_framework_counts_and_passages(coded, tmp_path):
    counts = framework(coded, by="school")
    assert counts.to_dict(orient="index") == {"EAS-S01": {"markets": 1, "networks": 3}, "EAS-S02": {"markets": 3, "networks": 0}}
    passages = framework(coded, by="participant", codes="tsa", cells="passages")
    assert passages.loc["EAS-S01-HT", "networks/tsa"].count("[EAS-S01-HT ") == 2
    path = export_table(passages, tmp_path / "framework.xlsx")
    from openpyxl import load_workbook

    sheet = load_workbook(path).active
    assert [c.value for c in sheet[1]] == ["participant", "networks/tsa"]


def test_framework_small_cells_are_those_of_the_quote_banks_and_coarsen_pools_them(coded):
    from qualcode.reports.quotes import Selection, build_quotes, small_cell_quotes

    warnings: list[str] = []
    people = framework(coded, by="participant", warnings=warnings)
    assert list(people.index) == ["EAS-S01-DH", "EAS-S01-HT", "EAS-S02-HT", "NAT-I01"]
    _, bank = small_cell_quotes(coded, build_quotes(coded, None, Selection()))
    # the rule is the quote banks': each speaker they warn about (NAT-I01 has no quotable passage) is warned about here
    assert {w.split(": ")[1] for w in bank} == {"EAS-S01-DH", "EAS-S01-HT", "EAS-S02-HT"}
    assert {w.split(":")[0] for w in warnings} == {"EAS-S01-DH", "EAS-S01-HT", "EAS-S02-HT", "NAT-I01"}
    assert "'Principal, secondary converter academy, Ofsted Outstanding' in Eastern fits 1 person" in " ".join(warnings)

    pooled: list[str] = []
    coarse = framework(coded, by="participant", coarsen=True, warnings=pooled)
    # pooled under their locality and the coarse line a quote bank gives them
    assert coarse.to_dict(orient="index") == {
        "Eastern: Deputy headteacher": {"markets": 0, "networks": 1}, "Eastern: Headteacher": {"markets": 1, "networks": 2},
        "Eastern: Principal": {"markets": 3, "networks": 0}, "National: System informant interviewee": {"markets": 0, "networks": 1}}
    assert "EAS-S02-HT: 'Principal, secondary converter academy, Ofsted Outstanding' in Eastern fits 1 person; " \
           "pooled into 'Eastern: Principal' (1 case)" in pooled
    schools: list[str] = []
    assert framework(coded, by="school", coarsen=True, warnings=schools).to_dict(orient="index") == {
        "Eastern: schools": {"markets": 4, "networks": 3}}
    assert len(schools) == 2 and all(w.endswith("pooled into 'Eastern: schools' (2 cases)") for w in schools)


def test_exports(coded, tmp_path):
    table = matrix(coded)
    assert (export_table(table, tmp_path / "m.csv").read_text().splitlines()[0]) == "code,Eastern,National"
    assert records(table)[0] == {"code": "markets", "Eastern": 2, "National": 0}
    with pytest.raises(QualcodeError):
        export_table(table, tmp_path / "m.txt")


# Co-occurrence against a brute-force count on random codings (hypothesis)

ORIGINS = ["manual", "accepted", "auto", "suggested"]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """One coded project for every example: each example replaces all its codings (hypothesis runs
    many examples per test call, so a function-scoped fixture would be shared between them anyway)."""
    root = tmp_path_factory.mktemp("cooccur")
    shutil.copytree(FIXTURES / "corpus", root / "corpus")
    return make_coded_project(root / "coded", root / "corpus")


@st.composite
def random_codings(draw, texts: dict[str, str], codes: list[int], coarse: bool = False) -> list[tuple[str, int, int, int, str]]:
    """(transcript, start, end, code, origin) rows; the fixture's transcripts are short, so spans overlap often.

    `coarse` spans start and end on a grid of a few places, so spans are often coded with a code
    and its parent; and a coding may repeat an earlier one's span and code (two coders, say).
    """
    rows = []
    for _ in range(draw(st.integers(0, 30))):
        if coarse and rows and draw(st.booleans()):
            transcript, start, end, code, _ = draw(st.sampled_from(rows))
            rows.append((transcript, start, end, code, draw(st.sampled_from(ORIGINS))))
            continue
        transcript = draw(st.sampled_from(sorted(texts)))
        size = len(texts[transcript])
        if coarse:
            start = draw(st.integers(0, 3)) * (size // 5)
            end = min(size, start + draw(st.integers(1, 2)) * (size // 5))
        else:
            start = draw(st.integers(0, size - 1))
            end = draw(st.integers(start + 1, min(size, start + 120)))
        rows.append((transcript, start, end, draw(st.sampled_from(codes)), draw(st.sampled_from(ORIGINS))))
    return rows


def _replace_codings(project, rows) -> None:
    with project.session() as session:
        texts = dict(session.execute(select(Transcript.id, Transcript.text)).all())
        session.execute(Coding.__table__.delete())
        coders: dict[tuple, int] = {}  # a repeated passage and code is another coder's (one coding each: 0009)
        for t, s, e, c, o in rows:
            coders[t, s, e, c] = coders.get((t, s, e, c), -1) + 1
            session.add(Coding(transcript_id=t, start=s, end=e, code_id=c, coder=f"h{coders[t, s, e, c]}", origin=o,
                               quote=texts[t][s:e]))


def _brute_force(project, within: str, near: int) -> dict[tuple[int, int], tuple[int, float]]:
    """Every pair of codes, every pair of codings, in plain Python: what cooccur's one SQL query must equal."""
    with project.session() as session:
        codings = session.execute(select(Coding.id, Coding.code_id, Coding.transcript_id, Coding.start, Coding.end)
                                  .where(Coding.origin.in_(COUNTED_ORIGINS))).all()
        turns = session.execute(select(Turn.id, Turn.transcript_id, Turn.start, Turn.end)).all()
    units: dict[int, set] = {}
    for cid, code, transcript, start, end in codings:
        if within == "transcript":
            found = {transcript}
        elif within == "turn":
            found = {t for t, tt, s, e in turns if tt == transcript and start < e and s < end}
        else:
            found = {cid}
        units.setdefault(code, set()).update(found)
    result = {}
    for a, b in combinations(sorted(units), 2):
        if within != "segment":
            together = len(units[a] & units[b])
            if together:
                result[(a, b)] = (together, round(together / len(units[a] | units[b]), 3))
            continue
        mine = [c for c in codings if c[1] == a]
        theirs = [c for c in codings if c[1] == b]
        pairs = [(x, y) for x in mine for y in theirs if x[2] == y[2] and x[3] < y[4] + near and y[3] < x[4] + near]
        if pairs:
            met = len({x[0] for x, _ in pairs}) + len({y[0] for _, y in pairs})
            result[(a, b)] = (len(pairs), round(met / (len(mine) + len(theirs)), 3))
    return result


@settings(max_examples=30, deadline=None)
@given(data=st.data(), within_near=st.sampled_from([("segment", 0), ("segment", 1), ("segment", 50), ("turn", 0),
                                                    ("transcript", 0)]), coarse=st.booleans())
def test_cooccurrence_equals_brute_force(scratch, data, within_near, coarse):
    """`coarse` spans often start together: the segment query finds each pair from the one starting first."""
    within, near = within_near
    with scratch.session() as session:
        ids = {path: i for i, path in code_paths(session).items()}
        texts = dict(session.execute(select(Transcript.id, Transcript.text)).all())
    _replace_codings(scratch, data.draw(random_codings(texts, sorted(ids.values()), coarse), label="codings"))
    table = cooccur(scratch, within=within, near=near)
    got = {(ids[r.code_a], ids[r.code_b]): (r.count, r.jaccard) for r in table.itertuples()}
    assert got == _brute_force(scratch, within, near)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), by=st.sampled_from(["locality", "phase,ofsted", "role", "informant_kind"]),
       unit=st.sampled_from(["segments", "transcripts", "participants", "schools"]), rollup=st.booleans(),
       where=st.sampled_from([None, {"locality": "Eastern"}, {"phase": "secondary"}, parse_where(["phase!=secondary"]),
                              parse_where(["role=Headteacher,Principal"])]),
       origins=st.sampled_from([COUNTED_ORIGINS, ("suggested",), tuple(ORIGINS)]))
def test_counting_in_sql_agrees_with_counting_in_pandas(scratch, data, by, unit, rollup, where, origins):
    """The matrix's one SQL query (from the tallies, or from the codings for other origins or a
    rollup) against `coded_segments` counted in pandas, on random codings with repeated spans
    (counted once) and suggestions (counted only when asked for)."""
    from qualcode.analysis.query import coded_segments, select_codes
    from qualcode.analysis.query_matrix import _frame_counts, _sql_counts

    with scratch.session() as session:
        texts = dict(session.execute(select(Transcript.id, Transcript.text)).all())
        codes = sorted(code_paths(session))
    _replace_codings(scratch, data.draw(random_codings(texts, codes, coarse=True), label="codings"))
    fields = by.split(",")
    in_sql = _sql_counts(scratch, select_codes(scratch, None), fields, unit, rollup, where, origins)
    in_pandas = _frame_counts(coded_segments(scratch, None, where, origins, rollup=rollup), fields, unit)
    # pandas keeps a 0 where no school is counted (a system informant's codings, by school): the same table.
    assert in_sql.to_dict() == {key: n for key, n in in_pandas.to_dict().items() if n}


@settings(max_examples=40, deadline=None)
@given(data=st.data(), by=st.sampled_from(["school", "participant"]),
       codes=st.sampled_from([None, "markets,markets/competition", "networks/tsa,markets"]),
       where=st.sampled_from([None, {"locality": "Eastern"}, parse_where(["phase!=secondary"]),
                              parse_where(["role=Headteacher,Principal"])]), coarsen=st.booleans())
def test_framework_counts_in_sql_agree_with_counting_codings(scratch, data, by, codes, where, coarsen):
    """The framework's count cells from the database's per-transcript counts against `coded_segments` counted
    in pandas, on random codings where a span is often coded with a code and its parent (one segment of the
    parent), repeated (one segment) or only suggested (none): the same cells, the same small rows warned
    about, pooled alike with `coarsen`."""
    from qualcode.analysis.framework import _themes, coding_cells, count_cells

    with scratch.session() as session:
        texts = dict(session.execute(select(Transcript.id, Transcript.text)).all())
        ids = sorted(code_paths(session))
    _replace_codings(scratch, data.draw(random_codings(texts, ids, coarse=True), label="codings"))
    themes = _themes(scratch, codes)
    paths = [path for _, path in themes]
    in_sql, sql_warnings = count_cells(scratch, dict(themes), by, where, coarsen)
    in_pandas, pandas_warnings = coding_cells(scratch, paths, by, where, coarsen)
    assert in_sql.reindex(columns=paths, fill_value=0).to_dict(orient="index") == \
        in_pandas.reindex(columns=paths, fill_value=0).to_dict(orient="index")
    assert sql_warnings == pandas_warnings


@pytest.fixture(scope="module")
def gathering(tmp_path_factory):
    """`scratch` with a focus group (its turns each a speaker's) and an open blind round of h0 and h1 (the
    coders of `_replace_codings`) on it and on EAS-S02-HT."""
    from qualcode.coding.rounds import add_coder, start_round
    from tests.test_focus_groups import add_focus_group

    root = tmp_path_factory.mktemp("passages")
    shutil.copytree(FIXTURES / "corpus", root / "corpus")
    add_focus_group(root / "corpus")
    project = make_coded_project(root / "coded", root / "corpus")
    for coder in ("h0", "h1"):
        add_coder(project, coder, None, "lead")
    start_round(project, "r1", ["h0", "h1"], "lead", transcripts=list(GATHERED[:2]))
    return project


#: The transcripts of the blind round in `gathering` (a focus group and an interview), and one outside it.
GATHERED = ("EAS-S01-FG", "EAS-S02-HT", "NAT-I01")


@settings(max_examples=40, deadline=None)
@pytest.mark.parametrize("fixture", ["scratch", "gathering"])
@given(data=st.data(), groups=st.sampled_from([["markets"], ["networks", "markets"], ["markets", "markets/competition"],
                                               ["markets/*", "networks/tsa"], ["networks", "markets", "networks/tsa"]]),
       mode=st.sampled_from(["or", "and", "not"]),
       where=st.sampled_from([None, {"locality": "Eastern"}, parse_where(["phase!=secondary"]),
                              parse_where(["role=Headteacher,Principal"]), parse_where(["informant_kind!=NCTL"]),
                              parse_where(["designation=NLE"]), parse_where(["partnership!=EAS-TSA1"]),
                              parse_where(["ofsted=Good,Outstanding", "designation!=LLE"])]),
       origins=st.sampled_from([COUNTED_ORIGINS, ("suggested",), tuple(ORIGINS)]), viewer=st.sampled_from(["h0", "lead"]))
def test_passages_read_in_sql_are_those_of_coded_segments(request, fixture, data, groups, mode, where, origins, viewer):
    """`find`'s passages as `coded_spans` reads them (in SQL unless a role or kind must be a focus group's
    speaker's) against `coded_segments`' rows, on random codings that share spans, changed codes, origins
    and anchors (unplaced ones left out): the same rows, so the same passages by the and/or/not rule, seen
    by a coder of a blind round or by the lead."""
    from qualcode.analysis.query import _combine, _frame_spans, coded_spans

    project = request.getfixturevalue(fixture)
    with project.session() as session:
        texts = dict(session.execute(select(Transcript.id, Transcript.text)).all())
        codes = sorted(code_paths(session))
    if fixture == "gathering":  # most codings on the focus group and the round's transcripts
        texts = {transcript: texts[transcript] for transcript in GATHERED}
    _replace_codings(project, data.draw(random_codings(texts, codes, coarse=True), label="codings"))
    change_codings(project, data.draw(coding_changes(codes), label="changes"))
    project.viewer = viewer
    fast, slow = coded_spans(project, groups, where, origins), _frame_spans(project, groups, where, origins)
    assert _missing_as_none(fast) == _missing_as_none(slow)
    if mode == "or" or len(groups) > 1:
        assert _combine(fast, mode) == _combine(_missing_as_none(slow), mode)


def _missing_as_none(groups: list[list[tuple]]) -> list[list[tuple]]:
    """The rows with pandas' NaN for a missing value (an informant's school) as the database's None."""
    return [[type(row)(*(None if value != value else value for value in row)) for row in group] for group in groups]


def test_small_cell_warnings_on_a_single_school_or_person_in_a_locality(coded):
    from qualcode.analysis.query_matrix import small_cell_warnings

    schools = matrix(coded, codes="markets", rollup=True, unit="schools")
    assert small_cell_warnings(schools, "locality", "schools") == [
        "'markets/competition' in Eastern: counts a single school, who may be identifiable; do not publish this cell as it is"]
    people = small_cell_warnings(matrix(coded, codes="networks", unit="participants"), "locality", "participants")
    assert any(w.startswith("'networks' in National: counts a single participant") for w in people)
    assert small_cell_warnings(schools, "locality", "schools", minimum=3)[0].startswith("'markets' in Eastern: counts only 2 schools")
    assert small_cell_warnings(schools, "phase", "schools") == []
    assert small_cell_warnings(matrix(coded, codes="markets"), "locality", "segments") == []


def test_matrix_small_columns_are_warned_and_coarsen_pools_them_as_framework_pools_rows(coded):
    from qualcode.analysis.query_matrix import column_totals

    warnings: list[str] = []
    fine = matrix(coded, by="locality,phase", rollup=True, warnings=warnings)
    assert list(fine.columns) == ["Eastern / primary", "Eastern / secondary", "National / n/a"]
    # each column fits one school (or informant) in its locality: the rule of the quote banks and framework rows
    assert warnings == [f"matrix column: '{column}' in {place} fits 1 {what}; that column may identify it: use --coarsen "
                        "to pool such columns, or check it does not" for column, place, what in
                        [("Eastern / primary", "Eastern", "school"), ("Eastern / secondary", "Eastern", "school"),
                         ("National / n/a", "National", "person")]]
    pooled: list[str] = []
    coarse = matrix(coded, by="locality,phase", rollup=True, coarsen=True, warnings=pooled)
    # under the framework's pools, named as its rows are, each holding what the columns it replaces held
    assert list(coarse.columns) == ["Eastern: schools", "National: System informant interviewee"]
    assert list(framework(coded, by="school", coarsen=True).index) == ["Eastern: schools"]
    assert coarse["Eastern: schools"].tolist() == (fine["Eastern / primary"] + fine["Eastern / secondary"]).tolist()
    assert coarse["National: System informant interviewee"].tolist() == fine["National / n/a"].tolist()
    assert pooled[1] == "matrix column: 'Eastern / secondary' in Eastern fits 1 school; pooled into 'Eastern: schools' (2 cases)"
    assert pooled[2].endswith("pooled into 'National: System informant interviewee' (1 case)")
    # a school counts once in its pool, and the pool's N is its schools
    schools = matrix(coded, by="locality,phase", unit="schools", rollup=True, percent="column", coarsen=True)
    assert schools.loc["markets", "Eastern: schools"] == 100.0 and schools.loc["networks", "Eastern: schools"] == 50.0
    assert column_totals(coded, None, "locality,phase", "schools", coarsen=True)["Eastern: schools"] == 2
    # a column that fits enough schools is left as it is; without a locality there is nothing to pool under
    assert list(matrix(coded, by="locality", coarsen=True).columns) == ["Eastern", "National: System informant interviewee"]
    with pytest.raises(QualcodeError, match="add locality to --by"):
        matrix(coded, by="phase", coarsen=True)


@st.composite
def coding_changes(draw, codes: list[int]) -> list[tuple[str, int, object]]:
    """Edits to make to existing codings, by their place in the table: delete one, or change its
    origin, code, span (to another coding's span, so spans are shared and unshared) or anchor (a
    re-import leaving it unplaced, or placing it again)."""
    kinds = st.sampled_from(["delete", "origin", "code", "span", "anchor"])
    values = {"delete": st.none(), "origin": st.sampled_from(ORIGINS), "code": st.sampled_from(codes),
              "span": st.integers(0, 100), "anchor": st.sampled_from(["exact", "fuzzy", "unplaced"])}
    changes = []
    for _ in range(draw(st.integers(1, 15))):
        kind = draw(kinds)
        changes.append((kind, draw(st.integers(0, 100)), draw(values[kind])))
    return changes


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_the_database_keeps_code_tallies_exact_through_every_change(scratch, data):
    """Inserts, deletes and updates of codings (as undo, merge, recode and re-import make them)
    leave `code_tallies` equal to the distinct counted spans counted in Python."""
    with scratch.session() as session:
        texts = dict(session.execute(select(Transcript.id, Transcript.text)).all())
        codes = sorted(code_paths(session))
    _replace_codings(scratch, data.draw(random_codings(texts, codes, coarse=True), label="codings"))
    assert tallies(scratch) == counted_spans(scratch)
    change_codings(scratch, data.draw(coding_changes(codes), label="changes"))
    assert tallies(scratch) == counted_spans(scratch)


def test_removing_a_transcript_removes_its_tallies(tmp_path, corpus):
    project = make_coded_project(tmp_path / "coded", corpus)
    before = tallies(project)
    removed = next(iter(before))[1]
    with project.session() as session:
        session.execute(Transcript.__table__.delete().where(Transcript.id == removed))
    assert tallies(project) == counted_spans(project) == {k: n for k, n in before.items() if k[1] != removed}
