"""Attribution lines: rendered from metadata in the project's format; read back from any variant."""

from __future__ import annotations

import pytest

from qualcode.reports.attribution import Speaker, corrected, read, render
from qualcode.config import Settings

SETTINGS = Settings.load(None)


@pytest.mark.parametrize(
    "speaker, line",
    [
        (Speaker(role="Headteacher", phase="primary", school_type="maintained", ofsted="Good"),
         "Headteacher, maintained primary school, Ofsted Good"),
        (Speaker(role="Principal", phase="secondary", school_type="converter academy", ofsted="Outstanding"),
         "Principal, secondary converter academy, Ofsted Outstanding"),
        (Speaker(role="Executive headteacher", phase="secondary", school_type="sponsored academy", ofsted="Good"),
         "Executive headteacher, sponsored secondary academy, Ofsted Good"),
        (Speaker(role="Teacher", phase="junior", school_type="voluntary controlled", ofsted="Requires Improvement"),
         "Teacher, voluntary controlled junior school, Ofsted Requires Improvement"),
        (Speaker(role="Headteacher", phase="primary", school_type="free school", ofsted="Inadequate"),
         "Headteacher, primary free school, Ofsted Inadequate"),
        (Speaker(role="Headteacher", phase="primary", school_type="foundation", ofsted="Good", federation=True),
         "Headteacher, foundation primary federation, Ofsted Good"),
        (Speaker(role="Headteacher", phase="primary", school_type="maintained"),
         "Headteacher, maintained primary school"),
        (Speaker(role="Executive principal", phase="secondary", school_type="sponsored academy", ofsted="Good"),
         "Executive principal, sponsored secondary academy, Ofsted Good"),
        (Speaker(role="SENCo", phase="primary", school_type="voluntary aided", ofsted="Outstanding"),
         "SENCo, voluntary aided primary school, Ofsted Outstanding"),
        (Speaker(role="Head of department", phase="secondary", school_type="converter academy", ofsted="Good"),
         "Head of department, secondary converter academy, Ofsted Good"),
        (Speaker(informant_kind="LA"), "Local authority interviewee"),
        (Speaker(informant_kind="RSC"), "RSC interviewee"),
        (Speaker(informant_kind="CPD provider"), "CPD provider interviewee"),
    ],
)
def test_render(speaker, line):
    assert render(SETTINGS, speaker) == line


def test_a_project_may_choose_another_format(tmp_path):
    path = tmp_path / "qualcode.toml"
    path.write_text('[attribution]\nstaff = "{role} ({school_phrase}; Ofsted: {ofsted})"\n', encoding="utf-8")
    settings = Settings.load(path)
    speaker = Speaker(role="Teacher", phase="primary", school_type="maintained", ofsted="Good")
    assert render(settings, speaker) == "Teacher (maintained primary school; Ofsted: Good)"


