"""The dashboard in headless Chromium against a real seeded server: numbers, click-through,
404 and getting-started pages, errors shown, alerts silenced, the HTML report opened."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.browser


def _go(page: Any, url: str, ready: str) -> None:
    page.goto(url)
    page.wait_for_selector(ready)


def _text(page: Any, selector: str) -> str:
    text: str = page.locator(selector).first.inner_text()
    return text.strip()


def test_overview_shows_every_model_with_its_health(
    seeded: Any, api: httpx.Client, page: Any, artifacts: Path, docs_images: Path
) -> None:
    body = api.get("/api/v1/overview").json()
    credit = next(m for m in body["models"] if m["name"] == "credit")
    _go(page, seeded.url + "/", "[data-page=overview] table.models")
    assert _text(page, "[data-total=models]") == "2"
    row = page.locator("table.models tr", has=page.locator("[data-model=credit]"))
    assert row.locator("[data-violations]").inner_text() == str(credit["violations"])
    assert row.locator("[data-alerts]").inner_text() == str(credit["open_alerts"])
    expected = "Alarm" if credit["open_alerts"] else "Violations"
    assert expected in row.inner_text()
    assert "No data" in page.locator("table.models tr", has_text="fraud").inner_text()
    # Filtering is client-side and instant.
    page.fill("#model-filter", "fra")
    assert page.locator("table.models tbody tr").count() == 1
    page.fill("#model-filter", "")
    page.screenshot(path=artifacts / "overview.png", full_page=True)
    page.screenshot(path=docs_images / "dashboard-overview.png")


def test_click_through_to_a_features_distribution(
    seeded: Any, api: httpx.Client, page: Any, artifacts: Path, docs_images: Path
) -> None:
    last = seeded.executions[-1]
    report = api.get(f"/api/v1/executions/{last.id}/files/drift_report.json").json()
    income = next(f for f in report["features"] if f["name"] == "income")
    stats = api.get(f"/api/v1/executions/{last.id}/files/statistics.json").json()
    mean = next(f for f in stats["features"] if f["name"] == "income")["numerical_statistics"][
        "mean"
    ]

    _go(page, seeded.url + "/", "[data-model=credit]")
    page.click("[data-model=credit]")
    page.wait_for_selector("[data-page=model] table.features")
    page.wait_for_selector(".strip svg")
    row = page.locator("table.features tr", has=page.locator("[data-feature=income]"))
    assert float(row.locator("[data-statistic]").inner_text()) == pytest.approx(
        income["statistic"], rel=1e-3
    )
    assert "drift" in row.inner_text()
    page.screenshot(path=artifacts / "model.png", full_page=True)

    row.locator("[data-feature=income]").click()
    page.wait_for_selector("[data-page=feature] #bars svg")
    assert _text(page, "[data-threshold]") == "0.1"
    assert "5 (1 with a violation" in _text(page, "[data-executions]")
    drift_label = page.locator("#drift-chart svg").get_attribute("aria-label")
    assert "4 points" in drift_label
    assert "1 above the threshold 0.1" in drift_label
    assert page.locator("#drift-chart .marker.violation").count() == 1
    assert page.locator("#drift-chart .marker.failed").count() == 1
    # The newest completed run is shown, and its summary table holds the file's numbers.
    assert page.locator(f"[data-execution='{last.id}']").count() == 1
    cells = page.locator("table.summary tr", has_text="mean").locator("td").all_inner_texts()
    assert float(cells[2].replace(",", "")) == pytest.approx(mean, rel=1e-3)
    bars = page.locator("#bars svg").get_attribute("aria-label")
    assert bars.startswith("Distribution of income: baseline most common")
    # Two pieces of line: the failed hour in between has no point, and is not bridged.
    assert page.locator("#drift-chart path.line").get_attribute("d").count("M") == 2
    page.screenshot(path=artifacts / "feature.png", full_page=True)
    page.screenshot(path=docs_images / "dashboard-feature.png", full_page=True)

    # Choosing an earlier execution shows its distribution.
    first = seeded.executions[0]
    page.select_option("#execution-picker", str(first.id))
    page.wait_for_selector(f"[data-execution='{first.id}']")
    assert "no drift" in page.locator(".dist-head").inner_text()


@pytest.mark.parametrize(
    ("route", "message"),
    [
        ("#/models/nope", "nope"),
        ("#/models/credit/features/nope", "no feature 'nope'"),
        ("#/executions/999999", "999999"),
        ("#/no/such/page", "There is no page at /no/such/page"),
    ],
)
def test_unknown_pages_show_a_404_page(
    seeded: Any, page: Any, artifacts: Path, route: str, message: str
) -> None:
    _go(page, f"{seeded.url}/{route}", "[data-page=notfound]")
    assert message in _text(page, "[data-page=notfound] .lead")
    assert page.locator("[data-page=notfound] a[href='#/']").count() == 1
    if route == "#/models/nope":
        page.screenshot(path=artifacts / "not-found.png")


def test_an_empty_server_shows_how_to_get_started(
    empty_url: str, page: Any, artifacts: Path
) -> None:
    _go(page, empty_url + "/", "[data-page=getting-started]")
    text = _text(page, "[data-page=getting-started]")
    assert "modelmon demo" in text
    assert "schedules create" in text
    page.screenshot(path=artifacts / "getting-started.png", full_page=True)


def test_api_errors_are_shown_not_swallowed(seeded: Any, page: Any, artifacts: Path) -> None:
    failed = next(e for e in seeded.executions if e.status == "Failed")
    _go(
        page,
        f"{seeded.url}/#/models/credit/features/income?execution={failed.id}",
        "[data-distribution-error]",
    )
    assert "no captured data in window" in _text(page, "[data-distribution-error]")
    assert "404 NotFoundError" in _text(page, "#errors")

    # A server error while loading a page: the page says so, with the server's message.
    def broken(route: Any) -> None:
        body = {"error": {"type": "InternalError", "message": "database is locked"}}
        route.fulfill(status=500, content_type="application/json", body=json.dumps(body))

    page.route("**/api/v1/overview", broken)
    _go(page, seeded.url + "/#/", "[data-page=error]")
    assert "500 InternalError: database is locked" in _text(page, "[data-page=error]")
    assert "database is locked" in _text(page, "#errors")
    page.screenshot(path=artifacts / "api-error.png")


def test_alerts_can_be_silenced_and_acknowledged_from_the_ui(
    seeded: Any, api: httpx.Client, page: Any, artifacts: Path
) -> None:
    (alarm,) = api.get("/api/v1/alerts", params={"state": "ALARM", "model": "credit"}).json()
    _go(page, f"{seeded.url}/#/alerts", "table.alerts")
    cell = page.locator(f"[data-alert='{alarm['id']}']")
    cell.locator("[data-history]").click()
    page.wait_for_selector("ol.history li")
    assert "→ ALARM" in _text(page, "ol.history")

    page.click("details.settings summary")
    page.fill("#user-name", "ana")
    cell.locator("[data-silence]").click()
    page.select_option("form.silence select", label="4 hours")
    page.fill("form.silence input[name=reason]", "retraining on the new income data")
    page.click("form.silence button[type=submit]")
    page.wait_for_selector("[data-silenced]")
    (silence,) = api.get("/api/v1/alerts/silences").json()
    assert silence["reason"] == "retraining on the new income data"
    assert silence["created_by"] == "ana"
    assert silence["rule_id"] == alarm["rule_id"]
    assert silence["matchers"]["feature"] == "=income"
    now = api.get("/api/v1/dashboard/info").json()["now"]
    hours = (_parse(silence["until"]) - _parse(now)).total_seconds() / 3600
    assert hours == pytest.approx(4, abs=0.01)

    page.click(f"[data-ack='{alarm['id']}']")
    page.wait_for_selector("[data-acked]")
    assert _text(page, "[data-acked]") == "acknowledged by ana"
    assert api.get("/api/v1/alerts", params={"state": "ALARM"}).json()[0]["acknowledged_at"]
    page.screenshot(path=artifacts / "alerts.png", full_page=True)


def _parse(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_the_html_report_opens_offline(
    seeded: Any, browser: Any, artifacts: Path, tmp_path: Path
) -> None:
    last = seeded.executions[-1]
    html = httpx.get(f"{seeded.url}/api/v1/executions/{last.id}/report.html").text
    path = tmp_path / "report.html"
    path.write_text(html, encoding="utf-8")
    context = browser.new_context(viewport={"width": 1100, "height": 900}, offline=True)
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    try:
        page.goto(path.as_uri())
        assert "violation" in page.locator(".verdict").inner_text()
        assert page.locator("#feature-income svg rect.current").count() > 0
        assert "baseline_drift_check" in page.locator("table").first.inner_text()
        page.screenshot(path=artifacts / "report.png", full_page=True)
    finally:
        context.close()
    assert requested == [path.as_uri()]


def test_phone_layout_and_keyboard_navigation(seeded: Any, browser: Any, artifacts: Path) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    try:
        _go(page, seeded.url + "/", "table.models")
        # Nothing wider than the phone: wide tables scroll inside their own box.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390
        page.screenshot(path=artifacts / "overview-phone.png", full_page=True)
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Skip to content"
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
        # Tab to the credit link and follow it with the keyboard alone.
        for _ in range(30):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.dataset.model") == "credit":
                break
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline != "none"
        page.keyboard.press("Enter")
        page.wait_for_selector("[data-page=model]")
        assert re.search(r"#/models/credit$", page.url)
        page.wait_for_selector("table.features")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=artifacts / "model-phone.png", full_page=True)
    finally:
        context.close()
