"""One benchmark run, one table: what `make bench` writes to benchmarks/results.md.

``make bench`` installs qualcode as a user installs it, a wheel, into a venv of its
own (``.venv-bench``: the editable install ``make install`` makes starts every
command through setuptools' import hook) and runs this script there; any venv
with qualcode installed runs it (results.md says how qualcode was installed). On the bundled
corpus (``transcripts/``) and on ``qualcode sample-corpus --scale 10``, on SQLite
and on PostgreSQL (the server ``bash .ci/postgres.sh`` starts; skipped, with a
line saying so, when there is none), it times

* ``qualcode import`` (words/s) and ``qualcode autocode`` on a fresh parse
  cache (words/s, against spaCy's own ``nlp.pipe`` of the shipped pipeline on
  the same texts), and the F1 of the suggestions against the corpus's gold coding;
* each everyday command through the installed console script (best of 3 wall
  seconds, the team's gold coding loaded as manual codings): code, uncode,
  memo, undo, show, transcripts, stats, codings, codebook show, query
  matrix|cooccur|find|text|framework;
* the library's full matrix, co-occurrence and find (benchmarks/queries.py),
  ``check`` of a 200-quote report (benchmarks/check.py), and all ``make demo``
  reports;
* peak memory (RSS) and CPU seconds of every command, each its own (see
  ``LAUNCHER``), the background worker's peak, and this process's;

and, on the bundled corpus, the peer CLI qc (``qualitative-coding`` from the
package index, in a throwaway venv; see benchmarks/peer.py) on the same
transcripts and codings, for the six operations of issue 14, as ratios.

``--quick`` is the bundled corpus on SQLite without the peer, to iterate;
``--only SECTION...`` measures only some of autocode, everyday, library, check,
reports and peer (the import always), ``--scales 1`` only the bundled corpus,
``--databases sqlite`` only SQLite: e.g. ``--only everyday --scales 1
--databases sqlite --no-peer`` takes a few minutes. ``--dry-run`` only checks the
set-up and prints what would run.

How long a full run takes (estimated from parts run on the shared machine,
2026-12-03): on the bundled corpus some 7 minutes per database (autocode about
3.5 of them), the peer qc some 6 minutes, and at scale 10 some 50 to 60 minutes
per database (autocode of 6 million words about 35 of them): about 2 to 2.5
hours in all on a quiet 2-core machine, 1.5 hours with ``--autocode-databases
sqlite``.
Wall times depend on how busy the machine is: results.md records its load, and
the everyday commands and the peer's operations are timed only once the machine has
settled (`settle`: disk writes flushed, the cores idle), as autocode and qc's
install leave it busy for a while.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
QUALCODE = Path(sys.executable).parent / "qualcode"
CODEBOOK = REPO / "codebooks" / "hierarchy-markets-networks.yaml"
RESULTS = Path(__file__).resolve().parent / "results.md"
#: Targets of issue 14, in seconds.
EVERYDAY_TARGET = {1: 0.3, 10: 1.0}
#: Words of the sample spaCy's baseline parses (its words/s stands for the whole corpus).
BASELINE_WORDS = 60_000
REPEAT = 3
#: Lines of a listing's first page.
PAGE = 50
#: The long listings: timed whole and to their first screen (`PAGE` lines).
LISTINGS = ("codings", "query find", "query text")
#: What `--only` can pick; the import runs in any case (everything else needs the project).
SECTIONS = ("autocode", "everyday", "library", "check", "reports", "peer")


@dataclass
class Row:
    corpus: str
    database: str
    what: str
    value: str
    note: str = ""


@dataclass
class Run:
    rows: list[Row] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    peak_rss: float = 0.0

    def add(self, corpus: str, database: str, what: str, value: str, note: str = "") -> None:
        print(f"  {corpus:<9} {database:<10} {what:<44} {value:>14}  {note}", flush=True)
        self.rows.append(Row(corpus, database, what, value, note))


@dataclass
class Timed:
    wall: float
    rss_mb: float
    stdout: str
    cpu: float = 0.0


#: Runs a command as a child of a fresh small Python and writes its wall seconds, peak RSS (KiB) and CPU seconds
#: to the file named first. Linux counts a process's peak RSS from the memory of the process it was forked from,
#: so a command forked from this benchmark (libraries and spaCy loaded) would report at least this one's.
LAUNCHER = """
import os, sys, time
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as report:
    report.write(f"{time.perf_counter() - started} {usage.ru_maxrss} {usage.ru_utime + usage.ru_stime}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def command(args: list[str], cwd: Path | None = None, env: dict | None = None, check: bool = True) -> Timed:
    """Run a command: its wall seconds, its own peak RSS and its CPU seconds (see LAUNCHER)."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "usage"
        launched = [sys.executable, "-S", "-c", LAUNCHER, str(report), *map(str, args)]
        process = subprocess.run(launched, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True)
        wall, rss_kib, cpu = (float(x) for x in report.read_text().split()) if report.exists() else (0.0, 0.0, 0.0)
    if check and process.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, args))} failed ({process.returncode}):\n{process.stderr[-2000:]}")
    return Timed(wall, rss_kib / 1024, process.stdout, cpu)


def qualcode(*args: str, project: Path | None = None, check: bool = True) -> Timed:
    """The console script; `--project` goes after a command's own arguments (the root's `--help` takes none)."""
    where = ["--project", str(project)] if project and args != ("--help",) else []
    return command([str(QUALCODE), *args, *where], check=check)


def machine() -> list[str]:
    """The machine and its load, for the top of results.md."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import spacy

    from qualcode import __version__

    return [
        f"- machine: {cpu}, {os.cpu_count()} cores, {memory:.0f} GiB, {platform.system()} {platform.release()}",
        f"- load average at start: {', '.join(f'{x:.1f}' for x in os.getloadavg())}"
        " (other work on the same cores makes wall times longer)",
        f"- Python {platform.python_version()}, qualcode {__version__} ({installed_as()}), spaCy {spacy.__version__},"
        f" SQLite {__import__('sqlite3').sqlite_version}",
        f"- run {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
    ]


