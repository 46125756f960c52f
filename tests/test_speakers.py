"""Speaker detection: every form real transcripts come in, who is the interviewer, and what is not read."""

from __future__ import annotations

import pytest

from qualcode.config import Settings
from qualcode.ingest.speakers import HEADER, INTERVIEWER, NOTE, PARTICIPANT, SpeakerRules, format_time, read_speakers

SETTINGS = Settings.load(None)


def rules(**meta) -> SpeakerRules:
    return SpeakerRules.from_settings(SETTINGS, meta)


def said(text: str, **meta) -> list[tuple[str, str, str]]:
    """(label, role, words) of each turn."""
    return [(t.speaker, t.role, text[t.start : t.end]) for t in read_speakers(text, rules(**meta)).turns]


def test_turns_have_spans_of_the_words_only():
    text = "Interviewer: How is it?\n\nHeadteacher: Fine.\nMore words here.\n"
    assert said(text) == [
        ("Interviewer", INTERVIEWER, "How is it?"),
        ("Headteacher", PARTICIPANT, "Fine.\nMore words here."),
    ]


def test_a_capitalised_word_and_colon_inside_an_answer_is_not_a_new_speaker():
    text = "Headteacher: We were inspected.\nOfsted: they came in March.\nInterviewer: And?\n"
    reading = read_speakers(text, rules())
    assert [t.speaker for t in reading.turns] == ["Headteacher", "Interviewer"]
    assert text[reading.turns[0].start : reading.turns[0].end].endswith("came in March.")
    assert reading.unread_labels == []  # a vocabulary word said in passing is not worth a warning


def test_an_informant_kind_is_a_label_in_an_informants_interview():
    text = "Interviewer: What do you do?\nRSC: I approve conversions.\n"
    assert said(text, informant_kind="RSC")[1] == ("RSC", PARTICIPANT, "I approve conversions.")
    assert [s[0] for s in said(text)] == ["Interviewer"]  # in a head's interview 'RSC:' is speech


CONVENTIONS = [
    ("I: How long have you been head?\nR: Six years.\n", "I", "R"),
    ("Q: How long have you been head?\nA: Six years.\n", "Q", "A"),
    ("INTERVIEWER: How long have you been head?\nINTERVIEWEE: Six years.\n", "INTERVIEWER", "INTERVIEWEE"),
    ("Int: How long have you been head?\nP1: Six years.\n", "Int", "P1"),
    ("Moderator: How long have you been head?\nRespondent 2: Six years.\n", "Moderator", "Respondent 2"),
    ("Researcher: How long have you been head?\nExecutive headteacher: Six years.\n", "Researcher", "Executive headteacher"),
    ("Facilitator: How long have you been head?\nParticipant: Six years.\n", "Facilitator", "Participant"),
    ("**Interviewer:** How long have you been head?\n**Headteacher:** Six years.\n", "Interviewer", "Headteacher"),
    ("**Interviewer**: How long have you been head?\n**Headteacher**: Six years.\n", "Interviewer", "Headteacher"),
]


@pytest.mark.parametrize(("text", "asker", "answerer"), CONVENTIONS, ids=[c[1] + "/" + c[2] for c in CONVENTIONS])
def test_conventional_labels(text, asker, answerer):
    assert said(text) == [
        (asker, INTERVIEWER, "How long have you been head?"), (answerer, PARTICIPANT, "Six years."),
    ]


TIMESTAMPED = [
    ("Interviewer (00:01:23): How long?\nHeadteacher (00:01:30): Six years.\n", 83),  # Rev
    ("[00:01:23] Interviewer: How long?\n[00:01:30] Headteacher: Six years.\n", 83),
    ("00:01:23 Interviewer: How long?\n00:01:30 Headteacher: Six years.\n", 83),
    ("(01:23) Interviewer: How long?\n(01:30) Headteacher: Six years.\n", 83),
    ("**Interviewer (00:01:23):** How long?\n**Headteacher (00:01:30):** Six years.\n", 83),
    ("Interviewer  1:23\nHow long?\n\nHeadteacher  1:30\nSix years.\n", 83),  # Otter
]


@pytest.mark.parametrize(("text", "seconds"), TIMESTAMPED)
def test_timestamps_are_kept_with_the_turn_and_left_out_of_its_words(text, seconds):
    reading = read_speakers(text, rules())
    assert [(t.speaker, t.role, text[t.start : t.end]) for t in reading.turns] == [
        ("Interviewer", INTERVIEWER, "How long?"), ("Headteacher", PARTICIPANT, "Six years."),
    ]
    assert [t.time for t in reading.turns] == [seconds, seconds + 7]
    assert format_time(reading.turns[0].time) == "00:01:23"


def test_otter_names_with_words_over_several_lines_and_the_asker_guessed():
    text = (
        "Jane Smith  0:03\nThanks for joining. Shall we start?\n\n"
        "Tom Okafor  0:09\nSure.\nHappy to.\n\n"
        "Jane Smith  0:15\nHow did the academy order come about?\n\n"
        "Tom Okafor  0:21\nWe were told, basically.\n"
    )
    reading = read_speakers(text, rules())
    assert [(t.speaker, t.role) for t in reading.turns] == [
        ("Jane Smith", INTERVIEWER), ("Tom Okafor", PARTICIPANT)] * 2
    assert text[reading.turns[1].start : reading.turns[1].end] == "Sure.\nHappy to."
    assert [(s.label, s.guessed, s.questions) for s in reading.guessed] == [("Jane Smith", True, 2), ("Tom Okafor", True, 0)]


