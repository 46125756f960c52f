"""Parsing and matching in two processes: what each transcript's parse yields (suggestions, features), per transcript.

Why not spaCy's own ``nlp.pipe(n_process=2)``: it sends every parsed Doc back
to the calling process, serialised, and the caller then does all the matching
and writes the parse cache alone, so on two cores most of the second core's
gain is spent again. Here each of two forked processes takes half the
transcripts (by words), reads or parses them, writes their cache files,
applies the caller's `work` to each parse and sends back only its result (a
few suggestions or a turn's features). The pipeline and the matcher are
inherited from the parent by the fork, not loaded again.

Results come back in the order of the transcripts, and are what the same
`work` gives in one process (tests/test_parsing_speed.py).
"""

from __future__ import annotations

import multiprocessing
import traceback
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection, wait
from typing import TypeVar

from qualcode.project import Project
from qualcode.suggestions.nlp import Parsed, ParseStats, Progress, Source, parse_sources, processes

T = TypeVar("T")


def map_parsed(
    project: Project, sources: list[Source], work: Callable[[Parsed], T], progress: Progress | None = None,
    stats: ParseStats | None = None, syntax: bool = False,
) -> Iterator[T]:
    """Yield `work(parsed)` for each of `sources`, in order; in two processes where there are enough words.

    `work` runs in the worker processes (where there are two), so it must only
    read its argument and what it closes over, and return something picklable.
    """
    stats = stats if stats is not None else ParseStats()
    count = processes(sum(source.words for source in sources))
    if count == 1 or "fork" not in multiprocessing.get_all_start_methods():
        order = {id(source): i for i, source in enumerate(sources)}
        results: dict[int, T] = {}
        yielded = 0
        for parsed in parse_sources(project, sources, progress, stats, syntax):
            results[order[id(parsed.source)]] = work(parsed)
            for result in _in_order(results, yielded):
                yielded += 1
                yield result
        return
    yield from _forked(project, sources, work, count, progress, stats, syntax)


def _in_order(results: dict[int, T], start: int) -> Iterator[T]:
    """Pop and yield the results from position `start` on, as long as there is no gap."""
    position = start
    while position in results:
        yield results.pop(position)
        position += 1


def _forked(project: Project, sources: list[Source], work: Callable[[Parsed], T], count: int,
            progress: Progress | None, stats: ParseStats, syntax: bool) -> Iterator[T]:
    context = multiprocessing.get_context("fork")
    readers: dict[Connection, multiprocessing.process.BaseProcess] = {}
    for shard in _shards(sources, count):
        reader, writer = context.Pipe(duplex=False)
        process = context.Process(target=_worker, args=(writer, project, sources, shard, work, syntax), daemon=True)
        process.start()
        writer.close()
        readers[reader] = process
    results: dict[int, T] = {}
    yielded = 0
    try:
        while readers:
            for reader in wait(list(readers)):
                message = _receive(reader, readers)
                if message is None:
                    continue
                if message[0] == "stats":
                    stats.parsed += message[1]
                    stats.cached += message[2]
                    continue
                results[message[1]] = message[2]
                done = yielded + len(results)
                if progress is not None:
                    progress(done, len(sources))
                for result in _in_order(results, yielded):
                    yielded += 1
                    yield result
    finally:
        for process in readers.values():
            process.kill()
            process.join()


def _receive(reader: Connection, readers: dict) -> tuple | None:
    """The next message from a worker; None (and the worker forgotten) once it has finished."""
    try:
        message = reader.recv()
    except EOFError:
        process = readers.pop(reader)
        process.join()
        if process.exitcode:
            raise RuntimeError(f"a parsing process stopped (exit code {process.exitcode}) before it finished") from None
        return None
    if message[0] == "error":
        raise RuntimeError(f"a parsing process failed:\n{message[1]}")
    return message


def _worker(writer: Connection, project: Project, sources: list[Source], shard: list[int],
            work: Callable[[Parsed], object], syntax: bool) -> None:
    """In the forked process: parse (or read) the shard's sources, send back `work` of each, by position."""
    try:
        order = {id(sources[i]): i for i in shard}
        stats = ParseStats()
        for parsed in parse_sources(project, [sources[i] for i in shard], stats=stats, syntax=syntax):
            writer.send(("result", order[id(parsed.source)], work(parsed)))
        writer.send(("stats", stats.parsed, stats.cached))
    except BaseException:  # noqa: BLE001 - whatever it is, the parent reports it
        writer.send(("error", traceback.format_exc()))
    finally:
        writer.close()


def _shards(sources: list[Source], count: int) -> list[list[int]]:
    """Positions of `sources` in `count` shards of about as many words, each in the sources' order."""
    shards: list[list[int]] = [[] for _ in range(count)]
    words = [0] * count
    for i in sorted(range(len(sources)), key=lambda i: -sources[i].words):
        lightest = words.index(min(words))
        shards[lightest].append(i)
        words[lightest] += sources[i].words
    return [sorted(shard) for shard in shards]