def installed_as() -> str:
    """How the console script's qualcode is installed: `make bench` installs a wheel, as a user would; an editable
    install starts every command through setuptools' import hook, some 25 ms on this machine."""
    found = subprocess.run([str(Path(sys.executable).parent / "python"), "-I", "-c",
                            "import importlib.metadata as m; print(m.distribution('qualcode').read_text('direct_url.json') or '')"],
                           capture_output=True, text=True).stdout
    return "an editable install: each command pays setuptools' import hook" if '"editable": true' in found else "installed as a wheel"


def settle(most: float = 90.0) -> float:
    """Wait until the machine is quiet, or `most` seconds: written data flushed to disk and, over one second, the
    cores at least 90% idle. Autocode leaves gigabytes of page cache to write back and busy cores behind it, which
    made the everyday commands timed right after it slower than the same commands a minute later. The seconds waited."""
    started = time.perf_counter()
    os.sync()
    while time.perf_counter() - started < most and _idle_share() < 0.9:
        pass
    return time.perf_counter() - started


def _idle_share(seconds: float = 1.0) -> float:
    """The share of the cores' time spent idle over the next `seconds` (/proc/stat; 1.0 where there is none)."""
    def sample() -> list[int]:
        stat = Path("/proc/stat")
        return [int(x) for x in stat.read_text().split("\n", 1)[0].split()[1:]] if stat.exists() else []

    before = sample()
    time.sleep(seconds)
    after = sample()
    if not before:
        return 1.0
    spent = [b - a for a, b in zip(before, after)]
    return spent[3] / max(sum(spent), 1)


def postgres_server() -> str | None:
    """The URL of the local test server, or None (with the reason printed) when none answers."""
    url = os.environ.get("QUALCODE_TEST_POSTGRES") or (
        (REPO / ".ci" / "postgres.url").read_text().strip() if (REPO / ".ci" / "postgres.url").exists() else None)
    if url is None:
        return None
    from sqlalchemy import create_engine, text

    try:
        with create_engine(url).connect() as connection:
            connection.execute(text("select 1"))
    except Exception as exc:  # any failure to connect means: no server for this run
        print(f"PostgreSQL at {url} does not answer: {exc.__class__.__name__}")
        return None
    return url


