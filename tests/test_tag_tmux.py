"""`qualcode tag` once end to end, in a real terminal: the installed script inside tmux.

Keys go in with `tmux send-keys`, the screen comes back with `capture-pane`,
and every wait is a poll with a deadline. The pane runs the script from a
shell that reports its exit status and then waits, so a crash stays on screen
for the failure message.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from qualcode.coding.codebook import find_code, load_codebook_file
from qualcode.ingest.corpus import import_paths
from qualcode.models import Coding, Turn
from qualcode.project import Project
from qualcode.coding.tagging import load_position

TMUX = "/usr/bin/tmux"
QUALCODE = Path(sys.executable).parent / "qualcode"
CODEBOOK = Path(__file__).resolve().parents[1] / "codebooks" / "hierarchy-markets-networks.yaml"

pytestmark = pytest.mark.skipif(not Path(TMUX).exists(), reason=f"tmux is not installed at {TMUX}")


class Terminal:
    """A detached tmux server of our own (its own socket), 120x40, with one session at a time."""

    def __init__(self, socket: str):
        self.socket = socket
        self.runs = 0
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("QUALCODE_")}
        self.env["TERM"] = "xterm-256color"

    def tmux(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([TMUX, "-L", self.socket, *args], env=self.env, capture_output=True, text=True, timeout=30)

    def start(self, *command: str) -> None:
        """Run `command` in the pane: a new session the first time, then in place of what ran before.

        Replacing the pane's process (rather than killing the session) keeps
        the server alive: a server whose last session is killed exits, and a
        new session started at that moment can fail.
        """
        self.runs += 1
        shell = f"{shlex.join(command)}; echo \"run {self.runs} exited with $?\"; read _"
        if self.runs == 1:
            started = self.tmux("new-session", "-d", "-s", "tag", "-x", "120", "-y", "40", shell)
        else:
            started = self.tmux("respawn-pane", "-k", "-t", "tag", shell)
        assert started.returncode == 0, started.stderr

    def wait_for_exit(self) -> None:
        self.wait_for(f"run {self.runs} exited with 0")

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "tag").stdout

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "tag", *keys)

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-t", "tag", "-l", text)

    def wait_for(self, *texts: str, timeout: float = 60) -> str:
        def showing() -> str | None:
            shown = self.screen()
            return shown if all(text in shown for text in texts) else None

        return wait_until(showing, f"{texts} on screen", timeout, self.screen)

    def kill(self) -> None:
        self.tmux("kill-server")


def wait_until(check: Callable[[], object], what: str, timeout: float, show: Callable[[], str] | None = None):
    """Poll `check` until it gives something true; fail with what was on screen when the deadline passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n" + (show() if show else ""))


def coded(project: Project, origin: str, code: str) -> bool:
    with project.session() as session:
        found = session.scalars(select(Coding).where(Coding.origin == origin, Coding.coder == "x"))
        return any(c.code.name == code for c in found)


@pytest.fixture
def study(project: Project, corpus: Path) -> Project:
    """The fixture corpus and codebook, with one suggestion on turn 2 of EAS-S01-HT."""
    import_paths(project, [corpus])
    load_codebook_file(project, CODEBOOK, "setup")
    with project.session() as session:
        turn = session.scalar(select(Turn).where(Turn.transcript_id == "EAS-S01-HT", Turn.number == 2))
        words = "they came in last March"
        start = turn.transcript.text.index(words, turn.start)
        session.add(Coding(transcript_id="EAS-S01-HT", start=start, end=start + len(words), coder="autocode",
                           origin="suggested", code=find_code(session, "inspection"), score=0.9, quote=words))
    return project


def test_tag_in_a_real_terminal_saves_as_it_goes_and_resumes(study):
    assert QUALCODE.exists(), f"the qualcode script is not installed at {QUALCODE}"
    terminal = Terminal(f"qualcode-test-{os.getpid()}")
    command = (str(QUALCODE), "tag", "EAS-S01-HT", "--coder", "x", "--project", str(study.root))
    try:
        terminal.start(*command)
        terminal.wait_for("Turn 2 · 1 of 2", "two-form entry primary", "▶ hierarchy/accountability/inspection")

        terminal.keys("a")
        wait_until(lambda: coded(study, "accepted", "inspection"), "the accepted suggestion", 30, terminal.screen)

        terminal.keys("c")
        terminal.wait_for("Tab completes")
        terminal.type("pupils")
        terminal.wait_for("markets/competition/pupils")
        terminal.keys("Enter")
        wait_until(lambda: coded(study, "manual", "pupils"), "the applied code", 30, terminal.screen)
        terminal.wait_for("coded lines 3-4 with markets/competition/pupils")

        terminal.keys("n")
        terminal.wait_for("Turn 4 · 2 of 2", "The alliance matters")
        terminal.keys("q")
        terminal.wait_for_exit()
        assert load_position(study, "x", "EAS-S01-HT") == 4

        terminal.start(*command)
        terminal.wait_for("Turn 4 · 2 of 2", "The alliance matters")
        terminal.keys("q")
        terminal.wait_for_exit()
    finally:
        terminal.kill()
