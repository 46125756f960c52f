"""The background worker: everyday commands answer without paying Python's imports each time.

A `qualcode` run spends most of its time importing typer, SQLAlchemy, pandas and
rich, not working. The worker, one per user and per installed version, imports
them once and then serves commands as a fork server: for each command it forks a
child that takes over the caller's own stdin, stdout and stderr (passed over the
socket), its working directory and environment, and runs the ordinary command
line in-process. The output is therefore the in-process output byte for byte:
the child writes to the caller's terminal or pipe itself, and every command runs
in a fresh process, so nothing carries over from one to the next.

It is never required: the first command starts it in the background and runs
in-process; `QUALCODE_WORKER=0` turns it off; anything wrong with it (no socket,
a refused connection, a platform without Unix sockets) means the command runs
in-process. Its socket sits in a folder only the user can open (mode 0700), the
socket itself is 0600, and the worker serves only its own user (SO_PEERCRED).
The socket's name carries a hash of the installed code (qualcode's files, the
interpreter, the installed packages), so after an upgrade the command line looks
for a new worker and never reaches the old one, which notices and stops. A worker
stops after `QUALCODE_WORKER_IDLE` seconds (default 600) without a command.

This module is imported by every `qualcode` run, so the client side imports only
the standard library's light modules.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys

#: Top-level commands the worker serves: the everyday loop of coding and looking, and adding transcripts.
SERVED = frozenset({"code", "uncode", "memo", "memos", "undo", "history", "show", "transcripts", "stats", "codings",
                    "codebook", "query", "import"})
#: Options that hand the terminal to another program (an editor): those runs stay in-process.
INTERACTIVE = frozenset({"--edit"})
IDLE = 600.0


# The client: in every `qualcode` run.


def run_in_worker(argv: list[str]) -> int | None:
    """Run `qualcode ARGV` in the worker and return its exit code, or None to run it in-process."""
    if not _wanted(argv):
        return None
    path = socket_path()
    if path is None:
        return None
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        client.connect(path)
    except OSError:
        client.close()
        _start(path)
        return None
    with client:
        return _converse(client, argv)


def _wanted(argv: list[str]) -> bool:
    if os.environ.get("QUALCODE_WORKER", "1") == "0" or not hasattr(socket, "AF_UNIX") or not hasattr(os, "fork"):
        return False
    command = next((arg for arg in argv if not arg.startswith("-")), None)
    # `qualcode --help` too: drawing the help is the slowest thing a run without a command does.
    wanted = command in SERVED or argv[:1] == ["--help"]
    return wanted and not INTERACTIVE & set(argv)


def _converse(client: socket.socket, argv: list[str]) -> int | None:
    """Send the command with our stdio; start a pager when the child asks; return the child's exit code."""
    request = {"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ), "encodings": _encodings()}
    try:
        socket.send_fds(client, [json.dumps(request).encode() + b"\n"], [0, 1, 2])
    except OSError:
        return None
    replies = client.makefile("rb")
    state: dict = {"child": None, "pager": None}
    try:
        return _follow(client, replies, state)
    except KeyboardInterrupt:
        if state["child"] is None:
            raise
        # Ctrl-C reached us, the terminal's foreground process: pass it on, as if the child had it.
        import signal

        os.kill(state["child"], signal.SIGINT)
        return _follow(client, replies, state)


def _follow(client: socket.socket, replies, state: dict) -> int | None:
    """Act on the child's messages until its exit code (None: it could not start; run in-process)."""
    for line in replies:
        reply = json.loads(line)
        if "pid" in reply:
            state["child"] = reply["pid"]
        elif "pager" in reply:
            state["pager"] = _start_pager_for(client, reply["pager"])
        elif "exit" in reply:
            if state["pager"] is not None:
                state["pager"].wait()
            return reply["exit"]
    return None if state["child"] is None else 1


def _start_pager_for(client: socket.socket, command: str):
    """Start the pager here, in the terminal's process group, and hand the child the pipe into it."""
    from qualcode.cli.pager import start_pager

    process = start_pager(command)
    socket.send_fds(client, [b"p"], [process.stdin.fileno()])
    process.stdin.close()
    return process


def _encodings() -> list[list[str]]:
    return [[stream.encoding, stream.errors] if stream else ["utf-8", "strict"]
            for stream in (sys.stdin, sys.stdout, sys.stderr)]


def socket_path() -> str | None:
    """The socket of the worker for the installed code, in a folder only this user can open; None if there is none safe."""
    folder = _private_folder()
    path = None if folder is None else os.path.join(folder, f"worker-{code_hash()}.sock")
    return path if path is not None and len(path) < 100 else None  # a socket's name holds some 100 bytes


def _private_folder() -> str | None:
    base = os.environ.get("XDG_RUNTIME_DIR") or os.environ.get("TMPDIR") or "/tmp"
    folder = os.path.join(base, f"qualcode-{os.getuid()}")
    try:
        os.mkdir(folder, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return None
    info = os.lstat(folder)
    import stat

    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        return None  # someone else's folder, or one others can enter: not ours to trust
    return folder


def code_hash() -> str:
    """A hash of what a run would import: qualcode's own modules, the interpreter and the installed packages.

    File sizes and modification times stand in for contents: an upgrade or an edit changes them."""
    import hashlib
    import site

    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    digest = hashlib.sha256(f"{os.path.realpath(sys.executable)}\n{sys.prefix}\n{sys.version}\n".encode())
    for folder in site.getsitepackages():
        if os.path.isdir(folder):
            digest.update(f"{folder} {os.stat(folder).st_mtime_ns}\n".encode())
    for root, dirs, files in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                info = os.stat(os.path.join(root, name))
                digest.update(f"{root}/{name} {info.st_size} {info.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def running() -> tuple[int, str] | None:
    """The worker for the installed code, as (its process id, 0 if the system does not say; its socket), or None."""
    path = socket_path()
    if path is None:
        return None
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)  # it answers with a child that sees no command and exits
        uid, pid = _peer(probe)
    except OSError:
        return None
    finally:
        probe.close()
    return (pid, path) if uid == os.getuid() else None


def stop(wait: float = 10.0) -> int | None:
    """Stop the worker for the installed code, as its idle timeout would; its process id, or None if none ran."""
    import signal
    import time

    found = running()
    if found is None:
        return None
    pid, path = found
    if not pid:
        from qualcode.errors import QualcodeError

        raise QualcodeError(f"this system does not say which process serves {path}; it stops by itself after "
                            f"{idle_timeout():.0f} s without a command")
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return None
    deadline = time.monotonic() + wait
    # It removes its socket as it leaves. Its process is asked, not its socket: a connect makes it fork a child.
    while os.path.exists(path) and _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if os.path.exists(path) and _left_behind(path):  # a socket file it did not remove is in the next one's way
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
    return pid


def _alive(pid: int) -> bool:
    """Whether our process `pid` still runs, or is yet to be reaped (signal 0 checks without sending anything)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _start(path: str) -> None:
    """Start a worker for `path` in the background, detached from this terminal; it serves from the next command on."""
    import subprocess

    log = path[: -len(".sock")] + ".log"
    with open(log, "ab") as output:
        # From `/`: the worker must not import modules from whatever folder the user is in.
        subprocess.Popen([sys.executable, "-P", "-m", "qualcode.cli.worker", path], cwd="/", stdin=subprocess.DEVNULL,
                         stdout=output, stderr=output, start_new_session=True)


# The worker.


def serve(path: str) -> None:
    """Import everything the served commands use, listen on `path`, and fork a child per command until idle."""
    started = code_hash()
    _preload()
    if code_hash() != started or socket_path() != path:
        return  # the code changed while it loaded, or a stale start: the next command starts a current worker
    os.umask(0o077)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if _left_behind(path):
        os.unlink(path)
    try:
        listener.bind(path)
    except OSError:
        return  # another worker was quicker
    os.chmod(path, 0o600)
    inode = os.stat(path).st_ino
    stopping = _on_sigterm()
    print(f"worker {os.getpid()} serving", flush=True)
    listener.listen(16)
    listener.settimeout(min(idle_timeout(), 30.0))
    children: set[int] = set()
    idle_since = _now()
    try:
        while True:
            _reap(children)
            if stopping:
                return
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                if children:
                    idle_since = _now()
                elif _now() - idle_since > idle_timeout() or code_hash() != started or not _still_ours(path, inode):
                    return
                continue
            idle_since = _now()
            if _peer(connection)[0] != os.getuid():
                connection.close()
                continue
            pid = os.fork()
            if pid == 0:
                listener.close()
                _child(connection)
            children.add(pid)
            connection.close()
    finally:
        if _still_ours(path, inode):
            os.unlink(path)
        listener.close()


def _on_sigterm() -> list[bool]:
    """Stop as when idle on SIGTERM (`qualcode worker stop`): set the flag it returns and leave the loop.

    The handler raises SystemExit, which wakes accept() (shutting an AF_UNIX listener down does not); but a signal
    that lands inside os.fork()'s at-fork hooks has its exception swallowed there, so the loop checks the flag too.
    A forked child that gets it before it resets SIGTERM just dies."""
    import signal

    server, stopping = os.getpid(), []

    def stop(*_) -> None:
        if os.getpid() != server:
            os._exit(128 + signal.SIGTERM)
        stopping.append(True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    return stopping


#: What the served commands import, loaded once by the worker so each child starts with it (a module a command
#: imports itself costs that command its import time on every run: psycopg alone 0.2 s; yaml, which every import
#: reads front matter with, 17 ms; getpass, for the default coder of every change, termios with it).
PRELOADED = (
    "getpass", "yaml", "sqlite3", "pandas", "pandas.core.reshape.reshape", "rich._emoji_codes", "rich.console", "rich.table",
    "typer.rich_utils", "sqlalchemy.dialects.sqlite", "qualcode.project", "qualcode.analysis.framework",
    "qualcode.analysis.overview", "qualcode.analysis.pooling", "qualcode.analysis.query",
    "qualcode.analysis.query_cooccur", "qualcode.analysis.query_text", "qualcode.analysis.query_where",
    "qualcode.coding.codebook", "qualcode.coding.manual", "qualcode.coding.memos", "qualcode.ingest.corpus",
    "qualcode.ingest.turns", "qualcode.privacy.anonymise", "qualcode.privacy.pseudonyms",
)


def _preload() -> None:
    """Import `PRELOADED` and the command line, configure SQLAlchemy's mappers once, and freeze what is loaded."""
    import gc
    from importlib import import_module

    from sqlalchemy.orm import configure_mappers

    from qualcode.cli.root import click_command

    for name in PRELOADED:
        import_module(name)
    with contextlib.suppress(ImportError):  # a team's PostgreSQL driver, when installed (qualcode[postgres])
        from sqlalchemy.dialects.postgresql import psycopg

        psycopg.dialect.import_dbapi()
    click_command()
    configure_mappers()
    # What is loaded now stays: the children's garbage collections need not walk it (nor copy it by touching it).
    gc.collect()
    gc.freeze()


def _child(connection: socket.socket) -> None:
    """Run one command with the caller's stdio, folder and environment, report its exit code, and exit.

    Until the command starts, any trouble answers None: the caller then runs it in-process."""
    code, log = None, 1
    try:
        message, fds, _, _ = socket.recv_fds(connection, 1 << 20, 3)
        if not message:
            os._exit(0)  # a new worker checking whether this one still answers
        while not message.endswith(b"\n"):
            more = connection.recv(1 << 20)
            if not more:
                os._exit(1)
            message += more
        request = json.loads(message)
        # The log (our stdout until we take the caller's): which command, never its arguments (they hold memos).
        log = os.dup(1)
        os.write(log, f"{os.getpid()}: {' '.join(a for a in request['argv'] if a in SERVED or a == '--help')}\n".encode())
        _adopt(request, fds)
        from qualcode.cli import pager

        pager.launcher = lambda command: _ask_for_pager(connection, command)
        connection.sendall(json.dumps({"pid": os.getpid()}).encode() + b"\n")
        code = _run(request["argv"])
    except Exception:
        import traceback

        os.write(log, traceback.format_exc().encode())
    finally:
        try:
            connection.sendall(json.dumps({"exit": code}).encode() + b"\n")
        finally:
            os._exit(0)


def _adopt(request: dict, fds: list[int]) -> None:
    """Become the caller: its stdin/stdout/stderr, working folder and environment."""
    import signal

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for fd, target in zip(fds, (0, 1, 2)):
        os.dup2(fd, target)
        os.close(fd)
    (stdin_enc, stdin_err), (out_enc, out_err), (err_enc, err_err) = request["encodings"]
    sys.stdin = sys.__stdin__ = open(0, encoding=stdin_enc, errors=stdin_err, closefd=False)
    # Line-buffered where Python's own are: stdout on a terminal, stderr always.
    sys.stdout = sys.__stdout__ = open(1, "w", 1 if os.isatty(1) else -1, out_enc, out_err, closefd=False)
    sys.stderr = sys.__stderr__ = open(2, "w", 1, err_enc, err_err, closefd=False)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])