def new_database(server: str, name: str) -> str:
    from sqlalchemy import create_engine, text

    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server.rsplit("/", 1)[0] + "/" + name


def corpus_folder(folder: Path, scale: int) -> Path:
    """The bundled corpus at scale 1; `qualcode sample-corpus --scale N` above."""
    if scale == 1:
        return REPO / "transcripts"
    target = folder / f"corpus-{scale}"
    if not target.exists():
        qualcode("sample-corpus", str(target), "--scale", str(scale), "--seed", "0")
    return target


def measure(run: Run, folder: Path, scale: int, database: str, url: str | None, autocoding: bool,
            sections: set[str]) -> dict[str, float]:
    """The `sections` on one corpus and database (the import always); returns the seconds the peer comparison needs."""
    from benchmarks.check import write_report
    from benchmarks.queries import best_ms, queries
    from qualcode.privacy.anonymise import load_key
    from qualcode.coding.codebook import load_codebook_file
    from qualcode.exchange.coding_tables import import_codings
    from qualcode.analysis.overview import corpus_stats
    from qualcode.project import Project
    from qualcode.reports.render import render_demo_reports

    name = "bundled" if scale == 1 else f"scale {scale}"
    corpus = corpus_folder(folder, scale)
    root = folder / f"project-{scale}-{database}"
    qualcode("init", str(root), *(["--database", url] if url else []))
    served = start_worker(root) is not None  # as on a machine where qualcode was used in the last ten minutes
    imported = qualcode("import", str(corpus), project=root)
    usage = served_usage(root, "import") if served else None
    if usage is not None:
        imported.rss_mb, imported.cpu = usage
        whose = " (served by the worker: its child's CPU and peak)"
    else:
        whose = " (served by the worker, whose log did not say its child's CPU and peak: the client's)" if served else ""
    project = Project.open(root)
    words = corpus_stats(project)["words"]
    run.add(name, database, "import", f"{words / imported.wall:,.0f} words/s",
            f"{imported.wall:.1f} s, CPU {imported.cpu:.1f} s, {words:,} words, peak {imported.rss_mb:,.0f} MB" + whose)
    key = load_key(project)
    key.import_csv(corpus / "identity-key.csv")
    key.save()
    load_codebook_file(project, CODEBOOK, "bench")
    seconds = {"import": imported.wall}
    if autocoding and "autocode" in sections:
        seconds["autocode"] = autocode_rows(run, name, database, project, root, corpus, imported)
    else:
        run.add(name, database, "autocode", "not run", "left out of this run (--autocode-scales, --only)")
    import_codings(project, corpus / "gold-codings.csv", "research-team")
    if "everyday" in sections:
        seconds |= everyday(run, name, database, root, scale)
    if "library" in sections:
        for label, work in queries(project).items():
            run.add(name, database, f"library: {label}", f"{best_ms(work):,.0f} ms")
    if "check" in sections:
        report = folder / f"report-{scale}-{database}.md"
        write_report(project, corpus / "gold-codings.csv", report)
        checked = qualcode("check", str(report), project=root, check=False)
        run.add(name, database, "check a 200-quote report", f"{checked.wall:.2f} s",
                f"CPU {checked.cpu:.1f} s, peak {checked.rss_mb:,.0f} MB")
        run.peak_rss = max(run.peak_rss, checked.rss_mb)
    if "reports" in sections:
        started = time.perf_counter()
        written = render_demo_reports(project, folder / f"reports-{scale}-{database}")
        seconds["reports"] = time.perf_counter() - started
        run.add(name, database, f"all make demo reports ({len(written)} files)", f"{seconds['reports']:.1f} s",
                "in this process (its peak is the last line)")
    if "autocode" in seconds and "reports" in seconds:
        run.add(name, database, "end to end: import, autocode, all reports",
                f"{seconds['import'] + seconds['autocode'] + seconds['reports']:.0f} s", "target < 600 s at scale 10")
    project.close()
    run.peak_rss = max(run.peak_rss, imported.rss_mb)
    return seconds


