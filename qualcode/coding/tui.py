"""The full-screen tagging session (`qualcode tag`): a Textual view over `qualcode.coding.tagging.Tagger`.

This module only draws the current turn and turns keys into `Tagger` calls;
every rule about turns, codes and saving lives in `qualcode.coding.tagging`, so the
screen can be thrown away (or the terminal can die) without losing work.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Input, Label, Static

from qualcode.coding.codebook import UnknownCode
from qualcode.coding.manual import Applied
from qualcode.errors import QualcodeError
from qualcode.coding.tagging import MemoTarget, Tagger, TurnView, evidence_spans

_HEADER_FIELDS = ("role", "school", "locality", "phase", "type", "ofsted", "date", "kind")


class Ask(ModalScreen[object]):
    """A one-line question; with `complete`, a ranked list under it that Tab and ↑/↓ pick from."""

    BINDINGS = [
        Binding("escape", "cancel", "cancel"),
        Binding("tab", "complete", "complete", priority=True),
        Binding("up", "move(-1)", "previous", show=False, priority=True),
        Binding("down", "move(1)", "next", show=False, priority=True),
    ]

    def __init__(self, title: str, placeholder: str = "", complete: Callable[[str], list[str]] | None = None):
        super().__init__()
        self.title_text = title
        self.placeholder = placeholder
        self.completer = complete
        self.choices: list[str] = []
        self.highlight = 0
        #: Whether the coder chose among the completions with ↑/↓ (then Enter takes the choice).
        self.picked = False

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.title_text, id="question")
            yield Input(placeholder=self.placeholder, id="answer")
            yield Static(id="choices")

    def on_mount(self) -> None:
        self._refresh_choices("")

    def on_input_changed(self, event: Input.Changed) -> None:
        self._refresh_choices(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if self.picked:
            self.action_complete()
        self.dismiss(self.answer(event.input.value))

    def answer(self, value: str) -> object:
        """What the question gives back (Textual runs every class's message handlers, so subclasses override this)."""
        return value

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_complete(self) -> None:
        """Put the highlighted choice in the input; the last word is replaced, so several codes can be typed."""
        if not self.choices:
            return
        answer = self.query_one("#answer", Input)
        kept = re.sub(r"[^,\s]*$", "", answer.value)
        answer.value = kept + self.choices[self.highlight]
        answer.cursor_position = len(answer.value)

    def action_move(self, step: int) -> None:
        if self.choices:
            self.highlight = (self.highlight + step) % len(self.choices)
            self.picked = True
            self._draw_choices()

    def _refresh_choices(self, value: str) -> None:
        if self.completer is None:
            return
        last_word = re.split(r"[,\s]+", value)[-1]
        self.choices = self.completer(last_word)[:8]
        self.highlight, self.picked = 0, False
        self._draw_choices()

    def _draw_choices(self) -> None:
        text = Text()
        for number, choice in enumerate(self.choices):
            style = "reverse" if number == self.highlight else ""
            text.append(f" {choice} ", style=style)
            text.append("\n")
        self.query_one("#choices", Static).update(text)


class AskMemo(Ask):
    """A memo, with Tab cycling where it goes (the coder's codings on the turn, then the transcript)."""

    def __init__(self, targets: list[MemoTarget]):
        super().__init__(self._title(targets[0]), placeholder="memo text")
        self.targets = targets
        self.chosen = 0

    @staticmethod
    def _title(target: MemoTarget) -> str:
        return f"Memo on {target.label} (Tab: somewhere else, Enter saves, Esc cancels)"

    def action_complete(self) -> None:
        self.chosen = (self.chosen + 1) % len(self.targets)
        self.query_one("#question", Label).update(self._title(self.targets[self.chosen]))

    def answer(self, value: str) -> tuple[MemoTarget, str]:
        return self.targets[self.chosen], value


class Resolve(ModalScreen[tuple[str, bool] | None]):
    """A code that does not exist: create it as an inductive code (y), take a close one (1-3), or stop (n).

    Gives back the code to use and whether to create it.
    """

    BINDINGS = [
        Binding("y", "create", "create it"),
        Binding("1", "pick(0)", show=False),
        Binding("2", "pick(1)", show=False),
        Binding("3", "pick(2)", show=False),
        Binding("n,escape", "cancel", "code nothing"),
    ]

    def __init__(self, unknown: UnknownCode):
        super().__init__()
        self.unknown = unknown

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(f"There is no code '{self.unknown.text}'.", id="question")
            yield Label(f"y  create '{self.unknown.text}' as a new inductive code")
            for number, path in enumerate(self.unknown.suggestions[:3], start=1):
                yield Label(f"{number}  use {path}")
            yield Label("n  code nothing")

    def action_create(self) -> None:
        self.dismiss((self.unknown.text, True))

    def action_pick(self, number: int) -> None:
        if number < len(self.unknown.suggestions):
            self.dismiss((self.unknown.suggestions[number], False))

    def action_cancel(self) -> None:
        self.dismiss(None)


class SessionScreen(Screen):
    """What the full-screen sessions share: a header, a passage, a status line, and errors shown, not raised."""

    def header_and_passage(self) -> ComposeResult:
        yield Static(id="meta")
        yield Static(id="where")
        with VerticalScroll(id="turn-box"):
            yield Static(id="turn")

    def say(self, message: str, error: bool = False) -> None:
        self.query_one("#status", Static).update(Text(message, style="bold red" if error else "green"))

    def attempt(self, action: Callable[[], object]) -> object | None:
        """Run an action; a `QualcodeError` is shown on the status line instead of ending the session."""
        try:
            return action()
        except QualcodeError as exc:
            self.say(str(exc), error=True)
            return None

    def action_quit(self) -> None:
        self.app.exit()


class TagScreen(SessionScreen):
    """One turn at a time: header, the turn, its codes, its suggestions, a status line, the keys."""

    BINDINGS = [
        Binding("n,right", "next", "next"),
        Binding("p,left", "previous", "back"),
        Binding("up", "move(-1)", "↑", show=False),
        Binding("down", "move(1)", "↓", show=False),
        Binding("a", "accept", "accept"),
        Binding("r", "reject", "reject"),
        Binding("c", "code", "code"),
        Binding("s", "select", "select"),
        Binding("v", "in_vivo", "in vivo"),
        Binding("x", "uncode", "remove"),
        Binding("m", "memo", "memo"),
        Binding("g", "suggest", "suggest"),
        Binding("u", "undo", "undo"),
        Binding("escape", "clear_selection", "clear", show=False),
        Binding("q", "quit", "quit"),
    ]

    def __init__(self, tagger: Tagger):
        super().__init__()
        self.tagger = tagger
        self.highlight = 0
        self.current: TurnView | None = None
        self.numbered = False

    def compose(self) -> ComposeResult:
        yield from self.header_and_passage()
        yield Static(id="codes")
        yield Static(id="suggestions")
        yield Static(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#turn-box").border_title = "Turn"
        self.query_one("#codes").border_title = "Codes"
        self.query_one("#suggestions").border_title = "Suggestions (↑/↓, a accept, r reject)"
        self.redraw()

    # -- drawing -----------------------------------------------------------------

    def redraw(self) -> None:
        """Re-read the turn from the database and draw everything."""
        view = self.current = self.tagger.view()
        self.highlight = max(0, min(self.highlight, len(view.suggestions) - 1))
        self.query_one("#meta", Static).update(self._meta(view))
        self.query_one("#where", Static).update(
            f"Turn {view.number} · {view.position} of {view.total} · {view.speaker} · lines {view.lines}"
        )
        self.query_one("#turn", Static).update(self._turn_text(view))
        self.query_one("#codes", Static).update(self._codes(view))
        self.query_one("#suggestions", Static).update(self._suggestions(view))

    def _meta(self, view: TurnView) -> Text:
        header = self.tagger.header
        parts = [f"Ofsted {header[name]}" if name == "ofsted" else header[name] for name in _HEADER_FIELDS
                 if name in header]
        text = Text(header["transcript"], style="bold")
        text.append("  " + " · ".join(parts))
        text.append(f"   coder {self.tagger.coder}", style="italic")
        if view.blind:  # said on screen: a blind round hides the other coders' codings here
            text.append(f"\n{view.blind}", style="bold yellow")
        return text

    def _turn_text(self, view: TurnView) -> Text:
        if self.numbered:
            text = Text()
            for number, (start, end) in enumerate(self.tagger.words(), start=1):
                text.append(f"{number}", style="dim cyan")
                text.append(view.text[start - view.start : end - view.start] + " ")
            return text
        text = Text(f"Q: {shortened(view.question, 200)}\n\n", style="dim italic") if view.question else Text()
        offset = len(text)
        text.append(view.text)
        if view.suggestions:
            suggestion = view.suggestions[self.highlight]
            start, end = max(suggestion.start, view.start), min(suggestion.end, view.end)
            text.stylize("underline", offset + start - view.start, offset + end - view.start)
            for found_start, found_end in evidence_spans(view.text, suggestion.evidence):
                text.stylize("bold yellow", offset + found_start, offset + found_end)
        selection = self.tagger.selection
        if selection is not None:
            text.stylize("reverse", offset + selection.start - view.start, offset + selection.end - view.start)
            text.append(f"\n\nselected: “{selection.text}” (c codes it, v makes it an in-vivo code, Esc clears)",
                        style="italic")
        return text

    def _codes(self, view: TurnView) -> Text:
        if not view.codes:
            return Text("no codes yet", style="dim")
        text = Text()
        for item in view.codes:
            text.append(f"✓ {item.code}", style="bold green")
            text.append(f"  {item.origin} by {item.coder}")
            if (item.start, item.end) != (view.start, view.end):
                text.append(f"  “{shortened(item.text, self._room(item.code, 30))}”", style="italic")
            if item.memo:
                text.append("  ✎", style="yellow")
            text.append("\n")
        text.rstrip()
        return text

    def _suggestions(self, view: TurnView) -> Text:
        if not view.suggestions:
            return Text("no suggestions (g asks for them)", style="dim")
        text = Text()
        for number, item in enumerate(view.suggestions):
            mark, style = ("▶ ", "reverse") if number == self.highlight else ("  ", "")
            score = f"{item.score:.2f}" if item.score is not None else "  - "
            text.append(f"{mark}{item.code}  {score}", style=style)
            text.append(f"  “{shortened(item.text, self._room(item.code, 16))}”\n", style="italic")
        text.rstrip()
        return text

    def _room(self, code: str, used: int) -> int:
        """How much of a quote fits on one line beside its code, so rows do not wrap."""
        return max(20, self.size.width - len(code) - used - 8)

    # -- moving ------------------------------------------------------------------

    def action_next(self) -> None:
        before = self.tagger.transcript_id
        moved = self.attempt(self.tagger.next)
        if moved is None:
            return
        if not moved:
            self.say("this is the last turn" + (" of the last transcript with uncoded turns" if self.tagger.follow else ""))
            return
        self._moved(f"now in {self.tagger.transcript_id}" if self.tagger.transcript_id != before else "")

    def action_previous(self) -> None:
        if not self.tagger.previous():
            self.say("this is the first turn")
            return
        self._moved("")

    def _moved(self, message: str) -> None:
        self.highlight, self.numbered = 0, False
        self.say(message)
        self.redraw()

    def action_move(self, step: int) -> None:
        if self.current and self.current.suggestions:
            self.highlight = (self.highlight + step) % len(self.current.suggestions)
            self.redraw()

    # -- suggestions ---------------------------------------------------------------

    def _highlighted(self) -> int | None:
        if not self.current or not self.current.suggestions:
            self.say("no suggestion on this turn to review", error=True)
            return None
        return self.current.suggestions[self.highlight].id

    def action_accept(self) -> None:
        if (suggestion := self._highlighted()) is not None and (path := self.attempt(lambda: self.tagger.accept(suggestion))):
            self.say(f"accepted {path}")
            self.redraw()

    def action_reject(self) -> None:
        if (suggestion := self._highlighted()) is not None and (path := self.attempt(lambda: self.tagger.reject(suggestion))):
            self.say(f"rejected {path}")
            self.redraw()

    def action_suggest(self) -> None:
        self.say("finding suggestions…")
        self._suggest()

    @work(thread=True, exclusive=True)
    def _suggest(self) -> None:
        """spaCy can take seconds to load, so the suggestions are made off the screen's thread."""
        try:
            count = self.tagger.suggest()
        except QualcodeError as exc:
            self.app.call_from_thread(self.say, str(exc), True)
            return
        self.app.call_from_thread(self.say, f"{count} suggestions in {self.tagger.transcript_id}")
        self.app.call_from_thread(self.redraw)

    # -- coding --------------------------------------------------------------------

    def _target_label(self) -> str:
        selection = self.tagger.selection
        return f"“{shortened(selection.text, 40)}”" if selection else "this turn"

    def action_code(self) -> None:
        question = f"Code {self._target_label()} with (Tab completes, ↑/↓ choose, Enter applies, Esc cancels)"
        self.app.push_screen(Ask(question, "code, e.g. competition", self.tagger.complete),
                             lambda answer: self._code_with(typed_codes(answer)))

    def _code_with(self, codes: list[str], new: bool = False) -> None:
        if not codes:
            return
        try:
            applied = self.tagger.apply(codes, new=new)
        except UnknownCode as unknown:
            typed = unknown.text
            self.app.push_screen(Resolve(unknown), lambda choice: self._resolved(choice, codes, typed))
            return
        except QualcodeError as exc:
            self.say(str(exc), error=True)
            return
        self._report(applied)

    def _resolved(self, choice: tuple[str, bool] | None, codes: list[str], unknown: str) -> None:
        if choice is None:
            self.say("nothing was coded")
            return
        code, create = choice
        self._code_with([code if typed == unknown else typed for typed in codes], new=create)

    def _report(self, applied: Applied) -> None:
        parts = [f"created inductive code {path}" for path in applied.created_codes]
        if applied.codes:
            parts.append(f"coded lines {applied.lines} with {', '.join(applied.codes)}")
        parts += [f"already had {path}" for path in applied.already]
        self.say("; ".join(parts))
        self.redraw()

    def action_uncode(self) -> None:
        on_turn = sorted({item.code for item in self.current.codes}) if self.current else []
        complete = lambda typed: [code for code in on_turn if typed.lower() in code] or on_turn  # noqa: E731
        self.app.push_screen(Ask(f"Remove which code from {self._target_label()}?", "code", complete), self._uncode)

    def _uncode(self, answer: str | None) -> None:
        codes = typed_codes(answer)
        if codes and (removed := self.attempt(lambda: self.tagger.uncode(codes))):
            self.say(f"removed {removed} coding{'s' if removed != 1 else ''}")
            self.redraw()

    # -- selecting, in vivo, memos, undo --------------------------------------------

    def action_select(self) -> None:
        self.numbered = True
        self.redraw()
        question = "Select words: numbers as shown (3 or 3-7) or the words themselves; empty clears"
        self.app.push_screen(Ask(question, "e.g. 3-7 or opened doors"), self._select)

    def _select(self, answer: str | None) -> None:
        self.numbered = False
        if answer is not None:
            selection = self.attempt(lambda: self.tagger.select(answer))
            if selection:
                self.say(f"selected “{shortened(selection.text)}”")
        self.redraw()

    def action_clear_selection(self) -> None:
        self.tagger.select("")
        self.redraw()

    def action_in_vivo(self) -> None:
        if applied := self.attempt(self.tagger.in_vivo):
            self._report(applied)

    def action_memo(self) -> None:
        targets = self.attempt(self.tagger.memo_targets)
        if targets:
            self.app.push_screen(AskMemo(targets), self._memo)

    def _memo(self, answer: tuple[MemoTarget, str] | None) -> None:
        if answer is None:
            return
        if where := self.attempt(lambda: self.tagger.memo(*answer)):
            self.say(f"memo written on {where}")
            self.redraw()

    def action_undo(self) -> None:
        if change := self.attempt(self.tagger.undo):
            self.say(f"undone: {change.description}")
            self.redraw()



def typed_codes(answer: str | None) -> list[str]:
    """The codes typed in answer to a question, separated by spaces or commas."""
    return [code for code in re.split(r"[,\s]+", answer or "") if code]


def shortened(text: str, width: int = 70) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


class SessionApp(App):
    """A full-screen session: one screen (made by `first_screen`), styled as every qualcode session."""

    ENABLE_COMMAND_PALETTE = False
    CSS = """
    #meta { background: $boost; padding: 0 1; height: auto; }
    #where { padding: 0 1; text-style: bold; height: 1; }
    #turn-box { border: round $primary; padding: 0 1; height: 1fr; }
    #codes { border: round $secondary; padding: 0 1; height: auto; max-height: 9; }
    #suggestions { border: round $accent; padding: 0 1; height: auto; max-height: 11; }
    #status { padding: 0 1; height: auto; min-height: 1; }
    Ask, Resolve { align: center bottom; }
    #question { width: 1fr; }
    #dialog { width: 90%; height: auto; border: thick $primary; background: $surface; padding: 1 2; }
    #choices { height: auto; }
    #sides { height: auto; max-height: 12; }
    .side { border: round $secondary; padding: 0 1; width: 1fr; height: auto; }
    """

    def first_screen(self) -> Screen:
        raise NotImplementedError

    def on_mount(self) -> None:
        self.push_screen(self.first_screen())


class TagApp(SessionApp):
    """`qualcode tag`: the tagging screen on its own."""

    TITLE = "qualcode tag"

    def __init__(self, tagger: Tagger):
        super().__init__()
        self.tagger = tagger

    def first_screen(self) -> Screen:
        return TagScreen(self.tagger)
