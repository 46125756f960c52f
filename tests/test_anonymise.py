"""Anonymisation on real files, real spaCy and real SQLite: the key, every variant form, exports, scans, small cells.

The fixture corpus `tests/fixtures/anonymise/` names fictional people and
places in every form the key must catch; assertions name only what they need.
"""

from __future__ import annotations

import csv
import hashlib
import os
import stat
import time
from pathlib import Path

import pytest

from qualcode.privacy import namescan, pseudonyms
from qualcode.privacy.anonymise import coarsen, export_anonymised, small_cells
from qualcode.privacy.namescan import scan
from qualcode.privacy.pseudonyms import IdentityKey, leaks, load_key
from qualcode.reports.attribution import Speaker, render
from qualcode.ingest.corpus import import_paths
from qualcode.errors import ImportFailed
from qualcode.models import Transcript
from qualcode.project import Project, init_project
from tests.conftest import FIXTURES, REPO

FIXTURE = FIXTURES / "anonymise"
HEAD = "[Headteacher of School B]"


@pytest.fixture
def named(project):
    """The fixture project: four transcripts naming people, a school, a trust, a town, an employer; its key loaded."""
    import_paths(project, [FIXTURE])
    key = load_key(project)
    key.import_csv(FIXTURE / "identity-key.csv")
    key.save()
    return project


@pytest.fixture
def key(named) -> IdentityKey:
    return load_key(named)


def every_form(key: IdentityKey) -> list[str]:
    """Every name and listed variant: what must never appear in anything that leaves the tool."""
    return [form for entry in key.entries for form in entry.listed_forms()]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("Margaret Hollis", HEAD),
        ("Margaret", HEAD),
        ("Hollis", HEAD),
        ("Mrs Hollis", HEAD),
        ("Ms Hollis", HEAD),
        ("Dr. Hollis", HEAD),
        ("Mrs H.", HEAD),
        ("M.H.", HEAD),
        ("MH", HEAD),
        ("Mags", HEAD),
        ("Mrs Holliss", HEAD),
        ("Brambleholt Primary School", "[School B]"),
        ("Brambleholt Primary", "[School B]"),
        ("Brambleholt School", "[School B]"),
        ("Brambleholt Academy", "[School B]"),
        ("Brambleholt", "[School B]"),
        ("Heathermoor", "[the MAT]"),
        ("Tarrowby", "[neighbouring town]"),
        ("Drennick Engineering", "[local employer]"),
        ("Drennick Enginering", "[local employer]"),
    ],
)
def test_every_variant_form_is_replaced(key, written, expected):
    text, replacements = key.pseudonymise(f"I spoke to {written} on Monday.")
    assert text == f"I spoke to {expected} on Monday."
    assert [(r.start, r.end) for r in replacements] == [(11, 11 + len(written))]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("Hollis's office is open.", f"{HEAD}'s office is open."),
        ("Hollis’ office is open.", f"{HEAD}’s office is open."),
        ("Mrs Hollis’s office is open.", f"{HEAD}’s office is open."),
        ("We joined the Heathermoor Learning Trust.", "We joined [the MAT]."),
        ("The Heathermoor Learning Trust said no.", "[The MAT] said no."),
        ("A school near Brambleholt's gate.", "A school near [School B]'s gate."),
        ("'Brambleholt', she said.", "'[School B]', she said."),
        ("Heathermoor is regional.", "[The MAT] is regional."),
        ("I said: the Heathermoor Learning Trust's board", "I said: [the MAT]'s board"),
        ("We visited the Brambleholt Primary School fair.", "We visited the [School B] fair."),
    ],
)
def test_grammar_stays_readable(key, written, expected):
    assert key.pseudonymise(written)[0] == expected


def test_whole_words_and_case(key):
    """Only whole words; a one-word name must be capitalised; initials must be exact; common capitals stay."""
    text = "Hollister and mh and hollis went to the LA meeting on the heathermoor with Margaretha."
    assert key.pseudonymise(text)[0] == text