def autocode_rows(run: Run, name: str, database: str, project, root: Path, corpus: Path, imported: Timed) -> float:
    """Autocode on a fresh parse cache, against spaCy's own speed, and its F1 against the gold coding."""
    coded = qualcode("autocode", project=root)
    parsed = _parsed_words(project)
    baseline = spacy_words_per_second(project)
    run.add(name, database, "autocode (fresh parse cache)", f"{parsed / coded.wall:,.0f} words/s",
            f"{coded.wall:.1f} s, CPU {coded.cpu:.1f} s, {parsed:,} words parsed, peak {coded.rss_mb:,.0f} MB;"
            f" spaCy nlp.pipe {baseline:,.0f} words/s: x{parsed / coded.wall / baseline:.2f}")
    evaluated = qualcode("evaluate", "--gold", str(corpus / "gold-codings.csv"), "--json", project=root)
    overall = json.loads(evaluated.stdout)["overall"]
    run.add(name, database, "autocode F1 against the gold coding", f"{overall['f1']:.3f}",
            f"precision {overall['precision']:.3f}, recall {overall['recall']:.3f}")
    run.add(name, database, "import + autocode", f"{imported.wall + coded.wall:.1f} s",
            "target < 60 s on the bundled corpus")
    run.peak_rss = max(run.peak_rss, coded.rss_mb)
    return coded.wall


def _parsed_words(project) -> int:
    from qualcode.suggestions.nlp import read_sources

    with project.session() as session:
        return sum(len(text.split()) for source in read_sources(session) for text in source.texts())


def spacy_words_per_second(project) -> float:
    """spaCy as shipped (all but NER, one process) on the first `BASELINE_WORDS` words autocode parses."""
    import importlib

    from qualcode.suggestions.nlp import BATCH_SIZE, PIPELINE, read_sources

    with project.session() as session:
        texts = [text for source in read_sources(session) for text in source.texts()]
    sample, words = [], 0
    for text in texts:
        if words >= BASELINE_WORDS:
            break
        sample.append(text)
        words += len(text.split())
    nlp = importlib.import_module(PIPELINE).load(exclude=["ner"])
    started = time.perf_counter()
    for _ in nlp.pipe(sample, batch_size=BATCH_SIZE):
        pass
    return words / (time.perf_counter() - started)


