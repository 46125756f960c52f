"""`qualcode merge`: another copy's codings, memos, new codes and review decisions brought in, none dropped unsaid.

A team that codes in separate copies (each coder on a laptop, or one in
NVivo) brings the work together here. What is matched, and how:

- a transcript by its text: one with another id but the same text (line ends
  and trailing white space aside) is the same transcript, and its codings'
  offsets hold here unchanged. One with the same id but another text is not
  merged: its codings are listed as unmatched, with why. A transcript this
  project lacks is not imported by a merge (it has no participant, school or
  locality here): its codings are listed as unmatched, with the hint to
  import it first and merge again;
- a code by its path; a new code is added with its place in the tree and its
  definition; a code present here keeps its definition;
- a coder by name, kept as it is: the same name in both is one coder, another
  name another coder (never dropped, never renamed; QualCoder's merge loses
  codings when coder names differ, its issue #1115);
- a coding by transcript, span, code and coder: one present already (the
  unique index of migration 0009) is counted as already present;
- a memo by what it annotates and its text; a memo on a coding travels with
  the coding (put on the coding here if that one has none);
- a resolution of two coders' disagreement (`tag --review`,
  `qualcode.coding.consensus`) like a coding: by transcript, span, code and
  the pair of coders. The same decision here is already present; another
  decision here on the same question is kept, and theirs is listed as
  unmatched with why (its consensus codings come in with the codings, to
  compare). The consensus codings are codings of the coder `consensus`.

It is all or nothing, in one transaction, recorded as one change that
`qualcode undo` takes back; merging the same copy again adds nothing.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from qualcode import concurrency, history
from qualcode.coding.codebook import ensure_code
from qualcode.errors import QualcodeError
from qualcode.models import UNPLACED, Code, Coding, Locality, Memo, Resolution, School, Transcript
from qualcode.exchange.other_copy import CODE_FIELDS, OtherCopy, read_other
from qualcode.analysis.overview import code_paths
from qualcode.project import Project
from qualcode.ingest.transcript import normalise_newlines

KINDS = ("codes", "codings", "memos", "resolutions")
#: Why a review decision there is not brought in when this project decided the same question otherwise.
DECIDED_OTHERWISE = ("decided otherwise here: this project's decision is kept (the consensus codings there came in"
                     " with the codings; 'qualcode codings --coder consensus' lists both)")


@dataclass
class Tally:
    """What became of one kind of thing the other copy holds."""

    read: int = 0
    merged: int = 0
    already: int = 0
    #: why -> how many.
    unmatched: Counter = field(default_factory=Counter)

    def as_json(self) -> dict:
        return {"read": self.read, "merged": self.merged, "already_present": self.already,
                "unmatched": sum(self.unmatched.values()),
                "why": [{"why": why, "count": n} for why, n in self.unmatched.items()]}


@dataclass
class MergeReport:
    source: str
    dry_run: bool = False
    #: One row per transcript of the other copy: its id there, its id here (None: unmatched) and how.
    transcripts: list[dict] = field(default_factory=list)
    kinds: dict[str, Tally] = field(default_factory=lambda: {kind: Tally() for kind in KINDS})
    #: Coder name -> {"merged", "already_present", "unmatched", "here_before"}: each coder's codings, by name as given.
    coders: dict[str, dict] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def rows(self) -> list[tuple[str, int, int, int, int, str]]:
        """(kind, read, merged, already present, unmatched, why) for the report's table."""
        return [(kind, t.read, t.merged, t.already, sum(t.unmatched.values()),
                 "; ".join(f"{n}: {why}" for why, n in t.unmatched.items())) for kind, t in self.kinds.items()]

    def as_json(self) -> dict:
        return {"source": self.source, "dry_run": self.dry_run, "transcripts": self.transcripts,
                **{kind: tally.as_json() for kind, tally in self.kinds.items()},
                "coders": [{"coder": name, **counts} for name, counts in sorted(self.coders.items())],
                "notes": self.notes}


def text_key(text: str) -> str:
    """What makes two transcripts the same: their text, line ends and trailing white space aside (neither moves
    an offset inside the text)."""
    return hashlib.sha256(normalise_newlines(text).rstrip().encode("utf-8")).hexdigest()


@concurrency.retried
def merge(project: Project, source: Path, coder: str, dry_run: bool = False) -> MergeReport:
    """Bring another copy's codings, memos and new codes into `project` as one change by `coder`; return what was
    merged, what was present already, and what was not matched and why."""
    other = read_other(source, coder)
    if other.database_url is not None and other.database_url == project.database_url:
        raise QualcodeError(f"{source}: that is this project's own database; merge another copy of it")
    report = MergeReport(other.source, dry_run, notes=list(other.notes))
    # While it writes, others who find the project busy are told it is a merge, and whose (as for an import).
    with concurrency.announced(project, "merge", coder), project.session(commit=not dry_run, bulk=True) as session:
        with history.recorded(session, coder, "merge", f"merge {source.name}"):
            _Merger(session, other, report).run()
    return report


