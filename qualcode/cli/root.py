"""The `qualcode` command assembled: a thin layer over the library, one module per command group.

The command modules do without ``from __future__ import annotations``: typer reads
the parameters of every command at every start, and string annotations would
cost it an ``eval`` each (0.05 s of every start).
"""

from __future__ import annotations

import functools
import gc
from typing import Annotated

import click
import typer
import typer.main

from qualcode import __version__
from qualcode.cli._util import new_app
from qualcode.cli.agreement import agreement_cli
from qualcode.cli.anonymise import anonymise_app, key_app
from qualcode.cli.check import check_cli
from qualcode.cli.codebook import codebook_app
from qualcode.cli.coding import code_cli, codings_cli, history_cli, memo_cli, memos_cli, uncode_cli, undo_cli
from qualcode.cli.corpus import import_cli, show_cli, stats_cli, transcripts_cli
from qualcode.cli.demo import demo_cli
from qualcode.cli.exchange import export_app, merge_cli
from qualcode.cli.nlp import autocode_cli, evaluate_cli, suggest_cli
from qualcode.cli.project import backup_cli, init_cli, restore_cli, snapshots_cli
from qualcode.cli.query import query_app
from qualcode.cli.report import report_app
from qualcode.cli.rounds import coders_app, round_app, rounds_cli
from qualcode.cli.tag import tag_cli
from qualcode.cli.samplecorpus import sample_corpus_cli
from qualcode.cli.workers import worker_app

app = new_app(help="qualcode: a terminal-first workbench for qualitative case-study research.")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"qualcode {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    debug: Annotated[
        bool,
        typer.Option("--debug", envvar="QUALCODE_DEBUG", help="On an error, print the traceback as well as the message."),
    ] = False,
) -> None:
    """qualcode: store, code, query and report interview transcripts from the terminal."""


app.command("init")(init_cli)
app.command("import")(import_cli)
app.command("merge")(merge_cli)
app.command("transcripts")(transcripts_cli)
app.command("show")(show_cli)
app.command("stats")(stats_cli)
app.add_typer(codebook_app, name="codebook")
app.command("code")(code_cli)
app.command("uncode")(uncode_cli)
app.command("memo")(memo_cli)
app.command("memos")(memos_cli)
app.command("codings")(codings_cli)
app.command("undo")(undo_cli)
app.command("history")(history_cli)
app.command("tag")(tag_cli)
app.command("autocode")(autocode_cli)
app.command("suggest")(suggest_cli)
app.command("evaluate")(evaluate_cli)
app.command("agreement")(agreement_cli)
app.add_typer(round_app, name="round")
app.command("rounds")(rounds_cli)
app.add_typer(coders_app, name="coders")
app.command("check")(check_cli)
app.command("backup")(backup_cli)
app.command("restore")(restore_cli)
app.command("snapshots")(snapshots_cli)
app.command("demo")(demo_cli)
app.command("sample-corpus")(sample_corpus_cli)
app.add_typer(query_app, name="query")
app.add_typer(report_app, name="report")
app.add_typer(export_app, name="export")
app.add_typer(key_app, name="key")
app.add_typer(anonymise_app, name="anonymise")
app.add_typer(worker_app, name="worker")


@functools.cache
def click_command() -> click.Command:
    """The click command typer builds from `app`, reading every command's parameters: once per process,
    so the worker builds it before it forks and its children start with it."""
    return typer.main.get_command(app)


def run() -> None:
    """Run the command line in this process (`qualcode.cli.main` tries the worker first)."""
    try:
        click_command().main(prog_name="qualcode")
    finally:
        # Interpreter shutdown walks every object SQLAlchemy, pydantic and typer made, in
        # several garbage collections: 0.15 s, a fifth of a `qualcode code` run. The command
        # has closed its database and files, so there is nothing to collect: skip the walk.
        gc.freeze()
