"""The bar of links at the top of every report: the index, the case studies, the quote banks.

Reports are written one command at a time (`report quotes` today, `report
cases` tomorrow) into one folder, and a reader moves between them. So the bar
lists what is in the folder, not what one command wrote: each report is
rendered with the bar as the folder stands, and `refresh` then rewrites the
bar (only the bar, between its marker comments) in every report there, so
that the ones written earlier link to the ones written later too.
"""

from __future__ import annotations

import re
from pathlib import Path

from qualcode.errors import QualcodeError
from qualcode.project import Project
from qualcode.reports.contexts import Link, Navigation

#: The bar sits between these comments, so it can be rewritten without rendering the report again.
START, END = "<!-- qualcode:nav -->", "<!-- /qualcode:nav -->"
_BLOCK = re.compile(re.escape(START) + ".*?" + re.escape(END), re.DOTALL)
#: Transcript pages live in this sub-folder of the reports.
PAGES = "transcripts"
INDEX = "cases"


def navigation(project: Project, folder: Path, fmt: str, current: str, prefix: str = "") -> Navigation:
    """The bar for the page `current` (a file name in `folder`, or '' for a page elsewhere) whose links
    start with `prefix` ('../' from a transcript page)."""
    names = {path.name for path in folder.glob(f"*.{fmt}")} | ({current} if current else set())

    def link(label: str, name: str) -> Link:
        return Link(label, prefix + name, name == current)

    localities = {name.lower(): name for name in _localities(project)}
    cases = sorted((localities.get(stem, stem.capitalize()), f"case-{stem}.{fmt}") for stem in _stems(names, "case-", fmt))
    banks = sorted((stem, f"quotes-{stem}.{fmt}") for stem in _stems(names, "quotes-", fmt))
    index = f"{INDEX}.{fmt}"
    return Navigation(link("Index", index) if index in names else None,
                      [link(*case) for case in cases], [link(*bank) for bank in banks])


def _stems(names: set[str], prefix: str, fmt: str) -> list[str]:
    """'markets' from 'quotes-markets.html'; not 'quotes-markets.fixed.html' (`check --fix`'s copy)."""
    suffix = f".{fmt}"
    return [name[len(prefix) : -len(suffix)] for name in names
            if name.startswith(prefix) and name.endswith(suffix) and "." not in name[len(prefix) : -len(suffix)]]


def _localities(project: Project) -> list[str]:
    from qualcode.reports.render import case_localities

    return case_localities(project)


def render_bar(project: Project, fmt: str, nav: Navigation) -> str:
    """The bar alone, from the `_nav` template (a project's own first), markers included."""
    from qualcode.reports.render import environment

    suffix = "html" if fmt == "html" else "md.j2"
    return environment(project, fmt).get_template(f"_nav.{suffix}").render(nav=nav).strip()


def refresh(project: Project, folder: Path, fmt: str) -> list[Path]:
    """Rewrite the bar in every report in `folder` and its transcript pages; the files changed.

    The new bars hold only file names, localities and code paths, but they are
    checked for names from the identity key all the same, as every report is.
    Word reports have no markers: their bar is a paragraph of its own style.
    """
    if fmt == "docx":
        return _refresh_word(project, folder)
    changed = []
    pages = [(path, "") for path in folder.glob(f"*.{fmt}")] + [(path, "../") for path in (folder / PAGES).glob(f"*.{fmt}")]
    for path, prefix in pages:
        text = path.read_text(encoding="utf-8")
        if START not in text:
            continue
        bar = render_bar(project, fmt, navigation(project, folder, fmt, "" if prefix else path.name, prefix))
        _no_leaks(project, bar, path)
        updated = _BLOCK.sub(lambda _: bar, text, count=1)
        if updated != text:
            path.write_text(updated, encoding="utf-8")
            changed.append(path)
    return changed


def _refresh_word(project: Project, folder: Path) -> list[Path]:
    from qualcode.reports.word import bar_text, rewrite_bar

    changed = []
    for path in sorted(folder.glob("*.docx")):
        nav = navigation(project, folder, "docx", path.name)
        _no_leaks(project, bar_text(nav), path)
        if rewrite_bar(path, nav):
            changed.append(path)
    return changed


def _no_leaks(project: Project, bar: str, path: Path) -> None:
    from qualcode.privacy.pseudonyms import leaks
    from qualcode.reports.reportfiles import visible_lines

    found = leaks(project, " ".join(visible_lines(bar)))
    if found:
        raise QualcodeError(f"{path.name}: the links to the other reports would name '{found[0].text}', a name in the "
                            "identity key; rename the locality or code")