def test_initials_that_are_common_abbreviations_are_not_taken_for_a_person(project):
    key = load_key(project)
    key.add("Lena Abbott", "person", replacement="[LA officer]")
    assert key.pseudonymise("The LA sent Lena.")[0] == "The LA sent [LA officer]."


def test_a_form_two_entries_share_gets_no_ones_pseudonym(project):
    key = load_key(project)
    key.add("Rowan Naylor", "person", ["Mr Naylor"], "[another headteacher]")
    key.add("Ulric Naylor", "person", ["Mr Naylor"], "[former headteacher]")
    assert key.pseudonymise("Mr Naylor came, and Ulric Naylor.")[0] == "[person] came, and [former headteacher]."


def test_replacement_is_consistent_across_transcripts(named, tmp_path):
    export_anonymised(named, tmp_path / "out")
    with (tmp_path / "out" / "replacements.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    texts = {t: _stored_text(named, t) for t in {row["transcript"] for row in rows}}
    by_name: dict[str, set[str]] = {}
    for row in rows:
        written = texts[row["transcript"]][int(row["start"]) : int(row["end"])]
        if "Hollis" in written or "Brambleholt" in written:
            by_name.setdefault("Hollis" if "Hollis" in written else "Brambleholt", set()).add(row["replacement"].removesuffix("'s").removesuffix("’s"))
    assert by_name == {"Hollis": {HEAD}, "Brambleholt": {"[School B]"}}
    assert {r["transcript"] for r in rows} >= {"EAS-S01-DH", "EAS-S02-HT", "NOR-S01-HT"}


def _stored_text(project, transcript_id: str) -> str:
    with project.session(commit=False) as session:
        return session.get(Transcript, transcript_id).text


def test_key_file_is_owner_only_and_git_ignored(named):
    path = named.root / "identity-key.csv"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    os.chmod(path, 0o644)
    key = load_key(named)
    key.add("Tamsin Orme", "person")
    key.save()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "identity-key*" in (named.root / ".gitignore").read_text().splitlines()
    assert not list(named.root.glob("identity-key.csv.tmp"))


def test_key_is_not_in_the_database(named):
    """Transcripts are stored as spoken (names and all); what only the key holds must not be in the database."""
    database = (named.root / "qualcode.db").read_bytes()
    assert HEAD.encode() not in database and b"[neighbouring town]" not in database


def test_entry_added_without_replacement_gets_a_numbered_placeholder(project):
    key = load_key(project)
    assert key.add("Tamsin Orme", "person").replacement == "[person 1]"
    assert key.add("Idris Vane", "person").replacement == "[person 2]"
    assert key.add("Tamsin Orme", "person", ["Tam"]).variants == ["Tam"]


def test_import_reports_file_line_and_field(project, tmp_path):
    bad = tmp_path / "key.csv"
    bad.write_text("name,kind,variants,replacement,refers_to\nOak School,school,,[a school],\n,person,,,\nX,planet,,,\n")
    with pytest.raises(ImportFailed) as failure:
        load_key(project).import_csv(bad)
    assert [str(p) for p in failure.value.problems] == [
        f"{bad}:3: name: empty name",
        f"{bad}:4: kind: 'planet' is not one of person, school, place, organisation, partnership",
    ]


def test_export_holds_no_key_entry_and_leaves_the_store_alone(named, key, tmp_path):
    before = {t: hashlib.sha256(_stored_text(named, t).encode()).hexdigest() for t in ("EAS-S01-DH", "EAS-S02-HT")}
    report = export_anonymised(named, tmp_path / "out")
    written = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert len(report.files) == 4 and (tmp_path / "out" / "eastern" / "EAS-S01-DH.md") in written
    for path in written:
        text = path.read_text(encoding="utf-8")
        assert not leaks(named, text), path.name
        assert not [form for form in every_form(key) if form.lower() in text.lower()], path.name
    exported = (tmp_path / "out" / "eastern" / "EAS-S01-DH.md").read_text(encoding="utf-8")
    assert exported.startswith("---\nid: EAS-S01-DH\nparticipant: EAS-S01-DH\nschool: EAS-S01\nlocality: Eastern\n")
    assert f"{HEAD}'s office" in exported and "[the MAT]" in exported
    after = {t: hashlib.sha256(_stored_text(named, t).encode()).hexdigest() for t in before}
    assert after == before
    summary = dict(csv.reader((tmp_path / "out" / "summary.csv").open(encoding="utf-8")))
    assert int(summary["person"]) >= 12 and int(summary["school"]) >= 5


def test_exported_transcripts_import_again(named, tmp_path):
    export_anonymised(named, tmp_path / "out")
    (tmp_path / "out" / "eastern" / "schools.yaml").write_text((FIXTURE / "eastern" / "schools.yaml").read_text())
    (tmp_path / "out" / "northern" / "schools.yaml").write_text((FIXTURE / "northern" / "schools.yaml").read_text())
    for name in ("replacements.csv", "summary.csv"):
        (tmp_path / "out" / name).unlink()
    again = init_project(tmp_path / "again")
    assert len(import_paths(again, [tmp_path / "out"]).added) == 4


def test_leaks_are_found_in_any_case_and_fuzzy(named):
    found = leaks(named, "Quote from mrs hollis, and Mrs Holliss, and [School B].")
    assert [(leak.text, leak.entry_kind, leak.score == 100) for leak in found] == [
        ("mrs hollis", "person", True),
        ("Mrs Holliss", "person", False),
    ]
    assert found[1].score >= 90 and (found[0].start, found[0].end) == (11, 21)
    assert leaks(named, "Headteacher, maintained primary school, Ofsted Good") == []


def test_fuzzy_threshold_comes_from_the_settings(named):
    assert load_key(named).pseudonymise("Mrs Holliss")[0] == HEAD
    settings = named.root / "qualcode.toml"
    settings.write_text(settings.read_text().replace("fuzzy_threshold = 90", "fuzzy_threshold = 99"))
    strict = load_key(Project.open(named.root))
    assert strict.pseudonymise("Mrs Holliss")[0] == "Mrs Holliss"


def test_scan_lists_names_not_in_the_key(named):
    candidates = {c.text: c for c in scan(named)}
    assert {"Kilnsey Bridge Academy", "Mrs Pendlebury", "Ellerslack"} <= set(candidates)
    assert any("Oswin" in text for text in candidates)
    assert not [text for text in candidates if any(w in text for w in ("Hollis", "Brambleholt", "Heathermoor", "Tarrowby"))]
    academy = candidates["Kilnsey Bridge Academy"]
    assert (academy.kind, academy.transcripts, academy.count) == ("school", ["EAS-S02-HT"], 1)
    assert "Kilnsey Bridge Academy" in academy.contexts[0]
    assert candidates["Mrs Pendlebury"].kind == "person"


def test_scan_of_named_transcripts_only_and_progress(named):
    calls = []
    candidates = scan(named, ["EAS-S01-DH"], progress=lambda done, total: calls.append((done, total)))
    assert not [c for c in candidates if "Pendlebury" in c.text]
    assert calls and calls[-1][0] == calls[-1][1]


def test_small_cells_warn_on_the_only_special_school_and_the_rsc(named):
    found = {cell.participant: cell for cell in small_cells(named, ["EAS-S01-DH", "EAS-S02-HT", "NOR-S01-HT", "EAS-I01"])}
    assert set(found) == {"NOR-S01-HT", "EAS-I01"}
    assert found["NOR-S01-HT"].count == 1 and found["NOR-S01-HT"].locality == "Northern"
    assert found["NOR-S01-HT"].attribution == "Headteacher, maintained special school, Ofsted Good"
    assert "'RSC interviewee' in Eastern fits 1 person" in found["EAS-I01"].message


def test_coarsen_drops_what_identifies(named):
    settings = named.settings
    head = Speaker(role="Headteacher", phase="special", school_type="maintained", ofsted="Good")
    assert render(settings, coarsen(head, settings)) == "Headteacher"
    assert render(settings, coarsen(Speaker(informant_kind="RSC"), settings)) == "System informant interviewee"


def test_pseudonymise_is_fast_on_hundreds_of_quotes(key):
    quotes = ["Margaret Hollis said the Heathermoor Learning Trust would help Brambleholt Primary. " * 3] * 500
    key.pseudonymise("warm up")
    started = time.perf_counter()
    for quote in quotes:
        key.pseudonymise(quote)
    assert time.perf_counter() - started < 2.0


@pytest.fixture(scope="module")
def bundled(tmp_path_factory: pytest.TempPathFactory):
    project = init_project(tmp_path_factory.mktemp("bundled") / "study")
    import_paths(project, [REPO / "transcripts"])
    truth = IdentityKey(None, settings=pseudonyms.anonymise_settings(project))
    truth.import_csv(REPO / "transcripts" / "identity-key.csv")
    return project, truth


def test_recall_of_the_bundled_corpus_names(bundled):
    """Key + NER catch at least 98% of the corpus's name occurrences, and so do NER and patterns without the key."""
    project, truth = bundled
    found = namescan.find_names(project, truth)
    assert namescan.recall(project, truth, found) >= 0.98
    assert namescan.recall(project, truth, [hit for hit in found if hit.source != "key"]) >= 0.98


def _output_text(path: Path) -> str:
    """The words of a report file, whatever its format."""
    if path.suffix == ".docx":
        import docx

        return "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    if path.suffix == ".xlsx":
        import openpyxl

        book = openpyxl.load_workbook(path, read_only=True)
        return "\n".join(str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row if v is not None)
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".html":
        from qualcode.reports.reportfiles import visible_lines

        return "\n".join(visible_lines(text))  # what a reader sees: a style sheet's font is no one's name
    return text


def test_check_masks_qualcodes_own_ids_but_not_names(named, tmp_path: Path):
    """The project's ids and quote ids are metadata (not initials); an id it does not hold is read as any text."""
    from qualcode.reports.check import Corpus, check_report

    line = "Quote Q-EAS-S01-DH-0153 from EAS-S01 and EAS-I01, not XYZ-S99-MH; Mags said so."
    masked = Corpus(named).mask_ids(line)
    assert masked.split() == ["Quote", "from", "and", ",", "not", "XYZ-S99-MH;", "Mags", "said", "so."]
    assert len(masked) == len(line)
    report = tmp_path / "ids.md"
    report.write_text(f"# Notes\n\n{line}\n", encoding="utf-8")
    assert [(f.line, f.check, f.found) for f in check_report(named, report).findings] == [(3, "leak", "MH"), (3, "leak", "Mags")]


def test_a_key_saved_from_a_spreadsheet_is_read_and_a_misnamed_column_is_refused(tmp_path: Path):
    """Excel writes 'Name'/'Kind' headers, 'Person', and in many locales semicolons; a column qualcode
    does not know ('variant') would have been dropped unread, leaving those forms unreplaced."""
    excel = tmp_path / "excel.csv"
    excel.write_bytes("\ufeffName;Kind;Variants;Replacement;Refers to\r\nTamsin Orme;Person;Tam;[person 1];\r\n".encode())
    key = IdentityKey(tmp_path / "key.csv")
    assert key.import_csv(excel) == 1
    assert key.pseudonymise("Tam said so.")[0] == "[person 1] said so."
    misnamed = tmp_path / "misnamed.csv"
    misnamed.write_text("name,kind,variant\nTamsin Orme,persn,Tam\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as failed:
        IdentityKey(tmp_path / "other.csv").import_csv(misnamed)
    assert [str(problem) for problem in failed.value.problems] == [
        f"{misnamed}:1: variant: 'variant' is not a column of the key, which has "
        "name,kind,variants,replacement,refers_to; did you mean 'variants'?",
    ]
