"""The database schema: every table qualcode stores, as typed SQLAlchemy 2 models.

Cases are schools (and partnerships); people are participants with
pseudonymised ids; a transcript's `text` is the body that codings point into
by character offsets. Schema changes go through alembic migrations in
`qualcode/migrations/` (a test checks that the models and migrations agree).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy import text as sql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


#: The tables whose rows `qualcode undo` finds by id: SQLite must never give a new row a deleted row's id
#: (PostgreSQL's sequences never do). Migration 0006.
NEVER_REUSED = {"sqlite_autoincrement": True}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


partnership_members = Table(
    "partnership_members",
    Base.metadata,
    Column("partnership_id", ForeignKey("partnerships.id", ondelete="CASCADE"), primary_key=True),
    Column("school_id", ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True),
)


class Locality(Base):
    __tablename__ = "localities"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)

    schools: Mapped[list[School]] = relationship(back_populates="locality")


class School(Base):
    """A school case study, known only by its pseudonym id (e.g. ``EAS-S04``)."""

    __tablename__ = "schools"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    locality_name: Mapped[str] = mapped_column(ForeignKey("localities.name"))
    phase: Mapped[str] = mapped_column(String(40))
    school_type: Mapped[str] = mapped_column(String(40))
    ofsted: Mapped[str | None] = mapped_column(String(40))
    fsm: Mapped[float | None] = mapped_column(Float)
    federation: Mapped[bool] = mapped_column(Boolean, default=False)

    locality: Mapped[Locality] = relationship(back_populates="schools")
    designations: Mapped[list[SchoolDesignation]] = relationship(
        back_populates="school", cascade="all, delete-orphan", order_by="SchoolDesignation.designation"
    )
    partnerships: Mapped[list[Partnership]] = relationship(
        secondary=partnership_members, back_populates="members"
    )


class SchoolDesignation(Base):
    """A national designation held by a school: Teaching School, NLE, LLE, SLE."""

    __tablename__ = "school_designations"

    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True)
    designation: Mapped[str] = mapped_column(String(40), primary_key=True)

    school: Mapped[School] = relationship(back_populates="designations")


class Partnership(Base):
    """A MAT, Teaching School Alliance or cluster: a case in its own right."""

    __tablename__ = "partnerships"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    locality_name: Mapped[str | None] = mapped_column(ForeignKey("localities.name"))
    lead_school_id: Mapped[str | None] = mapped_column(ForeignKey("schools.id"))

    members: Mapped[list[School]] = relationship(secondary=partnership_members, back_populates="partnerships")


class Participant(Base):
    """An interviewee: school staff (with a role) or a system informant (with a kind)."""

    __tablename__ = "participants"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    role: Mapped[str | None] = mapped_column(String(60))
    informant_kind: Mapped[str | None] = mapped_column(String(60))
    school_id: Mapped[str | None] = mapped_column(ForeignKey("schools.id"))
    locality_name: Mapped[str] = mapped_column(ForeignKey("localities.name"))
    is_system_informant: Mapped[bool] = mapped_column(Boolean, default=False)

    school: Mapped[School | None] = relationship()
    transcripts: Mapped[list[Transcript]] = relationship(back_populates="participant")


class Transcript(Base):
    __tablename__ = "transcripts"

    id: Mapped[str] = mapped_column(String(60), primary_key=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id"))
    interview_date: Mapped[dt.date | None] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    words: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(500))
    #: The front matter's `interviewer:` (a pseudonym or a speaker label): who asks, when re-reading speakers.
    interviewer: Mapped[str | None] = mapped_column(String(80))
    #: A focus group's `speakers:` (speaker label -> participant id), kept for re-reading speakers.
    speakers: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    participant: Mapped[Participant] = relationship(back_populates="transcripts")
    turns: Mapped[list[Turn]] = relationship(
        back_populates="transcript", cascade="all, delete-orphan", order_by="Turn.number"
    )
    codings: Mapped[list[Coding]] = relationship(back_populates="transcript", cascade="all, delete-orphan")


class Turn(Base):
    """A speaker turn; `start`/`end` are character offsets into the transcript text.

    `speaker` is the label as written ('R', 'Speaker 2', 'Headteacher'); `role`
    is how it was read (`qualcode.ingest.speakers.ROLES`): the interviewer, the
    participant, a researcher's note, or a transcription service's header line.
    Only participant turns are the interviewee's words.
    """

    __tablename__ = "turns"
    __table_args__ = (
        UniqueConstraint("transcript_id", "number"),
        # The turns a coded span overlaps (co-occurrence within a turn, quote clipping).
        Index("ix_turns_transcript_start", "transcript_id", "start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transcript_id: Mapped[str] = mapped_column(ForeignKey("transcripts.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    speaker: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(20), default="participant")
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    #: Where the turn starts in the recording, in seconds, when the transcript says.
    time: Mapped[float | None] = mapped_column(Float)
    #: Who speaks a participant turn when the transcript has several participants (a focus group);
    #: empty: the transcript's participant.
    participant_id: Mapped[str | None] = mapped_column(ForeignKey("participants.id"))

    transcript: Mapped[Transcript] = relationship(back_populates="turns")


#: The longest code name the database holds: PostgreSQL refuses a longer one, so every way in checks it.
CODE_NAME_LENGTH = 80


class Code(Base):
    """A node of the codebook tree; its path is its ancestors' names joined by ``/``."""

    __tablename__ = "codes"
    __table_args__ = (UniqueConstraint("parent_id", "name"), NEVER_REUSED)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("codes.id"))
    name: Mapped[str] = mapped_column(String(CODE_NAME_LENGTH))
    title: Mapped[str | None] = mapped_column(String(200))
    definition: Mapped[str | None] = mapped_column(Text)
    include: Mapped[str | None] = mapped_column(Text)
    exclude: Mapped[str | None] = mapped_column(Text)
    example: Mapped[str | None] = mapped_column(Text)
    colour: Mapped[str | None] = mapped_column(String(20))
    patterns: Mapped[dict | None] = mapped_column(JSON)
    #: "deductive" (from a codebook) or "inductive" (emerged while coding).
    origin: Mapped[str] = mapped_column(String(20), default="deductive")
    created_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    #: For an inductive code: the passage it emerged from.
    source_transcript_id: Mapped[str | None] = mapped_column(ForeignKey("transcripts.id", ondelete="SET NULL"))
    source_start: Mapped[int | None] = mapped_column(Integer)
    source_end: Mapped[int | None] = mapped_column(Integer)

    parent: Mapped[Code | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Code]] = relationship(back_populates="parent")


