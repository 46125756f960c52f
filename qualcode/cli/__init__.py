"""The `qualcode` command line. Every run starts here, so this imports nothing heavy:
the everyday commands go to the background worker (`qualcode.cli.worker`) when one
is running, and only otherwise is the whole command line (`qualcode.cli.root`) loaded."""

from __future__ import annotations

import sys


def main() -> None:
    from qualcode.cli.worker import run_in_worker

    code = run_in_worker(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    from qualcode.cli.root import run

    run()


def __getattr__(name: str):
    """`qualcode.cli.app`, the typer application, loaded when asked for."""
    if name == "app":
        from qualcode.cli.root import app

        return app
    raise AttributeError(name)
