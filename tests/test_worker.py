"""The background worker and the pager, end to end: the installed `qualcode` script, a real worker on a
private socket, a real pseudo-terminal.

Every everyday command must print the same with the worker as without it; a worker
for other code must never be used; its socket must be the user's alone; piped
output must be plain rows; and on a terminal the long listings go through the pager.
"""

from __future__ import annotations

import os
import re
import signal
import stat
import time
from pathlib import Path

import pytest

from qualcode.cli import worker
from tests.conftest import QUALCODE, run_script
from tests.coded_fixture import make_coded_project

#: Everyday commands, each as (arguments, arguments that put the project back as it was).
EVERYDAY = [
    (["code", "EAS-S01-HT", "8", "networks"], ["undo"]),
    (["memo", "a note", "--transcript", "EAS-S01-HT"], ["undo"]),
    (["show", "EAS-S02-HT"], None),
    (["show", "EAS-S02-HT", "--jsonl"], None),
    (["transcripts"], None),
    (["stats"], None),
    (["codings"], None),
    (["codings", "--jsonl"], None),
    (["codebook", "show"], None),
    (["query", "matrix"], None),
    (["query", "cooccur"], None),
    (["query", "find", "markets"], None),
    (["query", "text", "pupil*"], None),
    (["query", "framework", "--by", "participant"], None),
    (["show", "NOPE-01"], None),  # an error prints the same too
    (["import", "extra"], ["undo"]),
    (["import", "corpus", "--dry-run"], None),
    (["--help"], None),
    (["query", "find", "--help"], None),
]


@pytest.fixture(scope="module")
def study(tmp_path_factory, request) -> Path:
    from tests.conftest import FIXTURES

    root = tmp_path_factory.mktemp("worker")
    import shutil

    shutil.copytree(FIXTURES / "corpus", root / "corpus")
    (root / "extra").mkdir()  # an interview the coded project does not hold yet
    text = (FIXTURES / "corpus" / "national" / "NAT-I01.md").read_text(encoding="utf-8")
    (root / "extra" / "NAT-I09.md").write_text(text.replace("id: NAT-I01", "id: NAT-I09"), encoding="utf-8")
    make_coded_project(root / "coded", root / "corpus").close()
    return root


@pytest.fixture(scope="module")
def runtime(study: Path):
    """A private runtime folder for this module's workers; they are stopped at the end."""
    folder = study / "run"
    folder.mkdir(mode=0o700)
    yield folder
    for log in folder.glob("*/*.log"):
        for pid in re.findall(r"^worker (\d+) serving$", log.read_text(), re.MULTILINE):
            try:
                os.kill(int(pid), signal.SIGTERM)
            except ProcessLookupError:
                pass


def qualcode(study: Path, runtime: Path, *args: str, use_worker: bool = True):
    env = {"XDG_RUNTIME_DIR": str(runtime), "QUALCODE_WORKER": "1" if use_worker else "0", "QUALCODE_CODER": "ann",
           "QUALCODE_WORKER_IDLE": "120"}
    return run_script(QUALCODE, *args, "--project", str(study / "coded"), cwd=study, env=env)


def socket_for(runtime: Path) -> Path:
    """The socket the installed code's worker listens on, with this runtime folder."""
    saved = os.environ.get("XDG_RUNTIME_DIR")
    os.environ["XDG_RUNTIME_DIR"] = str(runtime)
    try:
        return Path(worker.socket_path())
    finally:
        if saved is None:
            del os.environ["XDG_RUNTIME_DIR"]
        else:
            os.environ["XDG_RUNTIME_DIR"] = saved