def _run(argv: list[str]) -> int:
    """The in-process command line, as `qualcode ARGV` runs it; its exit code."""
    from qualcode.cli.root import run

    sys.argv = ["qualcode", *argv]
    try:
        run()
        code = 0
    except SystemExit as exit:
        code = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
        if isinstance(exit.code, str):
            print(exit.code, file=sys.stderr)
    except KeyboardInterrupt:
        code = 130
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        pass
    return code


def _ask_for_pager(connection: socket.socket, command: str) -> int:
    """The caller starts the pager (it owns the terminal); return the pipe into it it sends back."""
    connection.sendall(json.dumps({"pager": command}).encode() + b"\n")
    _, fds, _, _ = socket.recv_fds(connection, 1, 1)
    return fds[0]


def _peer(connection: socket.socket) -> tuple[int, int]:
    """The user and the process at the other end of the socket (Linux); where the system does not say, ours and 0:
    the folder's 0700 mode is the guard."""
    if not hasattr(socket, "SO_PEERCRED"):
        return os.getuid(), 0
    import struct

    credentials = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, uid, _ = struct.unpack("3i", credentials)
    return uid, pid


def _left_behind(path: str) -> bool:
    """A socket file no worker answers on (its worker was killed): in the way of a new one."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    finally:
        probe.close()
    return False


def _still_ours(path: str, inode: int) -> bool:
    """The socket file is still the one this worker bound (not removed, not replaced by another worker's)."""
    try:
        return os.stat(path).st_ino == inode
    except OSError:
        return False


def _reap(children: set[int]) -> None:
    """Collect the children that have finished, logging what each used (its peak counts pages shared with us).

    Each line in one write, as the children write theirs to the same log: `print` writes the text and its newline
    apart when stdout is unbuffered (PYTHONUNBUFFERED), and a child's line could land between them."""
    for pid in list(children):
        done, _, usage = os.wait4(pid, os.WNOHANG)
        if done:
            children.discard(pid)
            line = f"done {pid}: peak {usage.ru_maxrss / 1024:.0f} MB, CPU {usage.ru_utime + usage.ru_stime:.2f} s\n"
            os.write(sys.stdout.fileno(), line.encode())


def idle_timeout() -> float:
    return float(os.environ.get("QUALCODE_WORKER_IDLE", IDLE))


def _now() -> float:
    import time

    return time.monotonic()


if __name__ == "__main__":
    with contextlib.suppress(SystemExit):
        serve(sys.argv[1])
    # Leave without tearing down all `_preload` loaded (seconds, for a frozen heap): nothing is left to write.
    sys.stdout.flush()
    os._exit(0)