# The book's own attribution lines (DESIGN.md §3) and what each should be.
VARIANTS = [
    ("Headteacher, maintained primary school, Ofsted Good", "Headteacher, maintained primary school, Ofsted Good", []),
    ("Headteacher, maintained primary, Ofsted Outstanding", "Headteacher, maintained primary school, Ofsted Outstanding", []),
    ("Headteacher, primary maintained school, Ofsted Outstanding", "Headteacher, maintained primary school, Ofsted Outstanding", []),
    ("Headteacher, maintained secondary, Ofsted Good", "Headteacher, maintained secondary school, Ofsted Good", []),
    ("Headteacher, secondary maintained school, Ofsted Good", "Headteacher, maintained secondary school, Ofsted Good", []),
    ("Principal, secondary convertor academy, Ofsted Outstanding", "Principal, secondary converter academy, Ofsted Outstanding",
     ["'convertor' is spelt 'converter'"]),
    ("Headteacher, secondary academy converter, Ofsted Outstanding", "Headteacher, secondary converter academy, Ofsted Outstanding", []),
    ("Headteacher, sponsored primary academy, Ofsted RI", "Headteacher, sponsored primary academy, Ofsted Requires Improvement",
     ["'Ofsted RI' is written 'Ofsted Requires Improvement'"]),
    ("Executive head, sponsored secondary academy, Ofsted Good", "Executive headteacher, sponsored secondary academy, Ofsted Good",
     ["'Executive head' is written 'Executive headteacher'"]),
    ("Executive Head, sponsored secondary academy, Ofsted Good", "Executive headteacher, sponsored secondary academy, Ofsted Good",
     ["'Executive Head' is written 'Executive headteacher'"]),
    ("Deputy head, maintained primary school, Ofsted Good.", "Deputy headteacher, maintained primary school, Ofsted Good",
     ["no full stop at the end", "'Deputy head' is written 'Deputy headteacher'"]),
    ("Headteachr, maintained primary school, Ofsted Good", "Headteacher, maintained primary school, Ofsted Good",
     ["'Headteachr' is not a known role; did you mean 'Headteacher'?"]),
    ("Headteacher, maintained primary school, Ofsted Outstnding", "Headteacher, maintained primary school, Ofsted Outstanding",
     ["'Outstnding' is not a known grade; did you mean 'Outstanding'?"]),
    # Roles of English schools beyond the book's, and their other spellings.
    ("Exec head, maintained primary school, Ofsted Good", "Executive headteacher, maintained primary school, Ofsted Good",
     ["'Exec head' is written 'Executive headteacher'"]),
    ("SENDCo, maintained primary school, Ofsted Good", "SENCo, maintained primary school, Ofsted Good",
     ["'SENDCo' is written 'SENCo'"]),
    ("Acting head, sponsored secondary academy, Ofsted Good", "Acting headteacher, sponsored secondary academy, Ofsted Good",
     ["'Acting head' is written 'Acting headteacher'"]),
    ("Vice principal, secondary free school, Ofsted Good", "Vice principal, secondary free school, Ofsted Good", []),
    ("Head of year, secondary converter academy, Ofsted Good", "Head of year, secondary converter academy, Ofsted Good", []),
    ("Executive principal, sponsored secondary academy, Ofsted Good",
     "Executive principal, sponsored secondary academy, Ofsted Good", []),
    ("Regional Schools Commissioner", "RSC interviewee", []),
    ("Regional School Commissioner", "RSC interviewee", []),
    ("RSC", "RSC interviewee", []),
    ("RSC interviewee", "RSC interviewee", []),
    ("Local authority interviewee", "Local authority interviewee", []),
    ("NCTL interviewee", "NCTL interviewee", []),
]


@pytest.mark.parametrize("written, expected, notes", VARIANTS)
def test_read_and_correct_the_books_variants(written, expected, notes):
    reading = read(SETTINGS, written)
    assert reading is not None and reading.complete
    assert corrected(SETTINGS, reading) == expected
    assert reading.notes == notes


@pytest.mark.parametrize(
    "written, missing, notes",
    [
        ("Headteacher, secondary academy, Ofsted Outstanding", ["school type"],
         ["'academy' alone does not say whether it is a converter or a sponsored academy"]),
        ("Principal, secondary academy, Ofsted Outstanding (original emphasis)", ["school type"],
         ["'(original emphasis)' does not belong on the attribution line",
          "'academy' alone does not say whether it is a converter or a sponsored academy"]),
        ("(primary head)", ["school type", "Ofsted grade"],
         ["the line stands alone, without brackets", "'head' is written 'Headteacher'"]),
    ],
)
def test_incomplete_lines_are_completed_only_from_the_speaker(written, missing, notes):
    reading = read(SETTINGS, written)
    assert reading.missing == missing and reading.notes == notes
    assert corrected(SETTINGS, reading) is None
    truth = Speaker(role="Principal", phase="secondary", school_type="converter academy", ofsted="Outstanding")
    assert corrected(SETTINGS, reading, truth).endswith("converter academy, Ofsted Outstanding")


def test_prose_is_not_an_attribution():
    assert read(SETTINGS, "The school was doing well, she said.") is None
    assert read(SETTINGS, "") is None