def workers_for(path: Path) -> list[int]:
    """The worker processes started for `path`: serving, or still loading (a start an earlier test set off)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"qualcode.cli.worker" in args and str(path).encode() in args:
            found.append(int(cmdline.parent.name))
    return found


def started(study: Path, runtime: Path) -> Path:
    """Run a command (it starts the worker) and wait for the worker's socket, and for it to be the only worker.

    A worker still loading from an earlier command would otherwise bind the socket again after a `stop`."""
    qualcode(study, runtime, "stats")
    path = socket_for(runtime)
    for _ in range(600):
        if path.exists() and len(workers_for(path)) == 1:
            return path
        time.sleep(0.1)
    raise AssertionError(f"no single worker at {path} ({workers_for(path)}); log: {path.with_suffix('.log').read_text()}")


def served(path: Path) -> list[str]:
    """The commands the worker's children ran, from its log."""
    return re.findall(r"^\d+: (.*)$", path.with_suffix(".log").read_text(), re.MULTILINE)


def test_every_everyday_command_prints_the_same_with_and_without_the_worker(study, runtime) -> None:
    path = started(study, runtime)
    before = len(served(path))
    for args, restore in EVERYDAY:
        outputs = []
        for use_worker in (True, False):
            result = qualcode(study, runtime, *args, use_worker=use_worker)
            outputs.append((result.returncode, result.stdout, re.sub(r"\d\d:\d\d\)", "", result.stderr)))
            if restore:
                assert qualcode(study, runtime, *restore, use_worker=use_worker).returncode == 0
        assert outputs[0] == outputs[1], args
        assert outputs[0][1] or outputs[0][2], args
    # The worker ran each of them (and the undos), not the command line in-process.
    assert len(served(path)) - before == len(EVERYDAY) + sum(1 for _, restore in EVERYDAY if restore)
    # Each child's own peak memory and CPU are logged as it is collected (make bench reads them for the import).
    assert re.search(r"^done \d+: peak \d+ MB, CPU \d+\.\d\d s$", path.with_suffix(".log").read_text(), re.MULTILINE)


def test_a_worker_for_other_code_is_never_used(study, runtime) -> None:
    path = started(study, runtime)
    count = len(served(path))
    module = Path(worker.__file__)
    saved = module.stat()
    try:
        # An upgrade, as the command line sees it: one of qualcode's files is not what it was.
        os.utime(module, ns=(saved.st_atime_ns, saved.st_mtime_ns + 1_000_000_000))
        assert socket_for(runtime) != path
        result = qualcode(study, runtime, "stats", "--json")
        assert result.returncode == 0 and '"transcripts": 4' in result.stdout
        assert len(served(path)) == count  # the old worker did not run it
    finally:
        os.utime(module, ns=(saved.st_atime_ns, saved.st_mtime_ns))
    assert socket_for(runtime) == path


def test_the_socket_is_the_users_alone(study, runtime, tmp_path, monkeypatch) -> None:
    path = started(study, runtime)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_ISSOCK(path.stat().st_mode)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700 and path.parent.stat().st_uid == os.getuid()
    # A folder others can enter is not trusted: no worker, the command runs in-process.
    shared = tmp_path / "shared"
    (shared / f"qualcode-{os.getuid()}").mkdir(parents=True, mode=0o755)
    os.chmod(shared / f"qualcode-{os.getuid()}", 0o755)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(shared))
    assert worker.socket_path() is None
    result = qualcode(study, shared, "stats", "--json")
    assert result.returncode == 0 and not list(shared.glob("*/*.sock"))


def test_piped_listings_are_plain_rows(study, runtime) -> None:
    result = qualcode(study, runtime, "codings", use_worker=False)
    lines = result.stdout.splitlines()
    assert lines[0].split("\t") == ["id", "transcript", "lines", "code", "coder", "origin", "text"]
    assert len(lines) == 10 and all(len(line.split("\t")) == 7 for line in lines)
    assert not set("│┃━─") & set(result.stdout) and "9 codings" in result.stderr
    import json

    jsonl = qualcode(study, runtime, "query", "find", "markets", "--jsonl", use_worker=False).stdout.splitlines()
    whole = json.loads(qualcode(study, runtime, "query", "find", "markets", "--json", use_worker=False).stdout)
    assert [json.loads(line) for line in jsonl] == whole and len(whole) == 4