#: The anchor of a coding whose words a re-import could not find: it points at words no longer there, so it
#: never counts, is quoted or shown on a line (the tallies of migration 0007 leave it out too); `codings --unplaced` lists it.
UNPLACED = "unplaced"
#: The codings the unique passage index covers.
PLACED_SQL = f"anchor <> '{UNPLACED}'"


class Coding(Base):
    """A code applied to a character span of a transcript.

    `anchor` says how the span was last placed: ``exact`` as coded (or found
    again unchanged after a re-import), ``fuzzy`` re-placed by alignment, or
    ``unplaced`` when the coded words could not be found in the new text (the
    coding is kept, flagged, with its old offsets and `quote`).
    """

    __tablename__ = "codings"
    __table_args__ = (
        Index("ix_codings_transcript_span", "transcript_id", "start", "end"),
        # Covers what matrix and co-occurrence queries read of a coding, in the order they group it.
        Index("ix_codings_code_span", "code_id", "transcript_id", "start", "end", "origin", "anchor"),
        # One coding per passage, code and coder, whatever its origin; an unplaced coding's offsets point into a
        # text that is gone, so it is left out (migration 0009).
        Index("uq_codings_passage", "transcript_id", "start", "end", "code_id", "coder", unique=True,
              sqlite_where=sql(PLACED_SQL), postgresql_where=sql(PLACED_SQL)),
        NEVER_REUSED,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transcript_id: Mapped[str] = mapped_column(ForeignKey("transcripts.id", ondelete="CASCADE"))
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    code_id: Mapped[int] = mapped_column(ForeignKey("codes.id"))
    coder: Mapped[str] = mapped_column(String(80))
    #: manual, auto, suggested, accepted, or resolved (a consensus after review, `qualcode.coding.consensus`)
    origin: Mapped[str] = mapped_column(String(20), default="manual")
    score: Mapped[float | None] = mapped_column(Float)
    #: Why a suggestion was made: a JSON list of the matched words or the model's strongest features.
    evidence: Mapped[str | None] = mapped_column(Text)
    important: Mapped[bool] = mapped_column(Boolean, default=False)
    memo: Mapped[str | None] = mapped_column(Text)
    #: The coded words when coded, so a re-import can find them again.
    quote: Mapped[str] = mapped_column(Text)
    anchor: Mapped[str] = mapped_column(String(20), default="exact")
    #: For autocode's codings: the id of the run's `Change`, by which undoing the run removes them.
    run_id: Mapped[int | None] = mapped_column(Integer, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    transcript: Mapped[Transcript] = relationship(back_populates="codings")
    code: Mapped[Code] = relationship()


class Resolution(Base):
    """A decision on a passage where two coders differ about a code (`qualcode tag --review`).

    One row per disputed code of the passage: `coders` are the pair compared
    ("ann,ben", as named), `decision` says what the consensus kept ("keep"
    with `kept` the coders whose codings were kept, or "recode"), and
    `resolved_by` who decided. The consensus itself is coded by the coder
    `consensus` (origin ``resolved``; `qualcode.coding.consensus`). `transcript_id`
    and `code_id` are plain columns, like `CodeTally`'s: a decision about a
    code or transcript removed since is kept as a record, not in the way.
    """

    __tablename__ = "resolutions"
    __table_args__ = (Index("ix_resolutions_passage", "transcript_id", "start", "end", "code_id"), NEVER_REUSED)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transcript_id: Mapped[str] = mapped_column(String(60))
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    code_id: Mapped[int] = mapped_column(Integer)
    coders: Mapped[str] = mapped_column(String(200))
    decision: Mapped[str] = mapped_column(String(20))
    kept: Mapped[str | None] = mapped_column(String(200))
    resolved_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class CodeTally(Base):
    """How many distinct spans of a transcript are coded with a code by counted codings (not suggestions,
    not unplaced codings).

    Kept by database triggers on `codings` (migrations 0004 and 0007), never written by
    qualcode: the matrix sums these rows instead of counting every coding.
    There is no row for a code a transcript has no counted coding of.
    """

    __tablename__ = "code_tallies"
    __table_args__ = {"sqlite_with_rowid": False}

    code_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transcript_id: Mapped[str] = mapped_column(String(60), primary_key=True)
    segments: Mapped[int] = mapped_column(Integer)


class Memo(Base):
    """A researcher's note on the project, a locality, a school, a transcript, a code or a coding."""

    __tablename__ = "memos"
    __table_args__ = (Index("ix_memos_target", "target_kind", "target_id"), NEVER_REUSED)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_kind: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[str | None] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Change(Base):
    """One user action (coding, uncoding, a codebook edit...), recorded so that `undo` can reverse it.

    `inverse` holds the row operations the change made, in order, each with
    what reverses it (delete a row it created, or all of an autocode run's
    rows; re-insert a row it deleted; restore old values), and the change's
    footprint, by which undo sees whether a later change depends on it. See
    `qualcode.history`. Changes recorded before schema 0006 hold a plain list.
    """

    __tablename__ = "changes"
    __table_args__ = (Index("ix_changes_coder", "coder", "undone"), NEVER_REUSED)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    coder: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(Text)
    inverse: Mapped[dict | list] = mapped_column(JSON)
    undone: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Coder(Base):
    """A person who codes in the project, by the name their codings and changes carry, with initials for tables.

    Anyone whose name is on a coding is a coder already (migration 0010 made a row for each);
    `qualcode coders add` names a new team member before they code, so a round can include them.
    """

    __tablename__ = "coders"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    initials: Mapped[str | None] = mapped_column(String(10))


class Round(Base):
    """A blind coding round: while it is open (`closed_at` empty), each of its coders sees only their own
    codings on its transcripts (`qualcode.coding.blind`), so their judgements stay independent for `agreement`."""

    __tablename__ = "rounds"
    __table_args__ = (NEVER_REUSED,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    opened_by: Mapped[str] = mapped_column(String(80))
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    closed_by: Mapped[str | None] = mapped_column(String(80))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    coders: Mapped[list[RoundCoder]] = relationship(cascade="all, delete-orphan", order_by="RoundCoder.coder")
    transcripts: Mapped[list[RoundTranscript]] = relationship(
        cascade="all, delete-orphan", order_by="RoundTranscript.transcript_id"
    )


class RoundCoder(Base):
    __tablename__ = "round_coders"

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True)
    coder: Mapped[str] = mapped_column(ForeignKey("coders.name"), primary_key=True)


class RoundTranscript(Base):
    __tablename__ = "round_transcripts"

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True)
    transcript_id: Mapped[str] = mapped_column(ForeignKey("transcripts.id", ondelete="CASCADE"), primary_key=True)
