"""Malformed inputs of the kinds researchers produce, each run through the installed script
on a fresh copy of one small coded project.

For every case: the exit code (1 bad input, 2 could not run), no traceback, a message
naming the file (and line and field where there is one), and a database exactly as it
was (every row of every table; for a database that cannot be opened, its bytes).
"""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qualcode import db
from qualcode.ingest.corpus import import_paths
from qualcode.errors import CouldNotRun, QualcodeError
from qualcode.project import Project
from tests.conftest import FIXTURES, table_rows
from tests.coded_fixture import make_coded_project

BODY = "Interviewer: How is the year going?\n\nHeadteacher: Busy, as ever. We lost two teachers in March.\n"
#: A quote and attribution `check` finds true in the coded project.
CLEAN_QUOTE = (
    "> Since the local authority lost its advisers we buy in support from the teaching school.\n\n"
    "Headteacher, maintained primary school, Ofsted Good\n"
)


def interview(body: str = BODY, **fields: str | None) -> str:
    """A transcript whose front matter has id (line 2), role (3), school (4), date (5), kind (6), then `fields`."""
    meta = {"id": "NEW-01", "role": "Headteacher", "school": "EAS-S01", "date": "2016-03-14", "kind": "full", **fields}
    return "---\n" + "".join(f"{k}: {v}\n" for k, v in meta.items() if v is not None) + "---\n" + body


def codebook(codes: str) -> str:
    return "codebook: test\nversion: 1\ncodes:\n" + codes


@dataclass
class Case:
    id: str
    #: `qualcode` arguments; `{in}` is the folder holding `files`, `{p}` the project folder.
    args: list[str]
    code: int
    #: What stderr must contain: the file, and its line and field where there is one.
    says: list[str]
    files: dict[str, str | bytes] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    #: Changes the project copy before the run (a database state); then the database file's
    #: bytes, not its rows, must be unchanged.
    state: object = None


def _import(name: str, content: str | bytes, code: int, *says: str, extra: dict | None = None) -> Case:
    return Case(f"import-{name}", ["import", "{in}"], code, list(says), {"new.md": content, **(extra or {})})


