"""Screenshots of a case study and a quote bank for the README, taken with headless Chromium.

    make demo                                   # writes the reports into reports/
    .venv/bin/python docs/screenshots.py reports

writes `docs/case-study.png` and `docs/quote-bank.png` from the HTML reports
in that folder, as a reader's browser shows them (1200 x 1400 pixels). The
reports are pseudonymised and checked when written, so the pictures are too.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
#: (picture, report, an #anchor to start at, or the top of the page).
SHOTS = [("case-study.png", "case-eastern.html", ""), ("quote-bank.png", "quotes-markets.html", "")]
SIZE = "1200,1400"


def screenshot(page: Path, anchor: str, target: Path) -> Path:
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        sys.exit("headless Chromium is needed: apt-get install chromium")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        f"--user-data-dir={profile}", f"--window-size={SIZE}", f"--screenshot={target}",
                        page.as_uri() + anchor], check=True, capture_output=True, timeout=120)
    return target


def main(folder: Path) -> None:
    for picture, report, anchor in SHOTS:
        page = folder / report
        if not page.is_file():
            sys.exit(f"{page}: no such report; run 'make demo' or 'qualcode report ...' first")
        print(screenshot(page, anchor, DOCS / picture))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DOCS.parent / "reports")
