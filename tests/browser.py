"""Headless Chromium driven over its DevTools pipe, with nothing but the standard library.

`--remote-debugging-pipe` makes Chromium read DevTools commands from file
descriptor 3 and answer on 4, as NUL-terminated JSON: enough to load a page,
wait for it, and ask it what a reader sees (`evaluate`), without a driver
package. One browser serves a whole test module.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time


class Browser:
    def __init__(self, executable: str, width: int = 1200, height: int = 900):
        self.profile = tempfile.TemporaryDirectory()
        ours_in, chrome_out = os.pipe()  # Chromium writes answers on fd 4
        chrome_in, ours_out = os.pipe()  # and reads commands on fd 3
        high_in, high_out = os.dup(chrome_in), os.dup(chrome_out)  # above 4, so dup2 clears close-on-exec

        def descriptors() -> None:
            os.dup2(high_in, 3)
            os.dup2(high_out, 4)

        self.process = subprocess.Popen(
            [executable, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
             f"--user-data-dir={self.profile.name}", f"--window-size={width},{height}", "about:blank"],
            preexec_fn=descriptors, close_fds=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        for fd in (chrome_in, chrome_out, high_in, high_out):
            os.close(fd)
        self._out, self._in, self._buffer, self._next = os.fdopen(ours_out, "wb"), ours_in, b"", 0
        self.events: list[dict] = []
        #: Uncaught exceptions and console errors of every page loaded so far.
        self.problems: list[str] = []
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.send("Page.enable", session=True)
        self.send("Runtime.enable", session=True)
        self.resize(width, height)

    def resize(self, width: int, height: int) -> None:
        """Lay pages out in a window of this size (a phone's is about 390 pixels wide)."""
        self.send("Emulation.setDeviceMetricsOverride", session=True, width=width, height=height,
                  deviceScaleFactor=1, mobile=False)

    def send(self, method: str, session: bool = False, **params) -> dict:
        self._next += 1
        message = {"id": self._next, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        self._out.write(json.dumps(message).encode() + b"\0")
        self._out.flush()
        while True:
            answer = self._read()
            if answer.get("id") == self._next:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer["result"]
            self.events.append(answer)

    def _read(self) -> dict:
        while b"\0" not in self._buffer:
            chunk = os.read(self._in, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed its DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        event = json.loads(message)
        if event.get("method") == "Runtime.exceptionThrown":
            self.problems.append(event["params"]["exceptionDetails"].get("text", "exception"))
        elif event.get("method") == "Runtime.consoleAPICalled" and event["params"]["type"] == "error":
            self.problems.append(str(event["params"]["args"]))
        return event

    def open(self, url: str, timeout: float = 30) -> None:
        """Load `url` afresh (via a blank page, so an address that differs only by its #anchor loads too)."""
        for address in ("about:blank", url):
            self.events.clear()
            self.send("Page.navigate", session=True, url=address)
            self._wait("Page.loadEventFired", timeout)

    def _wait(self, event: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == event for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(event)
            self.events.append(self._read())

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page (JSON-like values only); a thrown error fails."""
        result = self.send("Runtime.evaluate", session=True, expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (RuntimeError, OSError):
            pass
        self.process.wait(timeout=30)
        self._out.close()
        os.close(self._in)
        self.profile.cleanup()