IMPORT = [
    _import("impossible-month", interview(date="2015-13-45"), 1, "new.md:5: date: '2015-13-45' is no such date"),
    _import("impossible-day", interview(date="2015-06-31"), 1, "new.md:5: date: '2015-06-31' is no such date"),
    _import("date-words", interview(date="last March"), 1, "new.md:5: date:"),
    _import("date-number", interview(date="12"), 1, "new.md:5: date:"),
    _import("unknown-role", interview(role="Plumber"), 1, "new.md:3: role:"),
    _import("role-list", interview(role="[Headteacher, Teacher]"), 1, "new.md:3: role:"),
    _import("unknown-school", interview(school="EAS-S99"), 1, "new.md:4: school:"),
    _import("unknown-kind", interview(kind="partial"), 1, "new.md:6: kind:"),
    _import("no-id", interview(id=None), 1, "new.md", "id"),
    _import("id-list", interview(id="[a, b]"), 1, "new.md:2: id:"),
    _import("no-kind", interview(kind=None), 1, "new.md", "kind"),
    _import("unknown-field", interview(colour="red"), 1, "new.md:7: colour:"),
    _import("numeric-field-name", interview(**{"12": "x"}), 1, "new.md:7: 12:"),
    _import("unclosed-front-matter", "---\nid: NEW-01\nrole: Headteacher\n" + BODY, 1, "new.md:1:", "never closed"),
    _import("bad-yaml", interview(role="[Headteacher"), 1, "new.md:", "invalid YAML"),
    _import("front-matter-list", "---\n- id\n- role\n---\n" + BODY, 1, "new.md:2:", "mapping"),
    _import("empty-front-matter", "---\n---\n" + BODY, 1, "new.md:1:", "no metadata"),
    _import("no-front-matter", BODY, 1, "new.md:1:", "no metadata"),
    _import("empty-file", "", 1, "new.md: the file is empty"),
    _import("binary", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", 1, "new.md: this looks like a binary file"),
    _import("bad-utf16", b"\xff\xfe" + b"\x00\xd8a\x00", 1, "new.md: not valid UTF-16"),
    _import("utf16-bad-role", interview(role="Plumber").encode("utf-16"), 1, "new.md:3: role:"),
    _import("utf16le-bad-role", interview(role="Plumber").encode("utf-16-le"), 1, "new.md:3: role:"),
    _import("cp1252-bad-role", interview(role="Plumber", interviewer="Renée").encode("cp1252"), 1, "new.md:3: role:"),
    # UTF-8 ’ on line 8, a Windows-1252 é on line 10: read as Windows-1252, the ’ became â€™ with only a note.
    _import("mixed-encodings", interview("Interviewer: It’s new?\n\n").encode() + "Headteacher: Yes, café.\n".encode("cp1252"),
            1, "new.md:10: byte 0xE9 is not UTF-8, but the file holds UTF-8 characters elsewhere"),
    # A NUL beyond the first 8 KB was stored in the transcript (and PostgreSQL refuses it).
    _import("nul-after-8k", interview(BODY + "Headteacher: " + "word " * 2000 + "\x00\n"), 1,
            "new.md:11: a NUL byte (0x00), which is not text (1 in the file)"),
    _import("front-matter-only", "---\nid: NEW-01\nrole: Headteacher\nschool: EAS-S01\nkind: full\n---\n", 1, "new.md"),
    _import("school-fields-without-school", interview(school=None, phase="primary"), 1, "new.md", "no 'school' id"),
    _import("contradicts-schools-yaml", interview(phase="secondary"), 1, "new.md:7: phase:", "contradicts", extra={
        "schools.yaml": "EAS-S01:\n  locality: Eastern\n  phase: primary\n  school_type: maintained\n  ofsted: Good\n"}),
    _import("bad-fsm-in-front-matter", interview(school="EAS-S07", locality="Eastern", phase="primary",
                                                school_type="maintained", ofsted="Good", fsm="lots"), 1, "new.md:", "fsm"),
    Case("import-same-id-twice", ["import", "{in}"], 1, ["b.md:2: id:", "is also the id of"],
         {"a.md": interview(), "b.md": interview()}),
    Case("import-not-a-transcript", ["import", "{in}/notes.pdf"], 1, ["notes.pdf: not a transcript"], {"notes.pdf": b"%PDF-1.4"}),
    Case("import-missing-file", ["import", "{in}/nowhere.md"], 1, ["nowhere.md: no such file or folder"]),
    Case("import-docx-not-word", ["import", "{in}"], 1, ["new.docx:", "a damaged Word document"],
         {"new.docx": "this is plain text in a .docx file"}),
    Case("import-sidecar-bad-yaml", ["import", "{in}"], 1, ["new.yaml:", "invalid YAML"],
         {"new.md": BODY, "new.yaml": "id: NEW-01\nrole: [Headteacher\n"}),
    Case("import-sidecar-bad-date", ["import", "{in}"], 1, ["new.yaml:4: date: '2015-02-30' is no such date"],
         {"new.md": BODY, "new.yaml": "id: NEW-01\nrole: Headteacher\nschool: EAS-S01\ndate: 2015-02-30\nkind: full\n"}),
    Case("import-sidecar-cp1252-bad-role", ["import", "{in}"], 1, ["new.yaml:2: role:"],
         {"new.md": BODY, "new.yaml": "id: NEW-01\nrole: Plumber\nschool: EAS-S01\nkind: full\ninterviewer: Renée\n".encode("cp1252")}),
    Case("import-sidecar-binary", ["import", "{in}"], 1, ["new.yaml: this looks like a binary file"],
         {"new.md": BODY, "new.yaml": b"\x00\x01\x02\x03binary"}),
    Case("import-sidecar-list", ["import", "{in}"], 1, ["new.yaml:1:", "mapping"], {"new.md": BODY, "new.yaml": "- id\n- role\n"}),
    _import("schools-comment-only", interview(), 1, "schools.yaml: describes nothing", extra={"schools.yaml": "# to do\n"}),
    _import("schools-bad-yaml", interview(), 1, "schools.yaml:", "invalid YAML", extra={"schools.yaml": "EAS-S01:\n  phase: [primary\n"}),
    _import("schools-not-nested", interview(), 1, "schools.yaml:1: EAS-S07:", extra={"schools.yaml": "EAS-S07: primary\n"}),
    _import("schools-bad-ofsted", interview(school="EAS-S07"), 1, "schools.yaml:4: ofsted:",
            extra={"schools.yaml": "EAS-S07:\n  locality: Eastern\n  phase: primary\n  ofsted: Superb\n"}),
    _import("schools-bad-fsm", interview(school="EAS-S07"), 1, "schools.yaml:4: fsm:",
            extra={"schools.yaml": "EAS-S07:\n  locality: Eastern\n  phase: primary\n  fsm: 150\n"}),
    _import("schools-unknown-field", interview(school="EAS-S07"), 1, "schools.yaml:3: colour:",
            extra={"schools.yaml": "EAS-S07:\n  locality: Eastern\n  colour: blue\n"}),
    _import("schools-binary", interview(), 1, "schools.yaml: this looks like a binary file", extra={"schools.yaml": b"\x00\x00\x01"}),
    _import("schools-csv-no-id", interview(), 1, "schools.csv:1:", "'id' column", extra={"schools.csv": "name,phase\nA,primary\n"}),
    _import("schools-csv-bad-phase", interview(school="EAS-S07"), 1, "schools.csv:2:", "phase",
            extra={"schools.csv": "id,locality,phase\nEAS-S07,Eastern,nursery\n"}),
    _import("partnership-unknown-lead", interview(), 1, "partnerships.yaml:", "lead",
            extra={"partnerships.yaml": "EAS-TSA9:\n  kind: TSA\n  locality: Eastern\n  members: [EAS-S01]\n  lead: EAS-S77\n"}),
    _import("partnership-unknown-member", interview(), 1, "partnerships.yaml:", "members",
            extra={"partnerships.yaml": "EAS-TSA9:\n  kind: TSA\n  locality: Eastern\n  members: [EAS-S55]\n"}),
    _import("partnership-bad-kind", interview(), 1, "partnerships.yaml:3: kind:",
            extra={"partnerships.yaml": "EAS-TSA9:\n  locality: Eastern\n  kind: Gang\n  members: [EAS-S01]\n"}),
]

CODEBOOK = [
    Case(f"codebook-{name}", ["codebook", "load", "{in}/codebook.yaml"], 1, says, {"codebook.yaml": content})
    for name, content, says in [
        ("bad-regex", codebook("- name: markets\n  patterns:\n    tokens:\n    - [{LOWER: {REGEX: 'compet(('}}]\n"),
         ["codebook.yaml:7: patterns.tokens: token 1: 'compet((' is not a regular expression"]),
        ("bad-regex-second-token", codebook("- name: markets\n  patterns:\n    tokens:\n    - [{LOWER: the}, {LOWER: {REGEX: '[a-'}}]\n"),
         ["codebook.yaml:7: patterns.tokens: token 2:"]),
        ("token-pattern-not-list", codebook("- name: markets\n  patterns:\n    tokens:\n    - ofsted\n"),
         ["codebook.yaml:7: patterns.tokens:"]),
        ("lemma-with-space", codebook("- name: markets\n  patterns:\n    lemmas: [market share]\n"), ["codebook.yaml:6: patterns.lemmas:"]),
        ("patterns-not-mapping", codebook("- name: markets\n  patterns: [market]\n"), ["codebook.yaml:5: patterns:"]),
        ("bad-name", codebook("- name: Bad Name\n"), ["codebook.yaml:4: name: invalid name 'Bad Name'"]),
        ("no-name", codebook("- title: Markets\n"), ["codebook.yaml:4: name:"]),
        ("bad-colour", codebook("- name: markets\n  colour: red\n"), ["codebook.yaml:5: colour:"]),
        ("duplicate", codebook("- name: markets\n- name: markets\n"), ["codebook.yaml:5: name: duplicate code path"]),
        ("parent-cycle", codebook("- name: a\n  parent: b\n- name: b\n  parent: a\n"), ["codebook.yaml:", "parent cycle"]),
        ("children-not-list", codebook("- name: markets\n  children: competition\n"), ["codebook.yaml:5: children:"]),
        ("unknown-key", codebook("- name: markets\n  colour_code: 3\n"), ["codebook.yaml:5:", "colour_code"]),
        ("bad-yaml", codebook("- name: [markets\n"), ["codebook.yaml:", "YAML syntax error"]),
        ("not-mapping", "- markets\n- networks\n", ["codebook.yaml:1:", "mapping"]),
        ("empty", "", ["codebook.yaml", "empty"]),
        ("binary", b"\x00\x01\x02\x03\x04", ["codebook.yaml", "binary"]),
        ("missing-parent", codebook("- path: nowhere/child\n"), ["codebook.yaml:4: path:", "parent 'nowhere'"]),
    ]
] + [
    Case("codebook-load-missing-file", ["codebook", "load", "{in}/none.yaml"], 2, ["none.yaml' does not exist"]),
    Case("codebook-rename-unknown", ["codebook", "rename", "nosuch", "other"], 1, ["nosuch"]),
    Case("codebook-add-bad-name", ["codebook", "add", "Bad Name"], 1, ["'bad name' is not a valid code name"]),
    Case("codebook-move-under-itself", ["codebook", "move", "markets", "markets/competition"], 1, ["markets"]),
    Case("codebook-merge-into-itself", ["codebook", "merge", "markets", "markets"], 1, ["into itself"]),
    Case("codebook-rm-coded", ["codebook", "rm", "markets"], 1, ["markets"]),
    Case("codebook-export-unknown-format", ["codebook", "export", "{in}/out.pdf"], 1, ["out.pdf"]),
]

CODING = [
    Case("code-unknown-transcript", ["code", "NOPE-01", "3", "markets"], 1, ["NOPE-01"]),
    Case("code-line-beyond-end", ["code", "EAS-S01-HT", "999", "markets"], 1, ["EAS-S01-HT", "999"]),
    Case("code-not-lines", ["code", "EAS-S01-HT", "three", "markets"], 1, ["'three' is not a line range"]),
    Case("code-reversed-lines", ["code", "EAS-S01-HT", "5-3", "markets"], 1, ["5-3"]),
    Case("code-column-beyond-line", ["code", "EAS-S01-HT", "3:999-3:1000", "markets"], 1, ["EAS-S01-HT"]),
    Case("code-turn-beyond-end", ["code", "EAS-S01-HT", "--turn", "99", "markets"], 1, ["99"]),
    Case("code-unknown-code", ["code", "EAS-S01-HT", "3", "nosuch"], 1, ["nosuch"]),
    Case("code-bad-new-code-name", ["code", "EAS-S01-HT", "3", "Bad Name", "--new"], 1, ["'bad name' is not a valid code name"]),
    Case("uncode-unknown-transcript", ["uncode", "NOPE-01", "3", "markets"], 1, ["NOPE-01"]),
    Case("uncode-nothing-there", ["uncode", "EAS-S01-HT", "1", "markets"], 1, ["EAS-S01-HT"]),
    Case("memo-unknown-school", ["memo", "--school", "EAS-S99", "words"], 1, ["EAS-S99"]),
    Case("memo-unknown-coding", ["memo", "--coding", "9999", "words"], 1, ["9999"]),
    Case("show-unknown-transcript", ["show", "NOPE-01"], 1, ["NOPE-01"]),
    Case("undo-nothing", ["undo", "--coder", "nobody"], 1, ["nobody"]),
]

CHECK = [
    Case("check-binary-report", ["check", "{in}/report.md"], 2, ["report.md: this looks like a binary file"],
         {"report.md": b"\x00\x01\x02\x03 not text"}),
    Case("check-bad-utf16-report", ["check", "{in}/report.md"], 2, ["report.md: not valid UTF-16"], {"report.md": b"\xff\xfe\x00\xd8"}),
    Case("check-missing-report", ["check", "{in}/none.md"], 2, ["none.md: no such file"]),
    Case("check-unknown-format", ["check", "{in}/report.pdf"], 2, ["report.pdf: cannot read 'pdf' reports"], {"report.pdf": b"%PDF"}),
    Case("check-empty-report", ["check", "{in}/report.md"], 2, ["report.md: the file is empty"], {"report.md": ""}),
    Case("check-docx-not-word", ["check", "{in}/report.docx"], 2, ["report.docx: a damaged Word document"], {"report.docx": "plain text"}),
    Case("evaluate-gold-binary", ["evaluate", "--gold", "{in}/gold.csv"], 1, ["gold.csv: this looks like a binary file"],
         {"gold.csv": b"\x89PNG\x00\x00"}),
    Case("evaluate-gold-wrong-columns", ["evaluate", "--gold", "{in}/gold.csv"], 1, ["gold.csv: expected the columns"],
         {"gold.csv": "a,b\n1,2\n"}),
]
#: Reports that are not UTF-8 are read, not refused: these pass.
READABLE_REPORTS = [
    ("windows-1252", ("Caf\u00e9 notes.\n\n" + CLEAN_QUOTE).encode("cp1252")),
    ("utf-16", CLEAN_QUOTE.encode("utf-16")),
    ("utf-16-le-without-bom", CLEAN_QUOTE.encode("utf-16-le")),
]

QUERY = [
    Case("query-matrix-unknown-code", ["query", "matrix", "--codes", "nosuch"], 1, ["nosuch"]),
    Case("query-matrix-unknown-field", ["query", "matrix", "--by", "colour"], 1, ["colour"]),
    Case("query-matrix-unknown-unit", ["query", "matrix", "--unit", "bytes"], 1, ["--unit must be one of"]),
    Case("query-matrix-bad-where", ["query", "matrix", "--where", "phase"], 1, ["phase"]),
    Case("query-matrix-where-unknown-value", ["query", "matrix", "--where", "phase=nursery"], 1, ["--where phase: 'nursery'"]),
    Case("query-matrix-bad-percent", ["query", "matrix", "--percent", "diagonal"], 1, ["--percent"]),
    Case("query-matrix-csv-under-a-file", ["query", "matrix", "--csv", "{in}/notes.txt/out.csv"], 2, ["notes.txt"],
         {"notes.txt": "a file, not a folder"}),
    Case("query-cooccur-bad-within", ["query", "cooccur", "--within", "paragraph"], 1, ["--within must be one of"]),
    Case("query-framework-bad-by", ["query", "framework", "--by", "locality"], 1, ["--by must be one of"]),
    Case("query-text-empty", ["query", "text", " "], 1, ["give a word or phrase"]),
    Case("codings-unknown-origin", ["codings", "--origin", "magic"], 1, ["--origin must be one of"]),
]

REPORT = [
    Case("report-quotes-unknown-theme", ["report", "quotes", "--theme", "nosuch", "-o", "{in}/q.html"], 1, ["nosuch"]),
    Case("report-quotes-unknown-format", ["report", "quotes", "--theme", "markets", "-o", "{in}/q.pdf"], 1, ["pdf"]),
    Case("report-case-unknown-locality", ["report", "case", "Atlantis", "-o", "{in}/c.html"], 1, ["Atlantis"]),
]


def _settings(text: str | bytes, name: str, code: int, *says: str) -> Case:
    content = text if isinstance(text, bytes) else text.encode("utf-8")
    return Case(f"settings-{name}", ["stats"], code, list(says), state=lambda root: (root / "qualcode.toml").write_bytes(content))


def _damaged_key(root: Path) -> None:
    (root / "identity-key.csv").write_bytes(b"\x00\x01\x02 not a key")


KEY = [
    Case("key-import-binary", ["key", "import", "{in}/key.csv"], 1, ["key.csv: this looks like a binary file"],
         {"key.csv": b"\x00\x01\x02\x03"}),
    Case("key-import-cp1252-bad-kind", ["key", "import", "{in}/key.csv"], 1, ["key.csv:2: kind: 'persn'"],
         {"key.csv": "name,kind\nRenée Dupont,persn\n".encode("cp1252")}),
    Case("key-import-missing-columns", ["key", "import", "{in}/key.csv"], 1, ["key.csv:1:", "missing column(s): kind"],
         {"key.csv": "name\nRenée\n"}),
    Case("key-file-damaged", ["query", "find", "markets"], 1, ["identity-key.csv: this looks like a binary file"], state=_damaged_key),
]


def _break_database(damage):
    def state(root: Path) -> None:
        damage(root / "qualcode.db")

    return state


def _future_revision(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    connection.close()


DATABASE = [
    Case("database-missing", ["stats"], 2, ["no database at", "qualcode.db", "qualcode init"],
         state=_break_database(Path.unlink)),
    Case("database-missing-code", ["code", "EAS-S01-HT", "3", "markets"], 2, ["no database at", "qualcode.db"],
         state=_break_database(Path.unlink)),
    Case("database-empty-file", ["transcripts"], 2, ["no database at", "qualcode.db"],
         state=_break_database(lambda path: path.write_bytes(b""))),
    Case("database-garbage", ["stats"], 2, ["qualcode.db", "not a qualcode database"],
         state=_break_database(lambda path: path.write_bytes(b"garbage, not SQLite " * 300))),
    Case("database-truncated", ["query", "matrix"], 2, ["qualcode.db"],
         state=_break_database(lambda path: path.write_bytes(path.read_bytes()[:3000]))),
    Case("database-from-a-newer-qualcode", ["stats"], 2, ["qualcode.db", "newer qualcode"],
         state=_break_database(_future_revision)),
    Case("database-read-only-code", ["code", "EAS-S01-HT", "3", "networks"], 2, ["qualcode.db", "read-only"],
         env={"QUALCODE_DB": "sqlite:///file:{p}/qualcode.db?mode=ro&uri=true"}),
    Case("database-read-only-import", ["import", "{in}"], 2, ["qualcode.db", "read-only"], {"new.md": interview()},
         env={"QUALCODE_DB": "sqlite:///file:{p}/qualcode.db?mode=ro&uri=true"}),
    Case("database-folder-missing", ["stats"], 2, ["no database at", "/no/such/folder/q.db"],
         env={"QUALCODE_DB": "sqlite:////no/such/folder/q.db"}),
    Case("database-url-garbage", ["stats"], 1, ["QUALCODE_DB: not a database URL"], env={"QUALCODE_DB": "not a url"}),
    Case("database-url-unknown-dialect", ["stats"], 1, ["nosql://x", "unknown kind of database"], env={"QUALCODE_DB": "nosql://x"}),
    Case("database-url-missing-driver", ["stats"], 2, ["mysql://u@h/x", "driver is not installed"], env={"QUALCODE_DB": "mysql://u@h/x"}),
    Case("database-server-down", ["stats"], 2, ["postgresql+psycopg://u@127.0.0.1:1/x", "no database server answers"],
         env={"QUALCODE_DB": "postgresql+psycopg://u@127.0.0.1:1/x"}),
    Case("database-password-hidden", ["stats"], 2, ["postgresql+psycopg://u:***@127.0.0.1:1/x"],
         env={"QUALCODE_DB": "postgresql+psycopg://u:secret@127.0.0.1:1/x"}),
    _settings("[database\nurl = 1\n", "broken-toml", 1, "qualcode.toml"),
    _settings(b"\x00\x01\x02", "binary-toml", 1, "qualcode.toml"),
    _settings('[database]\nurl = "::nonsense::"\n', "bad-url", 1, "qualcode.toml: [database] url: not a database URL"),
    _settings('[database]\nurl = "sqlite:///elsewhere.db"\n', "url-to-nowhere", 2, "no database at", "elsewhere.db"),
]

CASES = IMPORT + CODEBOOK + CODING + CHECK + QUERY + REPORT + KEY + DATABASE


@pytest.fixture(scope="session")
def coded(tmp_path_factory) -> tuple[Path, dict]:
    """One small coded project, closed (its WAL folded in), and the dump of its tables."""
    root = tmp_path_factory.mktemp("bad-input") / "project"
    corpus = root.parent / "corpus"
    shutil.copytree(FIXTURES / "corpus", corpus)
    project = make_coded_project(root, corpus)
    rows = table_rows(project)
    project.close()
    return root, rows


def _copy(coded, tmp_path: Path) -> Path:
    target = tmp_path / "project"
    shutil.copytree(coded[0], target)
    return target


def _fill(text: str, inputs: Path, root: Path) -> str:
    return text.replace("{in}", str(inputs)).replace("{p}", str(root))


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_a_bad_input_is_refused_by_name_and_changes_nothing(case: Case, coded, run, tmp_path: Path):
    root = _copy(coded, tmp_path)
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name, content in case.files.items():
        target = inputs / name
        target.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    if case.state:
        case.state(root)
    database = root / "qualcode.db"
    before = database.read_bytes() if database.exists() else None
    env = {"QUALCODE_PROJECT": str(root), "QUALCODE_CODER": "tester",
           **{k: _fill(v, inputs, root) for k, v in case.env.items()}}
    result = run(*(_fill(arg, inputs, root) for arg in case.args), env=env)
    output = result.stdout + result.stderr
    assert "Traceback" not in output and "internal error" not in output, output
    assert result.returncode == case.code, output
    for words in case.says:
        assert _fill(words, inputs, root) in result.stderr, result.stderr
    if case.state:
        assert (database.read_bytes() if database.exists() else None) == before
    else:
        project = Project.open(root)
        assert table_rows(project) == coded[1]
        project.close()


@pytest.mark.parametrize("encoding, content", READABLE_REPORTS, ids=[name for name, _ in READABLE_REPORTS])
def test_reports_in_other_encodings_are_read(encoding: str, content: bytes, coded, run, tmp_path: Path):
    root = _copy(coded, tmp_path)
    (tmp_path / "report.md").write_bytes(content)
    result = run("check", str(tmp_path / "report.md"), env={"QUALCODE_PROJECT": str(root)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 quotes checked" in result.stdout


def test_debug_shows_the_traceback_and_the_exit_code_stays(coded, run, tmp_path: Path):
    root = _copy(coded, tmp_path)
    (root / "qualcode.db").write_bytes(b"garbage, not SQLite " * 300)
    quiet = run("stats", env={"QUALCODE_PROJECT": str(root)})
    loud = run("--debug", "stats", env={"QUALCODE_PROJECT": str(root)})
    by_env = run("stats", env={"QUALCODE_PROJECT": str(root), "QUALCODE_DEBUG": "1"})
    assert quiet.returncode == loud.returncode == by_env.returncode == 2
    assert "Traceback" not in quiet.stderr
    assert "Traceback" in loud.stderr and "Traceback" in by_env.stderr
    assert "not a qualcode database" in loud.stderr


def test_an_unexpected_error_is_one_line_naming_its_type(coded, run, tmp_path: Path):
    """A bug (here: a constraint qualcode does not know of) is an internal error, exit 2, pointing at --debug."""
    root = _copy(coded, tmp_path)
    with sqlite3.connect(root / "qualcode.db") as connection:
        connection.execute("CREATE TRIGGER no_memos BEFORE INSERT ON memos BEGIN SELECT RAISE(ABORT, 'no memos'); END")
    connection.close()
    result = run("memo", "--school", "EAS-S01", "words", env={"QUALCODE_PROJECT": str(root)})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "error: internal error (IntegrityError: " in result.stderr
    assert "run again with --debug for the details" in result.stderr


def test_a_lost_database_is_made_again_only_by_init(coded, run, tmp_path: Path):
    root = _copy(coded, tmp_path)
    (root / "qualcode.db").unlink()
    assert run("stats", env={"QUALCODE_PROJECT": str(root)}).returncode == 2
    assert not (root / "qualcode.db").exists()
    made = run("init", str(root))
    assert made.returncode == 0, made.stderr
    assert run("stats", env={"QUALCODE_PROJECT": str(root)}).returncode == 0
    again = run("init", str(root))
    assert again.returncode == 1 and "already" in again.stderr


@pytest.mark.parametrize(
    "message, meaning",
    [
        ("database or disk is full", "the disk is full"),
        ("attempt to write a readonly database", "read-only"),
        ("database is locked", "another command or program is writing to it"),
        ("file is not a database", "not a qualcode database"),
        ("database disk image is malformed", "damaged"),
        ("unable to open database file", "cannot be opened"),
        ("something new", "cannot use the database (something new)"),
    ],
)
def test_sqlite_troubles_become_could_not_run(message: str, meaning: str):
    from sqlalchemy.exc import OperationalError

    for error in (sqlite3.OperationalError(message), OperationalError("INSERT ...", {}, sqlite3.OperationalError(message))):
        found = db.trouble(error, "sqlite:////study/qualcode.db")
        assert isinstance(found, CouldNotRun) and found.exit_code == 2
        assert str(found).startswith("sqlite:////study/qualcode.db: ") and meaning in str(found)


def test_qualcodes_own_database_errors_stay_internal_errors():
    from sqlalchemy.exc import IntegrityError

    assert db.trouble(IntegrityError("INSERT ...", {}, sqlite3.IntegrityError("UNIQUE constraint failed")), None) is None
    assert db.trouble(ValueError("no"), None) is None


def test_two_interviews_of_one_new_participant_import_together(coded, tmp_path: Path):
    root = _copy(coded, tmp_path)
    for n in (1, 2):
        (tmp_path / f"p{n}.md").write_text(interview(id=f"NEW-0{n}", participant="EAS-S01-P9"), encoding="utf-8")
    project = Project.open(root)
    report = import_paths(project, [tmp_path / "p1.md", tmp_path / "p2.md"])
    assert report.added == ["NEW-01", "NEW-02"]
    after = table_rows(project)
    project.close()
    assert [row for row in after["participants"] if row[0] == "EAS-S01-P9"] != []
    assert len(after["participants"]) == len(coded[1]["participants"]) + 1


# Random bytes and random front matter: import raises only QualcodeErrors and never changes the database.

_FIELDS = ["id", "participant", "role", "informant_kind", "school", "date", "kind", "interviewer", "phase", "fsm", "locality"]
_VALUES = st.one_of(
    st.sampled_from(["Headteacher", "EAS-S01", "full", "2015-13-45", "2016-02-29", "2015-06-31", "NCTL", "[a, b]", "{x: 1}",
                     "null", "~", "yes", "12", "-1", "1e9", "''", "'", "\"", "&a", "*a", "!!binary AAAA", "- x", "|", "%"]),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12),
)
_MAPPING = st.lists(st.tuples(st.one_of(st.sampled_from(_FIELDS), st.text(max_size=6)), _VALUES), max_size=8).map(
    lambda pairs: "".join(f"{k}: {v}\n" for k, v in pairs)
)
_FRONT_MATTER = st.tuples(_MAPPING, st.one_of(st.just(BODY), st.text(max_size=80))).map(
    lambda parts: "---\n" + parts[0] + "---\n" + parts[1]
)
_CONTENT = st.one_of(_FRONT_MATTER, st.binary(max_size=200), _FRONT_MATTER.map(lambda text: text.encode("utf-16")))
_SIDE_FILE = st.one_of(st.none(), _MAPPING, st.binary(max_size=60))


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=_CONTENT, sidecar=_SIDE_FILE, schools=st.one_of(_SIDE_FILE, _MAPPING.map(lambda m: "EAS-S07:\n" + m.replace("\n", "\n  ").rstrip(" "))))
def test_import_of_random_input_raises_only_qualcode_errors(coded, tmp_path: Path, content, sidecar, schools):
    """Transcript, sidecar and schools file at random; a dry run, so any flush error would surface too."""
    case = tmp_path / "random"
    shutil.rmtree(case, ignore_errors=True)
    root = _copy(coded, case)
    for name, data in (("new.md", content), ("new.yaml", sidecar), ("schools.yaml", schools)):
        if data is not None:
            (case / name).write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    project = Project.open(root)
    try:
        import_paths(project, [case / "new.md"], dry_run=True)
    except QualcodeError:
        pass
    assert table_rows(project) == coded[1]
    project.close()


def test_a_locked_database_is_could_not_run(coded, run, tmp_path: Path):
    """Another program holding the write lock past the wait (`QUALCODE_BUSY_WAIT`): exit 2, saying so, nothing written."""
    root = _copy(coded, tmp_path)
    holder = sqlite3.connect(root / "qualcode.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = run("code", "EAS-S01-HT", "3", "networks",
                     env={"QUALCODE_PROJECT": str(root), "QUALCODE_CODER": "tester", "QUALCODE_BUSY_WAIT": "1"})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("project is busy (another command is writing), waiting\n")
    assert "the project is still busy after 1 s (another command is writing); nothing was changed" in result.stderr
    project = Project.open(root)
    assert table_rows(project) == coded[1]
    project.close()