class _Merger:
    """One merge in one session: transcripts matched first, then codes, codings, memos and resolutions in that
    order, since each may point at the ones before."""

    def __init__(self, session, other: OtherCopy, report: MergeReport):
        self.session, self.other, self.report = session, other, report
        self.texts = dict(session.execute(select(Transcript.id, Transcript.text)).all())
        #: Transcript id there -> id here; and, for one not matched, why.
        self.here: dict[str, str] = {}
        self.why_not: dict[str, str] = {}
        self.code_ids: dict[str, int] = {}

    def run(self) -> None:
        self.match_transcripts()
        self.merge_codes()
        self.merge_codings()
        self.merge_memos()
        self.merge_resolutions()

    def match_transcripts(self) -> None:
        by_key: dict[str, str] = {}
        for transcript_id, text in sorted(self.texts.items()):
            by_key.setdefault(text_key(text), transcript_id)
        for there, text in sorted(self.other.transcripts.items()):
            key = text_key(text)
            here = there if there in self.texts and text_key(self.texts[there]) == key else by_key.get(key)
            if here is not None:
                self.here[there] = here
                how = "same id and text" if here == there else f"same text, id {here} here"
            elif there in self.texts:
                how = self.why_not[there] = (f"transcript {there}: its text here is not the text there (re-imported"
                                             " on one side?); bring both to the same text, then merge again")
            else:
                how = self.why_not[there] = (f"transcript {there} is not in this project: import it first"
                                             " ('qualcode import FILE'), then merge again")
            self.report.transcripts.append({"there": there, "here": here, "how": how})

    def merge_codes(self) -> None:
        tally = self.report.kinds["codes"]
        self.code_ids = {path: code_id for code_id, path in code_paths(self.session).items()}
        definitions = dict(self.session.execute(select(Code.id, Code.definition)).all())
        born = {(code_id, created): path for code_id, created, path in self._codes_by_birth()}
        differ, added = [], []
        for row in self.other.codes:
            tally.read += 1
            renamed = born.get((row.get("id"), row["created_at"]))
            if renamed and renamed != row["path"] and row["path"] not in self.code_ids:
                self.report.notes.append(
                    f"code {row['path']} there is {renamed} here (the same code, renamed or moved on one side): added as"
                    f" {row['path']} with its codings; if it is one code, 'qualcode codebook merge {row['path']} {renamed}'")
            if row["path"] in self.code_ids:
                tally.already += 1
                if row.get("definition") and row["definition"] != definitions[self.code_ids[row["path"]]]:
                    differ.append(row["path"])
                continue
            passage = self.here.get(row.get("source_transcript_id"))
            code = ensure_code(self.session, row["path"], row.get("origin") or "deductive", row.get("created_by"),
                               **{name: row.get(name) for name in CODE_FIELDS}, created_at=row["created_at"],
                               source_transcript_id=passage, source_start=row.get("source_start") if passage else None,
                               source_end=row.get("source_end") if passage else None)
            self.code_ids[row["path"]] = code.id
            tally.merged += 1
            added.append(row["path"])
        if added:  # named: a code removed here on purpose comes back with the other copy's codings
            self.report.notes.append(f"{len(added)} code(s) this project lacked, added: {', '.join(added[:10])}"
                                     + (" ..." if len(added) > 10 else ""))
        if differ:
            self.report.notes.append(f"{len(differ)} code(s) in both have another definition there; this project's"
                                     f" is kept: {', '.join(differ[:10])}" + (" ..." if len(differ) > 10 else ""))

    def _codes_by_birth(self) -> list[tuple[int, object, str]]:
        """(id, creation time, path) of each code here: a copy of this project holds its codes under the same id and
        time, whatever they were renamed to since."""
        paths = {code_id: path for path, code_id in self.code_ids.items()}
        return [(i, created, paths[i]) for i, created in self.session.execute(select(Code.id, Code.created_at))]

    def merge_codings(self) -> None:
        codings, memos = self.report.kinds["codings"], self.report.kinds["memos"]
        codings.unmatched.update(self.other.unreadable)
        codings.read += sum(self.other.unreadable.values())
        present = {_coding_key(c): c for c in self.session.scalars(select(Coding).where(
            Coding.transcript_id.in_(set(self.here.values()))))}
        coders_here = set(self.session.scalars(select(Coding.coder).distinct()))
        flagged = 0
        for row in self.other.codings:
            codings.read += 1
            memos.read += bool(row.get("memo"))
            counts = self.report.coders.setdefault(row["coder"], {
                "merged": 0, "already_present": 0, "unmatched": 0, "here_before": row["coder"] in coders_here})
            if why := self._why_unmatched(row):
                codings.unmatched[why] += 1
                counts["unmatched"] += 1
                memos.unmatched["on a coding not merged (see codings)"] += bool(row.get("memo"))
                continue
            coding = self._coding(row)
            if (found := present.get(_coding_key(coding))) is not None:
                codings.already += 1
                counts["already_present"] += 1
                self._memo_onto(found, row.get("memo"))
                if row.get("important") and not found.important:
                    found.important = True
                    flagged += 1
                continue
            present[_coding_key(coding)] = coding
            self.session.add(coding)
            codings.merged += 1
            counts["merged"] += 1
            memos.merged += bool(row.get("memo"))
        memos.unmatched = +memos.unmatched  # no row for a reason no memo had
        if flagged:
            self.report.notes.append(f"{flagged} coding(s) present in both are marked important there: marked important"
                                     " here too")

    def _why_unmatched(self, row: dict) -> str | None:
        """Why a coding of the other copy has no place here, if it has none."""
        there = row["transcript_id"]
        if there not in self.here:
            return self.why_not.get(there, f"transcript {there} is not in that copy")
        if row.get("anchor") != UNPLACED and row["end"] > len(self.texts[self.here[there]]):
            return f"transcript {there}: the span ends in trailing white space the text here does not have"
        return None

    def _coding(self, row: dict) -> Coding:
        return Coding(transcript_id=self.here[row["transcript_id"]], start=row["start"], end=row["end"],
                      code_id=self.code_ids[row["code"]], coder=row["coder"], origin=row.get("origin") or "manual",
                      score=row.get("score"), important=bool(row.get("important")), memo=row.get("memo"),
                      quote=row["quote"], anchor=row.get("anchor") or "exact", created_at=row["created_at"])

    def _memo_onto(self, coding: Coding, memo: str | None) -> None:
        """A coding present already takes the other copy's memo on it: as it is if it has none, else added below
        its own; the same memo again is already present."""
        if not memo:
            return
        memos = self.report.kinds["memos"]
        if coding.memo and memo in coding.memo:
            memos.already += 1
            return
        coding.memo = f"{coding.memo}\n\n{memo}" if coding.memo else memo
        memos.merged += 1

    def merge_memos(self) -> None:
        tally = self.report.kinds["memos"]
        present = set(self.session.execute(select(Memo.target_kind, Memo.target_id, Memo.text)))
        places = {"school": set(self.session.scalars(select(School.id))),
                  "locality": set(self.session.scalars(select(Locality.name)))}
        for row in self.other.memos:
            tally.read += 1
            target, why = self._memo_target(row, places)
            if why:
                tally.unmatched[why] += 1
            elif (row["target_kind"], target, row["text"]) in present:
                tally.already += 1
            else:
                present.add((row["target_kind"], target, row["text"]))
                self.session.add(Memo(target_kind=row["target_kind"], target_id=target, text=row["text"],
                                      author=row["author"], created_at=row["created_at"]))
                tally.merged += 1

    def _memo_target(self, row: dict, places: dict[str, set[str]]) -> tuple[str | None, str | None]:
        """What a memo annotates here (as `Memo.target_id`), or why it has no place here."""
        kind, target = row["target_kind"], row["target_id"]
        if kind == "project":
            return None, None
        if kind == "transcript":
            return (self.here[target], None) if target in self.here else (None, f"on an unmatched transcript ({target})")
        if kind == "code":
            return (str(self.code_ids[target]), None) if target in self.code_ids else (None, f"on a code gone there ({target})")
        if kind in places:
            return (target, None) if target in places[kind] else (None, f"on a {kind} not in this project ({target})")
        return None, f"on a {kind}, which qualcode keeps no memos on"

    def merge_resolutions(self) -> None:
        """The other copy's review decisions, matched by transcript, span, code and pair of coders."""
        tally = self.report.kinds["resolutions"]
        present = {_question(r.transcript_id, r.start, r.end, r.code_id, r.coders): (r.decision, r.kept)
                   for r in self.session.scalars(select(Resolution))}
        for row in self.other.resolutions:
            tally.read += 1
            if why := self._why_decision_unmatched(row):
                tally.unmatched[why] += 1
                continue
            here = self.here[row["transcript_id"]]
            question = _question(here, row["start"], row["end"], self.code_ids[row["code"]], row["coders"])
            made = (row["decision"], row["kept"])
            if question not in present:
                present[question] = made
                self.session.add(Resolution(transcript_id=here, start=row["start"], end=row["end"], code_id=question[3],
                                            coders=row["coders"], decision=row["decision"], kept=row["kept"],
                                            resolved_by=row["resolved_by"], created_at=row["created_at"]))
                tally.merged += 1
            elif present[question] == made:
                tally.already += 1
            else:
                tally.unmatched[DECIDED_OTHERWISE] += 1

    def _why_decision_unmatched(self, row: dict) -> str | None:
        """Why a decision of the other copy has no place here: its passage's, as for a coding, or its code's (a
        decision is kept after its code is removed)."""
        if why := self._why_unmatched(row):
            return why
        return None if row["code"] in self.code_ids else f"on a code removed there (code id {row['code_id']})"


def _question(transcript: str, start: int, end: int, code_id: int, coders: str) -> tuple:
    """What a review decision answers: this pair's disagreement about this code on this passage."""
    return transcript, start, end, code_id, coders


def _coding_key(coding: Coding) -> tuple:
    """What makes two codings one: transcript, span, code and coder (and, for an unplaced one, its words)."""
    unplaced = coding.anchor == UNPLACED
    return (coding.transcript_id, coding.start, coding.end, coding.code_id, coding.coder, unplaced,
            coding.quote if unplaced else None)
