"""Screenshots of a running ``modelmon demo`` for the README (Chromium via Playwright).

.venv/bin/modelmon demo --port 8098 &      # wait for "The dashboard is at ..."
.venv/bin/python scripts/demo_screenshots.py http://127.0.0.1:8098
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

PAGES = {
    "demo-overview.png": "/#/",
    "demo-model.png": "/#/models/credit",
    "demo-feature.png": "/#/models/credit/features/loan_amount",
    "demo-alerts.png": "/#/alerts",
}


def main(base: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"]
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        for name, path in PAGES.items():
            page.goto(base.rstrip("/") + path)
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(500)  # charts draw after their data arrives
            # The model page is long (a chart per metric): its first screen is enough.
            page.screenshot(path=out / name, full_page=name != "demo-model.png")
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1], Path(__file__).resolve().parents[1] / "docs" / "images")
