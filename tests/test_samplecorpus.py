"""The bundled sample corpus and its generator (issue 3).

These tests read real files: the committed ``transcripts/`` folder and
corpora generated into temporary folders. Figures are checked against the
study design in the book's Annex 1 (DESIGN.md §1).
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import yaml

from qualcode.samplecorpus import distinct_statements, generate
from qualcode.samplecorpus.bank import statement_bank
from qualcode.ingest.speakers import SpeakerRules, read_speakers
from qualcode.ingest.transcript import parse_text_file

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "transcripts"
SEEDS = REPO.parent / "shared" / "seeds"

CODES = """
hierarchy hierarchy/accountability hierarchy/accountability/inspection hierarchy/accountability/performance-data
hierarchy/academisation hierarchy/academisation/forced hierarchy/academisation/voluntary-conversion
hierarchy/middle-tier hierarchy/middle-tier/rsc hierarchy/middle-tier/la-role hierarchy/middle-tier/la-decline
hierarchy/policy-churn hierarchy/funding-pressure
markets markets/competition markets/competition/pupils markets/competition/staff markets/competition/status
markets/local-hierarchies markets/school-improvement-market
markets/knowledge markets/knowledge/protect markets/knowledge/sell markets/knowledge/share
networks networks/clusters networks/tsa networks/tsa/exclusive networks/tsa/marketised networks/tsa/hierarchical
networks/mat networks/mat/growth networks/mat/central-control networks/peer-review
networks/system-leaders networks/system-leaders/designated-roles networks/system-leaders/pressure networks/trust-reciprocity
leadership leadership/moral-purpose leadership/agency leadership/capacity-succession
equity equity/winners-losers equity/disadvantage equity/isolated-schools
""".split()
ROLES = {"Headteacher", "Principal", "Executive headteacher", "Head of school", "Deputy headteacher",
         "Assistant headteacher", "Middle leader", "Teacher", "School business manager", "Chair of governors",
         "MAT CEO", "Teaching School director"}
HEAD_ROLES = {"Headteacher", "Principal", "Executive headteacher"}
#: The labels the corpus writes, and nothing else: what its own tests read it with.
RULES = SpeakerRules(
    interviewer=frozenset({"interviewer"}),
    participant=frozenset(label.lower() for label in ROLES | {"Interviewee"}),
    note=frozenset({"note"}),
)

# Annex 1: schools, phase mix, staff interviews and informant kinds per locality.
DESIGN = {
    "eastern": (11, {"primary": 6, "junior": 1, "secondary": 4}, 38, ["RSC", "Ofsted", "LA", "NCTL"]),
    "western": (14, {"primary": 8, "junior": 1, "secondary": 5}, 47, ["RSC", "LA", "LA", "LA", "NCTL"]),
    "northern": (10, {"primary": 6, "secondary": 3, "special": 1}, 37, ["RSC", "NCTL", "Ofsted", "LA"]),
    "southern": (12, {"primary": 8, "secondary": 4}, 42, ["RSC", "LA", "CPD provider"]),
}


class Corpus:
    """A corpus folder read back from disk: transcripts, metadata, gold codings, identity key."""

    def __init__(self, root: Path):
        self.root = root
        self.transcripts = {}
        for path in sorted(root.glob("*/*.md")):
            parsed = parse_text_file(path)
            parsed.turns = read_speakers(parsed.text, RULES).turns
            self.transcripts[parsed.meta["id"]] = parsed
        self.schools = {}
        for path in sorted(root.glob("*/schools.yaml")):
            self.schools.update(yaml.safe_load(path.read_text(encoding="utf-8")))
        self.partnerships = yaml.safe_load((root / "partnerships.yaml").read_text(encoding="utf-8"))
        with open(root / "gold-codings.csv", encoding="utf-8", newline="") as f:
            self.gold = [dict(row, start=int(row["start"]), end=int(row["end"])) for row in csv.DictReader(f)]
        with open(root / "identity-key.csv", encoding="utf-8", newline="") as f:
            self.key = list(csv.DictReader(f))
        self.codes = defaultdict(set)
        for row in self.gold:
            self.codes[row["transcript"]].add(row["code"])

    def heads(self, **where) -> list[str]:
        """Ids of -HT transcripts whose school has all the given metadata values (a value may be a tuple)."""
        ids = []
        for tid, t in self.transcripts.items():
            if not tid.endswith("-HT"):
                continue
            school = self.schools[t.meta["school"]]
            if all(school[k] in (v if isinstance(v, tuple) else (v,)) for k, v in where.items()):
                ids.append(tid)
        return ids

    def share(self, ids: list[str], code: str) -> float:
        assert ids
        return sum(code in self.codes[i] for i in ids) / len(ids)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("corpus") / "transcripts"
    generate(out, scale=1, seed=0)
    return out


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return Corpus(CORPUS)


# --- reproducibility ---------------------------------------------------------------

def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_scale_one_seed_zero_reproduces_the_committed_corpus_byte_for_byte(generated):
    committed, fresh = _files(CORPUS), _files(generated)
    assert sorted(committed) == sorted(fresh)
    different = [name for name in committed if committed[name] != fresh[name]]
    assert not different, f"{len(different)} files differ, e.g. {different[:3]}"


def test_another_seed_gives_different_text_and_progress_is_reported(tmp_path, generated):
    calls = []
    summary = generate(tmp_path / "other", scale=1, seed=1, progress=lambda done, total: calls.append((done, total)))
    assert summary.transcripts == 182
    assert calls[0] == (1, 182) and calls[-1] == (182, 182) and len(calls) == 182
    assert (tmp_path / "other/eastern/EAS-S01-HT.md").read_text() != (generated / "eastern/EAS-S01-HT.md").read_text()


# --- the study design ----------------------------------------------------------------

def test_design_figures_match_annex_1(corpus):
    assert len(corpus.transcripts) == 182
    assert len(corpus.schools) == 47
    staff = [t for t in corpus.transcripts.values() if "role" in t.meta]
    informants = [t for t in corpus.transcripts.values() if "informant_kind" in t.meta]
    assert (len(staff), len(informants)) == (164, 18)
    for folder, (n_schools, phases, n_staff, kinds) in DESIGN.items():
        schools = yaml.safe_load((CORPUS / folder / "schools.yaml").read_text())
        assert len(schools) == n_schools, folder
        assert Counter(s["phase"] for s in schools.values()) == Counter(phases), folder
        assert sum(1 for t in staff if t.path.parent.name == folder) == n_staff, folder
        got = [t.meta["informant_kind"] for t in informants if t.path.parent.name == folder]
        assert sorted(got) == sorted(kinds), folder
    national = [t for t in informants if t.meta["locality"] == "National"]
    assert len(national) == 2


def test_every_school_has_its_head_interview_and_one_to_seven_in_all(corpus):
    per_school = Counter(t.meta["school"] for t in corpus.transcripts.values() if "school" in t.meta)
    assert set(per_school) == set(corpus.schools)
    assert all(1 <= n <= 7 for n in per_school.values())
    for school_id in corpus.schools:
        head = corpus.transcripts[f"{school_id}-HT"]
        assert head.meta["role"] in HEAD_ROLES


def test_per_locality_school_facts(corpus):
    by_locality = defaultdict(list)
    for s in corpus.schools.values():
        by_locality[s["locality"]].append(s)
    grades = {loc: {s["ofsted"] for s in schools} for loc, schools in by_locality.items()}
    assert grades["Northern"] <= {"Good", "Outstanding"}
    assert "Inadequate" not in grades["Eastern"] and {"Requires Improvement", "Outstanding"} <= grades["Eastern"]
    assert {"Inadequate", "Outstanding"} <= grades["Western"] and {"Inadequate", "Outstanding"} <= grades["Southern"]
    fsm = {loc: (min(s["fsm"] for s in v), max(s["fsm"] for s in v)) for loc, v in by_locality.items()}
    assert fsm == {"Eastern": (6, 51), "Western": (4, 33), "Northern": (4, 42), "Southern": (6, 42)}
    types = {loc: Counter(s["school_type"] for s in v) for loc, v in by_locality.items()}
    assert types["Western"]["sponsored academy"] == 1 and types["Western"]["converter academy"] == 3
    assert types["Northern"]["sponsored academy"] == 1 and types["Northern"]["converter academy"] == 5
    assert types["Southern"]["converter academy"] == 2 and types["Southern"]["voluntary aided"] == 2
    assert types["Eastern"]["voluntary controlled"] == 1 and types["Western"]["voluntary controlled"] == 1
    designations = {loc: Counter(d for s in v for d in s["designations"]) for loc, v in by_locality.items()}
    assert designations["Eastern"] == Counter({"Teaching School": 2, "NLE": 3, "LLE": 2})
    assert designations["Western"] == Counter({"Teaching School": 1, "NLE": 1, "LLE": 2})
    assert designations["Northern"] == Counter({"Teaching School": 2, "NLE": 3, "LLE": 1})
    assert designations["Southern"] == Counter({"Teaching School": 1, "NLE": 1, "LLE": 2})


def test_eastern_regional_mat_has_six_schools_and_its_ceo_and_ts_director_were_interviewed(corpus):
    mats = {pid: p for pid, p in corpus.partnerships.items() if p["kind"] == "MAT" and p["locality"] == "Eastern"}
    assert [len(p["members"]) for p in mats.values()] == [6]
    roles = {t.meta["role"] for t in corpus.transcripts.values() if t.meta.get("school") in next(iter(mats.values()))["members"]}
    assert {"MAT CEO", "Teaching School director"} <= roles


def test_partnerships_are_consistent_with_schools(corpus):
    for pid, p in corpus.partnerships.items():
        assert p["kind"] in ("MAT", "TSA", "cluster")
        for member in p["members"]:
            assert pid in corpus.schools[member]["partnerships"]
        if "lead" in p:
            assert p["lead"] in p["members"]
    for sid, s in corpus.schools.items():
        assert all(pid in corpus.partnerships for pid in s["partnerships"]), sid


def test_scale_two_doubles_every_locality_and_keeps_its_proportions(tmp_path):
    summary = generate(tmp_path / "x2", scale=2, seed=0)
    assert (summary.transcripts, summary.schools, summary.informants) == (364, 94, 36)
    for folder, (n_schools, phases, n_staff, kinds) in DESIGN.items():
        schools = yaml.safe_load((tmp_path / "x2" / folder / "schools.yaml").read_text())
        assert len(schools) == 2 * n_schools
        assert Counter(s["phase"] for s in schools.values()) == Counter({k: 2 * v for k, v in phases.items()})
        staff = [p for p in (tmp_path / "x2" / folder).glob("*-S*.md")]
        assert len(staff) == 2 * n_staff
        assert len(list((tmp_path / "x2" / folder).glob("*-I*.md"))) == 2 * len(kinds)
    partnerships = yaml.safe_load((tmp_path / "x2" / "partnerships.yaml").read_text())
    assert [len(partnerships[p]["members"]) for p in ("EAS-MAT1", "EAS-MAT2")] == [6, 6]
    assert (tmp_path / "x2" / "eastern" / "EAS-S22-HT.md").exists()


# --- transcripts -----------------------------------------------------------------------

def test_word_counts_and_kind_per_role(corpus):
    for tid, t in corpus.transcripts.items():
        words = len(t.text.split())
        head_or_informant = tid.endswith("-HT") or "informant_kind" in t.meta
        assert t.meta["kind"] == ("full" if head_or_informant else "notes"), tid
        low, high = (5000, 9000) if t.meta["kind"] == "full" else (1200, 3000)
        assert low <= words <= high, (tid, words)


def test_front_matter_fields(corpus):
    for tid, t in corpus.transcripts.items():
        if "informant_kind" in t.meta:
            assert set(t.meta) == {"id", "informant_kind", "locality", "date", "kind"}
            assert re.fullmatch(r"[A-Z]{3}-I\d{2}", tid)
        else:
            assert t.meta["role"] in ROLES and t.meta["participant"] == tid
            assert tid.startswith(t.meta["school"] + "-")


def test_files_are_utf8_lf_and_body_ends_in_one_newline(corpus):
    for t in corpus.transcripts.values():
        raw = t.path.read_bytes()
        assert b"\r" not in raw and raw.endswith(b"\n") and not raw.endswith(b"\n\n")
        body = raw.decode("utf-8").split("\n---\n", 1)[1]
        assert body == t.text


def test_turns_use_the_right_labels_and_continuations_never_look_like_labels(corpus):
    label_like = re.compile(r"^[A-Z][\w'.\-]*(?: [\w'.\-]+){0,4}: ")
    for tid, t in corpus.transcripts.items():
        if "informant_kind" in t.meta:
            participant = "Interviewee"
        else:
            participant = t.meta["role"]
        allowed = {"Interviewer", participant} | ({"Note"} if t.meta["kind"] == "notes" else set())
        assert {turn.speaker for turn in t.turns} <= allowed, tid
        for line in t.text.split("\n"):
            match = label_like.match(line)
            if match:
                assert match.group(0)[:-2] in allowed, (tid, line[:60])
        if t.meta["kind"] == "notes":
            assert "interview notes" in t.text[:400].lower(), tid


def test_texture_of_speech(corpus):
    text = "\n".join(t.text for t in corpus.transcripts.values())
    for mark in ("erm", "you know", "[inaudible]", "[cross-talk]", "[laughs]"):
        assert text.count(mark) >= 20, mark
    assert re.search(r"\b20(1[0-6])\b", text) and re.search(r"\d+ per cent", text)


# --- gold codings ----------------------------------------------------------------------

def test_gold_offsets_point_inside_participant_or_note_turns(corpus):
    assert len(corpus.gold) > 5000
    for row in corpus.gold:
        t = corpus.transcripts[row["transcript"]]
        assert 0 <= row["start"] < row["end"] <= len(t.text), row
        span = t.text[row["start"]:row["end"]]
        assert span == span.strip() and span, row
        turn = next((turn for turn in t.turns if turn.start <= row["start"] and row["end"] <= turn.end), None)
        assert turn is not None and turn.speaker != "Interviewer", row


def test_gold_codes_are_from_the_code_list_and_cover_every_theme(corpus):
    used = {row["code"] for row in corpus.gold}
    assert used <= set(CODES)
    assert {code.split("/")[0] for code in used} == {"hierarchy", "markets", "networks", "leadership", "equity"}
    leaves = {c for c in CODES if not any(other.startswith(c + "/") for other in CODES)}
    assert leaves <= used
    assert sum(code in leaves for code in (row["code"] for row in corpus.gold)) / len(corpus.gold) > 0.8
    spans = Counter((row["transcript"], row["start"], row["end"]) for row in corpus.gold)
    assert sum(n > 1 for n in spans.values()) >= 100, "some passages should carry two codes"


def test_every_transcript_has_coded_passages(corpus):
    for tid in corpus.transcripts:
        assert len(corpus.codes[tid]) >= 3, tid


def test_speaker_tied_findings_hold(corpus):
    primary = corpus.heads(phase=("primary", "junior"))
    secondary = corpus.heads(phase="secondary")
    pupils = "markets/competition/pupils"
    assert corpus.share(secondary, pupils) >= 0.8
    assert corpus.share(primary, pupils) <= 0.5
    assert corpus.share(secondary, pupils) - corpus.share(primary, pupils) >= 0.35

    weak = [t for t in corpus.transcripts if corpus.schools.get(corpus.transcripts[t].meta.get("school"), {}).get("ofsted")
            in ("Requires Improvement", "Inadequate")]
    strong = [t for t in corpus.transcripts if corpus.schools.get(corpus.transcripts[t].meta.get("school"), {}).get("ofsted")
              in ("Good", "Outstanding")]
    forced = "hierarchy/academisation/forced"
    assert corpus.share(weak, forced) - corpus.share(strong, forced) >= 0.4

    roles = "networks/system-leaders/designated-roles"
    designated = [h for h in corpus.heads() if corpus.schools[corpus.transcripts[h].meta["school"]]["designations"]]
    others = [h for h in corpus.heads() if h not in designated]
    assert corpus.share(designated, roles) >= 0.8 and corpus.share(others, roles) <= 0.3
    assert corpus.share(designated, "networks/system-leaders/pressure") >= 0.6

    decline = "hierarchy/middle-tier/la-decline"
    assert corpus.share(primary, decline) - corpus.share(secondary, decline) >= 0.3

    def partnership_talk(ids):
        return sum(bool(corpus.codes[i] & {"networks/tsa/exclusive", "networks/peer-review"}) for i in ids) / len(ids)

    northern = [t for t in corpus.transcripts if t.startswith("NOR-S")]
    elsewhere = [t for t in corpus.transcripts if t[4] == "S" and not t.startswith("NOR-")]
    assert partnership_talk(northern) - partnership_talk(elsewhere) >= 0.25


# --- statement bank and originality -------------------------------------------------

def test_statement_bank_is_large_and_uses_known_codes():
    assert len(distinct_statements()) >= 600
    assert set(statement_bank()) <= set(CODES)


def _seed_quote_sentences() -> list[str]:
    """Sentences (8+ words) of the interview material quoted in the seeds: block quotes above an
    attribution line, and quoted speech of eight words or more inside paragraphs."""
    attribution = re.compile(r"^(Headteacher|Principal|Executive [Hh]ead|Head|Deputy|Assistant|Teacher|Chair|School business|"
                             r"Local authority|LA |Ofsted|RSC|Regional School|NCTL|CPD|Middle leader|Senior leader|.*interviewee).{0,110}$")
    passages = []
    for path in sorted(SEEDS.glob("*.txt")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            if attribution.match(line.strip()):
                previous = [p for p in lines[max(0, i - 3):i] if p.strip()]
                if previous:
                    passages.append(previous[-1])
        text = " ".join(lines)
        passages += re.findall(r"[‘“\"']([^‘’“”\"]{50,}?)[’”\"'](?=[\s.,;:)]|$)", text)
    sentences = []
    for passage in passages:
        for sentence in re.split(r"(?<=[.!?])\s+|\s*\.\.\.\s*|\s*…\s*", passage):
            words = re.findall(r"[a-z0-9']+", sentence.lower())
            if len(words) >= 8:
                sentences.append(" ".join(words))
    return sentences


@pytest.mark.skipif(not SEEDS.is_dir(), reason="needs ../shared/seeds beside the repository")
def test_no_sentence_quoted_in_the_seeds_appears_in_the_corpus(corpus):
    sentences = _seed_quote_sentences()
    assert len(sentences) > 100
    texts = [" ".join(re.findall(r"[a-z0-9']+", t.text.lower())) for t in corpus.transcripts.values()]
    # Only sentences whose first eight words occur somewhere need the full (slow) substring check.
    openings = {" ".join(words[i:i + 8]) for words in (t.split() for t in texts) for i in range(len(words) - 7)}
    text = "\n".join(texts)
    copied = [s for s in sentences if " ".join(s.split()[:8]) in openings and s in text]
    assert not copied, copied[:5]


# --- names and the identity key -------------------------------------------------------------

def test_identity_key_variants_all_occur_in_the_corpus(corpus):
    text = "\n".join(t.text for t in corpus.transcripts.values())
    assert len(corpus.key) >= 100
    for row in corpus.key:
        assert row["kind"] in ("person", "school", "place", "organisation", "partnership")
        assert row["replacement"].startswith("[") and row["replacement"].endswith("]")
        for variant in row["variants"].split(";"):
            assert variant and variant in text, (row["name"], variant)
    kinds = Counter(row["kind"] for row in corpus.key)
    assert all(kinds[k] for k in ("person", "school", "place", "organisation", "partnership"))


def test_metadata_stays_pseudonymised(corpus):
    names = {v for row in corpus.key for v in row["variants"].split(";") if len(v) > 4}
    metadata = (CORPUS / "partnerships.yaml").read_text() + "".join(p.read_text() for p in CORPUS.glob("*/schools.yaml"))
    metadata += "".join(t.path.read_text().split("\n---\n", 1)[0] for t in corpus.transcripts.values())
    assert not [n for n in names if n in metadata]


# Capitalised words that ordinary talk about schools uses and that name nobody.
VOCABULARY = set("""
Ofsted RSC LA NLE NLEs LLE LLEs SLE SLEs TSA TSAs MAT MATs CEO SEND SENCO CAMHS NQT NQTs HMI HR PowerPoint GCSE GCSEs
Teaching School Schools Alliance Alliances Regional Commissioner Commissioners Key Stage One Two Three Four Year Years Six Seven Five
Eight Nine Ten Eleven Twelve Thirteen Reception Progress Local Leader Leaders National Education Department Christian Direct Sorry Yes No Right
Requires Improvement Inadequate Good Outstanding Note Interviewer Interviewee Headteacher Principal Executive Deputy Assistant
Middle Teacher School Chair Head Business Manager Director And But So Well The It I We They There This That What When If Mind
Honestly Okay Erm Gosh Where Put Which Let Mm Sure Ask Brilliant Thanks Thank Before Just Going Can Last Is Anything Not Only
Mrs Mr Ms Miss Dr St C E Catholic Primary Junior Infant Academy High Community College Trust Partnership Cluster Learning
MP January February March April May June July August September October November December Monday Tuesday Wednesday Thursday Friday
English Maths Science Music INSET NPQML NPQ TLR Oh Half Every Some You Our He She A An Being CPD Sevens Sixes
""".split())
CONTRACTION = re.compile(r"^(I|We|They|You|It|That|There|He|She|Who|What)'\w+$")


def test_capitalised_names_in_the_text_are_in_the_identity_key(corpus):
    """Best effort: runs of two or more capitalised words are vocabulary or contain a listed name."""
    variants = sorted({v for row in corpus.key for v in row["variants"].split(";")}, key=len, reverse=True)
    run = re.compile(r"\b[A-Z][\w'&-]*(?: (?:of |& )?(?:[A-Z]\.|[A-Z][\w'&-]*))+")
    unknown = Counter()
    for t in corpus.transcripts.values():
        for match in run.finditer(t.text):
            phrase = match.group(0)
            words = [w.removesuffix("'s") for w in phrase.split() if w not in ("of", "&")]
            before = t.text[max(0, match.start() - 2):match.start()]
            if match.start() == 0 or before in (". ", "? ", "! ", ": ", "\n", "] ") or before.endswith("\n"):
                words = words[1:]  # a capital at the start of a sentence says nothing
            words = [w for w in words if not CONTRACTION.match(w)]
            if len(words) < 2 or all(w in VOCABULARY for w in words):
                continue
            if any(v in phrase or phrase in v for v in variants):
                continue
            unknown[phrase] += 1
    assert not unknown, unknown.most_common(10)


def test_sample_corpus_command_function_writes_and_reports(tmp_path, capsys):
    from qualcode.cli.samplecorpus import sample_corpus_cli

    sample_corpus_cli(tmp_path / "out", scale=1, seed=5)
    assert len(list((tmp_path / "out").glob("*/*.md"))) == 182
    assert "182 transcripts" in capsys.readouterr().err