def everyday(run: Run, name: str, database: str, root: Path, scale: int) -> dict[str, float]:
    """The commands of a coding session, each the best of three wall times through the console script."""
    from qualcode.project import Project

    project = Project.open(root)
    with project.session() as session:
        from sqlalchemy import select

        from qualcode.models import Transcript

        ids = list(session.scalars(select(Transcript.id).order_by(Transcript.id)))
        transcript = next((t for t in ids if t.endswith("-S01-HT")), ids[0])
    project.close()
    code, coder = "markets", ("--coder", "bench")
    #: Changes, run in this order each round so each round starts from the same project.
    changes = {
        "code": ["code", transcript, "3", code, *coder],
        "uncode": ["uncode", transcript, "3", code, *coder],
        "memo": ["memo", "a benchmark memo", "--transcript", transcript, *coder],
        "undo": ["undo", *coder],
    }
    reads = {
        "show": ["show", transcript],
        "transcripts": ["transcripts"],
        "stats": ["stats"],
        "codings": ["codings"],
        "codebook show": ["codebook", "show"],
        "query matrix": ["query", "matrix", "--by", "locality"],
        "query cooccur": ["query", "cooccur"],
        "query find": ["query", "find", "hierarchy/accountability"],
        "query text": ["query", "text", "pecking order"],
        "query framework": ["query", "framework", "--by", "participant"],
        "--help": ["--help"],
    }
    timed: dict[str, list[Timed]] = {label: [] for label in [*changes, *reads]}
    served_by = start_worker(root)
    waited = settle()
    for _ in range(REPEAT):
        for label, args in changes.items():
            timed[label].append(qualcode(*args, project=root))
    for label, args in reads.items():
        timed[label] = [qualcode(*args, project=root) for _ in range(REPEAT)]
    # What issue 14 times for the long listings: their first screen, as `| head` shows it (the listing stops when
    # head has read); the whole listing's row says how long all of it takes.
    for label in LISTINGS:
        first_page = " ".join(f'"{arg}"' for arg in [QUALCODE, *reads[label], "--project", root]) + f" | head -n {PAGE}"
        timed[f"{label}, first {PAGE} lines"] = [command(["sh", "-c", first_page]) for _ in range(REPEAT)]
    times: dict[str, float] = {}
    target = EVERYDAY_TARGET.get(scale, 1.0)
    for label, runs in timed.items():
        fastest = min(runs, key=lambda run: run.wall)
        times[label] = fastest.wall
        verdict = "ok" if fastest.wall <= target else f"over the {target} s target"
        if label in LISTINGS:
            verdict = f"the whole listing, piped; the {target} s target is for its first screen (below)"
        run.add(name, database, f"qualcode {label}", f"{fastest.wall:.2f} s",
                f"{verdict}; CPU {fastest.cpu:.2f} s, peak {fastest.rss_mb:,.0f} MB"
                + ("" if served_by is None else " (client; served by the worker)"))
        run.peak_rss = max(run.peak_rss, *(r.rss_mb for r in runs))
    run.add(name, database, "waited for the machine to settle", f"{waited:.0f} s",
            "before the commands above: disk writes flushed, the cores 90% idle over a second (at most 90 s)")
    if served_by is not None:
        run.add(name, database, "the background worker's peak memory", f"{worker_peak_mb(served_by):,.0f} MB",
                "it serves the commands above, each in a child it forks")
    return times


def start_worker(root: Path) -> int | None:
    """Start the background worker (the first everyday command does) and wait until it serves: its process id."""
    qualcode("stats", project=root)
    for _ in range(120):
        if (found := installed_worker()) is not None:
            return found[0]
        time.sleep(0.5)
    print("  the background worker did not start: the everyday commands run in-process")
    return None


def installed_worker() -> tuple[int, str] | None:
    """The worker of the console script's qualcode: (its process id, its socket), or None. Asked of the installed
    qualcode (`-I`: not this checkout, which is first on this process's path), as the socket's name holds a hash of
    the installed code, which a wheel's copy does not share with the checkout's."""
    asked = subprocess.run([str(QUALCODE.parent / "python"), "-I", "-c",
                            "import json; from qualcode.cli import worker; print(json.dumps(worker.running()))"],
                           capture_output=True, text=True).stdout
    found = json.loads(asked or "null")
    return None if found is None else (found[0], found[1])


def served_usage(root: Path, label: str) -> tuple[float, float] | None:
    """The peak RSS (MB; pages shared with the worker included) and CPU seconds of the worker's child that last ran
    `label`, from the worker's log, where the worker notes them as it collects the child: when it forks the next
    command's child, so this runs `stats` (again, a few times, if the child had not exited yet by then). The note is
    looked for after the child's own line: process ids come round again (32,768 of them here), and an earlier child
    with the same id has its own note higher up."""
    found = installed_worker()
    if found is None:
        return None
    log = Path(found[1][: -len(".sock")] + ".log")
    for _ in range(5):
        qualcode("stats", project=root)
        text = log.read_text()
        children = list(re.finditer(rf"^(\d+): {re.escape(label)}$", text, re.MULTILINE))
        if not children:
            return None
        if done := re.search(rf"^done {children[-1][1]}: peak (\d+) MB, CPU ([\d.]+) s$", text[children[-1].end():],
                             re.MULTILINE):
            return float(done[1]), float(done[2])
    return None


def worker_peak_mb(pid: int) -> float:
    """The worker's peak RSS so far (its VmHWM: its own, as it started from a fresh interpreter)."""
    status = Path(f"/proc/{pid}/status")
    hwm = next((line.split()[1] for line in status.read_text().splitlines() if line.startswith("VmHWM:")), "0") \
        if status.exists() else "0"
    return int(hwm) / 1024


