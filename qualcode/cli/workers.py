"""`qualcode worker status|stop`: the background worker that serves the everyday commands (see qualcode.cli.worker)."""

import typer

from qualcode.cli import worker
from qualcode.cli._console import terminal
from qualcode.cli._util import new_app

worker_app = new_app(help="The background worker that answers the everyday commands: whether it runs; stop it.")

NONE = "no worker runs for this installed qualcode (the next everyday command starts one)"


@worker_app.command("status")
def status_cli() -> None:
    """Say whether this user's worker for the installed qualcode runs: its process, socket and log."""
    found = worker.running()
    if found is None:
        typer.echo(NONE)
        return
    pid, path = found
    typer.echo(f"worker {pid or '(process id unknown)'} serves this installed qualcode on {path}; "
               f"log {path[: -len('.sock')]}.log; it stops after {worker.idle_timeout():.0f} s without a command")


@worker_app.command("stop")
def stop_cli() -> None:
    """Stop this user's worker for the installed qualcode (commands then run in-process until one starts it again)."""
    pid = worker.stop()
    terminal.info(NONE if pid is None else f"stopped worker {pid}")