def in_terminal(study: Path, runtime: Path, args: list[str], pager: str, use_worker: bool) -> str:
    """What `qualcode ARGS` shows on a terminal (a pseudo-terminal 100 columns wide)."""
    import pty
    import select

    env = {k: v for k, v in os.environ.items() if not k.startswith("QUALCODE_")}
    env.update({"XDG_RUNTIME_DIR": str(runtime), "QUALCODE_WORKER": "1" if use_worker else "0", "QUALCODE_PAGER": pager,
                "COLUMNS": "100", "LINES": "40", "TERM": "xterm"})
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(study)
        os.execve(str(QUALCODE), [str(QUALCODE), *args, "--project", str(study / "coded")], env)
    output = b""
    while True:
        ready, _, _ = select.select([fd], [], [], 60)
        try:
            data = os.read(fd, 65536) if ready else b""
        except OSError:
            data = b""
        if not data:
            break
        output += data
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, output
    return output.decode()


@pytest.mark.parametrize("use_worker", [False, True])
def test_long_listings_go_through_the_pager_on_a_terminal(study, runtime, tmp_path, use_worker) -> None:
    if use_worker:
        started(study, runtime)
    paged = tmp_path / "paged.txt"
    shown = in_terminal(study, runtime, ["codings"], f"cat > {paged}", use_worker)
    assert "EAS-S02-HT" not in shown and "9 codings" not in shown
    text = paged.read_text()
    # The pager gets what the terminal would: the table as drawn for 100 columns, in colour.
    assert "9 codings" in text and "─" * 20 in text and "\x1b[" in text
    assert max(len(re.sub(r"\x1b\[[0-9;]*m", "", line)) for line in text.splitlines()) <= 100
    straight = in_terminal(study, runtime, ["codings", "--no-pager"], f"cat > {tmp_path / 'unused.txt'}", use_worker)
    assert "EAS-S02-HT" in straight and not (tmp_path / "unused.txt").exists()


def worker_command(study: Path, runtime: Path, action: str):
    return run_script(QUALCODE, "worker", action, cwd=study, env={"XDG_RUNTIME_DIR": str(runtime)})


def test_worker_status_and_stop(study, runtime) -> None:
    path = started(study, runtime)
    pid = int(re.findall(r"^worker (\d+) serving$", path.with_suffix(".log").read_text(), re.MULTILINE)[-1])
    status = worker_command(study, runtime, "status")
    assert status.returncode == 0 and f"worker {pid} serves" in status.stdout and str(path) in status.stdout
    stopped = worker_command(study, runtime, "stop")
    assert stopped.returncode == 0 and f"stopped worker {pid}" in stopped.stderr
    assert not path.exists()
    for _ in range(100):  # the process has gone (reaped by init, as it was started detached)
        if not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]:
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f"worker {pid} still runs")
    for action in ("status", "stop"):
        result = worker_command(study, runtime, action)
        assert result.returncode == 0 and "no worker runs" in result.stdout + result.stderr
    # With none running, an everyday command still answers (in-process) and starts the next worker.
    assert qualcode(study, runtime, "stats", "--json").returncode == 0


def test_what_the_worker_preloads_exists() -> None:
    """A module renamed or moved must not make the worker fail to start (every command would then run in-process)."""
    import importlib

    for name in worker.PRELOADED:
        assert importlib.import_module(name).__name__ == name


def test_a_childs_usage_is_logged_in_one_write(monkeypatch) -> None:
    """The worker's note of a finished child is one write, so a child writing its own line to the same log at that
    moment cannot split it (make bench reads the import's figures from it), even with PYTHONUNBUFFERED's stdout."""
    import io
    import socket

    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)  # exited, not yet collected: as the worker finds it
    log, reader = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)  # one datagram per write
    with log, reader:
        monkeypatch.setattr("sys.stdout", io.TextIOWrapper(io.FileIO(log.fileno(), "w", closefd=False), write_through=True))
        children = {pid}
        worker._reap(children)
        assert not children
        assert re.fullmatch(rf"done {pid}: peak \d+ MB, CPU \d+\.\d\d s\n", reader.recv(4096).decode())