def test_two_named_speakers_the_interviewer_named_in_the_metadata_is_not_guessed():
    text = "Tom Okafor: We were told?\nJane Smith: What happened next?\nTom Okafor: We converted.\nJane Smith: Why?\n"
    reading = read_speakers(text, rules(interviewer="Jane Smith"))
    assert [(t.speaker, t.role) for t in reading.turns][:2] == [("Tom Okafor", PARTICIPANT), ("Jane Smith", INTERVIEWER)]
    assert reading.guessed == []


def test_speaker_numbers_with_an_interviewer_label_are_participants_of_a_focus_group():
    text = (
        "Interviewer: What does the cluster do?\nSpeaker 1: CPD, mostly.\nSpeaker 2: And moderation.\n"
        "Interviewer: Anything else?\nSpeaker 1: No.\n"
    )
    reading = read_speakers(text, rules())
    assert [(s.label, s.role, s.turns) for s in reading.speakers] == [
        ("Interviewer", INTERVIEWER, 2), ("Speaker 1", PARTICIPANT, 2), ("Speaker 2", PARTICIPANT, 1)]


def test_project_settings_name_speakers():
    settings = Settings.load(None)
    settings.raw["speakers"] = {"interviewer": ["Dr Ames"], "participant": ["Governor Gray"]}
    text = "Dr Ames: Who decides?\nGovernor Gray: The board.\n"
    reading = read_speakers(text, SpeakerRules.from_settings(settings, {}))
    assert [(t.speaker, t.role) for t in reading.turns] == [("Dr Ames", INTERVIEWER), ("Governor Gray", PARTICIPANT)]
    assert reading.guessed == [] and reading.unread_labels == []


def test_a_one_off_name_label_is_read_as_speech_but_reported():
    text = "Interviewer: Who else was there?\nHeadteacher: The chair.\nMary Brown: I'd add the clerk.\n"
    reading = read_speakers(text, rules())
    assert [t.speaker for t in reading.turns] == ["Interviewer", "Headteacher"]
    assert reading.unread_labels == [(2, "Mary Brown")]


def test_unknown_labels_only_give_no_participant_turns():
    text = "Alpha Team: hello there\nBeta Team: and you\n"
    reading = read_speakers(text, rules())
    assert reading.participant_turns == 0 and reading.unread_labels == [(0, "Alpha Team"), (1, "Beta Team")]


def test_service_header_lines_are_header_turns_not_speakers():
    text = (
        "Client: University research team\nAudio file: interview_07.mp3\nDuration: 00:45:12\n"
        "Transcriber: KL\n\nInterviewer: Shall we start?\nRespondent: Yes.\n"
    )
    reading = read_speakers(text, rules())
    assert [(t.speaker, t.role) for t in reading.turns] == [
        ("Client", HEADER), ("Audio file", HEADER), ("Duration", HEADER), ("Transcriber", HEADER),
        ("Interviewer", INTERVIEWER), ("Respondent", PARTICIPANT)]
    assert text[reading.turns[2].start : reading.turns[2].end] == "00:45:12"
    assert [s.label for s in reading.speakers] == ["Interviewer", "Respondent"]


def test_notes_are_notes():
    text = "Note: Spoke in the staffroom.\nInterviewer: Hello?\nTeacher: Hi.\n"
    assert [role for _, role, _ in said(text)] == [NOTE, INTERVIEWER, PARTICIPANT]


def test_label_on_its_own_line_starts_turn_at_next_paragraph():
    text = "Headteacher:\nWe are a small school.\n"
    assert said(text) == [("Headteacher", PARTICIPANT, "We are a small school.")]


def test_several_participant_speakers_are_a_warning_about_attribution():
    from qualcode.ingest.turns import summarise

    text = "Interviewer: What does the cluster do?\nSpeaker 1: CPD, mostly.\nSpeaker 2: And moderation.\n"
    (warning,) = summarise("FG-1", "fg.txt", read_speakers(text, rules())).warnings
    assert str(warning).startswith("fg.txt: 2 participant speakers (Speaker 1, Speaker 2): all their turns are attributed")


@pytest.mark.parametrize("line", [
    "Respondent : First answer.", "  Respondent: First answer.", "\tRespondent: First answer.",
    "Respondent\u00a0: First answer.", "Respondent:\u00a0First answer.", "RESPONDENT :\tFirst answer.",
])
def test_a_label_with_a_space_before_its_colon_or_indented_opens_a_turn(line):
    """Word and typists write these; read as speech, the answer was filed silently under the question."""
    text = f"Interviewer: A question?\n{line}\nInterviewer: Another?\n"
    assert [(role, words) for _, role, words in said(text)] == [
        (INTERVIEWER, "A question?"), (PARTICIPANT, "First answer."), (INTERVIEWER, "Another?"),
    ]


def test_a_colon_with_no_space_after_it_stays_speech_and_a_known_label_so_written_is_reported():
    """'Respondent:Yes' put the answer into the question before it without a word."""
    text = "Interviewer: A question?\nRespondent: Staff ratios.\nTeacher:pupil ratios were high.\nI: And?\nR::Yes.\nhttp://x.org\n"
    assert said(text)[-1] == ("I", INTERVIEWER, "And?\nR::Yes.\nhttp://x.org")
    assert said(text)[1] == ("Respondent", PARTICIPANT, "Staff ratios.\nTeacher:pupil ratios were high.")
    assert read_speakers(text, rules()).unspaced_labels == [(2, "Teacher"), (4, "R")]
    dashed = "Interviewer: How long?\nRespondent - Six years.\nQ. And before?\nA – Teaching.\nThe head - who left.\n"
    assert read_speakers(dashed, rules()).unspaced_labels == [(1, "Respondent"), (2, "Q"), (3, "A")]