def write_results(run: Run, header: list[str], peer: list[str], path: Path, partial: bool = False) -> None:
    """The table so far; `partial` while the run goes on, so a run cut short still leaves what it measured."""
    lines = ["# Benchmark results", "", "Written by `make bench` (`benchmarks/run.py`); do not edit by hand.", "",
             *header, *(["- PARTIAL: the run had not finished when this was written"] if partial else []), ""]
    lines += [f"- skipped: {reason}" for reason in run.skipped]
    lines += ["", "| corpus | database | measure | value | notes |", "|---|---|---|---|---|"]
    lines += [f"| {r.corpus} | {r.database} | {r.what} | {r.value} | {r.note} |" for r in run.rows]
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines += ["", "A command's peak RSS and CPU seconds are its own (it runs as the child of a fresh small process)."
              " A command the background worker serves runs in a child of the worker: its figures are the client's"
              " (the import's are the worker's child's, from the worker's log); the worker's own peak is its row.",
              "", f"Peak memory (RSS): {max(run.peak_rss, own):,.0f} MB"
              f" (largest command {run.peak_rss:,.0f} MB; this process, with the library steps, {own:,.0f} MB).", ""]
    lines += peer
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="The bundled corpus on SQLite only, no peer.")
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10], help="1 is the bundled corpus.")
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    parser.add_argument("--autocode-scales", type=int, nargs="+", help="Autocode only at these scales (default: all).")
    parser.add_argument("--autocode-databases", nargs="+", choices=["sqlite", "postgresql"],
                        help="Autocode only on these databases (default: all).")
    parser.add_argument("--peer-venv", type=Path, help="Reuse this venv if qc is installed in it (else a new one).")
    parser.add_argument("--no-peer", action="store_true", help="Leave out qc.")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS),
                        help="Measure only these (each corpus is imported in any case).")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--dry-run", action="store_true", help="Check the set-up, print the plan, run nothing.")
    args = parser.parse_args()
    scales, databases = ([1], ["sqlite"]) if args.quick else (args.scales, args.databases)
    sections = set(args.only)
    peer_wanted = not (args.quick or args.no_peer) and 1 in scales and "sqlite" in databases and "peer" in sections
    if not QUALCODE.exists():
        raise SystemExit(f"no console script at {QUALCODE}: run 'make install' first")
    server = postgres_server() if "postgresql" in databases else None
    plan = [(s, d) for s in scales for d in databases]
    print(f"plan: {', '.join(f'scale {s} on {d}' for s, d in plan)}; {', '.join(sorted(sections - {'peer'})) or 'the import only'};"
          f" peer qc: {'yes' if peer_wanted else 'no'}")
    if args.dry_run:
        return
    header, run = machine(), Run()
    header[1:1] = [f"- run with: `{' '.join(['benchmarks/run.py', *sys.argv[1:]])}`"]
    print("\n".join(header))
    peer_lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="qualcode-bench-") as tmp:
        folder = Path(tmp)
        for scale, database in plan:
            if database == "postgresql" and server is None:
                run.skipped.append(f"scale {scale} on PostgreSQL: no server answers"
                                   " (start one with 'bash .ci/postgres.sh')")
                print(f"skipped: {run.skipped[-1]}")
                continue
            url = new_database(server, f"qualcode_bench_{scale}") if database == "postgresql" else None
            autocoding = (args.autocode_scales is None or scale in args.autocode_scales) and (
                args.autocode_databases is None or database in args.autocode_databases)
            seconds = measure(run, folder, scale, database, url, autocoding, sections)
            if peer_wanted and scale == 1 and database == "sqlite":
                from benchmarks.peer import compare

                peer_lines = compare(folder / "peer", folder / "project-1-sqlite", seconds, args.peer_venv)
            shutil.rmtree(folder / f"reports-{scale}-{database}", ignore_errors=True)
            write_results(run, header, peer_lines, args.output, partial=True)
    write_results(run, header, peer_lines, args.output)
    print(f"\nwrote {args.output}")
    if peer_lines:
        print("\n".join(peer_lines))


if __name__ == "__main__":
    main()
