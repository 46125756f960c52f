"""The full-screen review of two coders' disagreements (`qualcode tag --review A,B`).

A Textual view over `qualcode.coding.consensus.Review`: it draws one passage in its
context with each coder's codings side by side, and turns keys into the
review's decisions. Every rule about what a decision writes lives in
`qualcode.coding.consensus`; each decision is saved (and undoable) at once.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Static

from qualcode.coding.consensus import Passage, Review, describe
from qualcode.coding.tui import Ask, SessionApp, SessionScreen, shortened, typed_codes


class ReviewScreen(SessionScreen):
    """One disagreement at a time: where it is, the passage in context, each coder's codings, the keys."""

    BINDINGS = [
        Binding("1", "keep(0)", "keep 1st's"),
        Binding("2", "keep(1)", "keep 2nd's"),
        Binding("b", "keep_both", "keep both"),
        Binding("c", "recode", "recode"),
        Binding("n,right", "move(1)", "next"),
        Binding("p,left", "move(-1)", "back"),
        Binding("u", "undo", "undo"),
        Binding("q", "quit", "quit"),
    ]

    def __init__(self, review: Review):
        super().__init__()
        self.review = review

    def compose(self) -> ComposeResult:
        yield from self.header_and_passage()
        with Horizontal(id="sides"):
            for number in (0, 1):
                yield Static(id=f"coder{number}", classes="side")
        yield Static(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#turn-box").border_title = "Passage in context"
        for number, coder in enumerate(self.review.coders):
            self.query_one(f"#coder{number}").border_title = f"{number + 1}  {coder}"
        self.redraw()

    def redraw(self) -> None:
        review, passage = self.review, self.review.current
        self.query_one("#meta", Static).update(Text.assemble(
            (f"review {' vs '.join(review.coders)}", "bold"),
            f"  passage {review.position + 1} of {len(review.passages)} · {review.resolved()} resolved",
            (f"   resolver {review.resolver}", "italic"),
        ))
        self.query_one("#where", Static).update(
            f"{passage.transcript} · lines {passage.lines} · they differ on {', '.join(passage.codes)}"
            + (f" · resolved: {describe(passage.resolution)}" if passage.resolution else "")
        )
        self.query_one("#turn", Static).update(self._passage_in_context(passage))
        for number, coder in enumerate(review.coders):
            self.query_one(f"#coder{number}", Static).update(self._side(passage, coder))

    @staticmethod
    def _passage_in_context(passage: Passage) -> Text:
        text = Text(passage.before, style="dim")
        text.append(passage.text, style="bold")
        text.append(passage.after, style="dim")
        return text

    def _side(self, passage: Passage, coder: str) -> Text:
        codings = passage.coded[coder]
        if not codings:
            return Text(f"none of {', '.join(passage.codes)}", style="dim")
        text = Text()
        for code, start, end in codings:
            text.append(f"✓ {code}", style="bold green")
            if (start, end) != (passage.start, passage.end):
                words = passage.text[start - passage.start:end - passage.start]
                text.append(f"  “{shortened(words, max(20, self.size.width // 2 - len(code) - 10))}”", style="italic")
            text.append("\n")
        text.rstrip()
        return text

    def _decided(self, decide) -> None:
        """Make a decision; then on to the next passage still to decide, or say that all are done."""
        summary = self.attempt(decide)
        if summary is None:
            return
        done = f"{self.review.current.transcript} {self.review.current.lines}: {summary}"
        if not self.review.next_unresolved():
            done += f"; all {len(self.review.passages)} passages are resolved (q quits)"
        self.say(done)
        self.redraw()

    def action_keep(self, number: int) -> None:
        self._decided(lambda: self.review.keep([self.review.coders[number]]))

    def action_keep_both(self) -> None:
        self._decided(lambda: self.review.keep(self.review.coders))

    def action_recode(self) -> None:
        question = "Recode the passage with (Tab completes, ↑/↓ choose, Enter applies, Esc cancels)"
        self.app.push_screen(Ask(question, "code, e.g. markets", self.review.complete), self._recode)

    def _recode(self, answer: str | None) -> None:
        if codes := typed_codes(answer):
            self._decided(lambda: self.review.recode(codes))

    def action_move(self, step: int) -> None:
        if not self.review.move(step):
            self.say("this is the " + ("last" if step > 0 else "first") + " passage")
            return
        self.say("")
        self.redraw()

    def action_undo(self) -> None:
        if change := self.attempt(self.review.undo):
            self.say(f"undone: {change.description}")
            self.redraw()


class ReviewApp(SessionApp):
    """`qualcode tag --review`: the review screen on its own."""

    TITLE = "qualcode tag --review"

    def __init__(self, review: Review):
        super().__init__()
        self.review = review

    def first_screen(self) -> Screen:
        return ReviewScreen(self.review)
