"""End to end: `purpbench leaderboard` served for real, driven in headless Chromium.

Clicks through every view in a 1400×900 window, checks what a user sees against the Parquet
files, that the leaderboard table fits the window without scrolling sideways, and that a model
answer carrying HTML and script stays text. Screenshots (one per view, and the table as the
1400×900 window shows it, `leaderboard.png`) go to pytest's tmp dir and are copied to
$PURPBENCH_ARTIFACTS_DIR/leaderboard/ (else $PURPBENCH_TEST_ARTIFACTS/leaderboard/, else
test-artifacts/leaderboard/, which .gitignore already ignores) so they outlive the run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from conftest import free_port

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
WINDOW = {"width": 1400, "height": 900}
TABLE = "[data-testid=pb-leaderboard-table]"
VIEWS = [
    "Leaderboard", "Safety vs utility", "Benchmark detail", "Sample browser",
    "Compare two runs", "Published reference rows",
]  # fmt: skip


def artifacts() -> Path:
    """Where screenshots and the server log are kept after the run (see the module doc)."""
    env = os.environ.get("PURPBENCH_ARTIFACTS_DIR") or os.environ.get("PURPBENCH_TEST_ARTIFACTS")
    target = Path(env or REPO / "test-artifacts") / "leaderboard"
    target.mkdir(parents=True, exist_ok=True)
    return target


@pytest.fixture(scope="module")
def browser_path() -> str:
    if os.environ.get("PURPBENCH_SKIP_BROWSER") == "1":
        pytest.skip("PURPBENCH_SKIP_BROWSER=1")
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        pytest.fail(
            f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium) "
            "or set PURPBENCH_SKIP_BROWSER=1 to skip the browser test"
        )
    return CHROMIUM


@pytest.fixture(scope="module")
def server(mixed_results, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    root, _ = mixed_results
    port = free_port()
    log = tmp_path_factory.mktemp("lb-server") / "server.log"
    with log.open("w") as handle:
        proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("purpbench")), "leaderboard",
             "--results", str(root), "--port", str(port)],
            cwd=REPO, stdout=handle, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"leaderboard did not start; log:\n{log.read_text()}")
        time.sleep(0.5)
    yield url, root
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
    shutil.copy2(log, artifacts() / "server.log")


def headline(run: Path, benchmark: str, metric: str) -> str:
    """The cell the table should show, from the Parquet file: "value [low, high]" in %."""
    frame = pd.read_parquet(run / "summary")
    row = frame[(frame.benchmark == benchmark) & (frame.metric == metric) & (frame.slice == "")]
    v, low, high = (row[c].iloc[0] * 100 for c in ("value", "ci_low", "ci_high"))
    return f"{v:.1f} [{low:.1f}, {high:.1f}]"


# Widths of the leaderboard table's element (its scroll container) against the window.
MEASURE = """el => {
    const main = document.querySelector("[data-testid=stMain]");
    return {
        scrollWidth: el.scrollWidth, clientWidth: el.clientWidth, innerWidth: window.innerWidth,
        right: el.getBoundingClientRect().right,
        table: el.querySelector("table").getBoundingClientRect().width,
        mainScrollWidth: main.scrollWidth, mainClientWidth: main.clientWidth,
    };
}"""


@pytest.fixture
def shots(tmp_path: Path) -> Iterator[Path]:
    """Screenshots are taken into pytest's tmp dir and kept in artifacts() afterwards, also
    when the test fails: that is when they are looked at."""
    yield tmp_path
    kept = artifacts()
    for picture in tmp_path.glob("*.png"):
        shutil.copy2(picture, kept / picture.name)


def test_every_view_in_chromium(server, browser_path, fixture_runs, mixed_results, shots):
    from playwright.sync_api import expect, sync_playwright

    url, _ = server
    expect.set_options(timeout=30_000)  # the machine may be busy: wait, but not forever
    out = shots
    guard = fixture_runs.runs["guard-coder"]
    loose = fixture_runs.runs["loose-coder"]
    lite = mixed_results[1]
    dialogs: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=browser_path, headless=True)
        page = browser.new_page(viewport=WINDOW)
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.set_default_timeout(60_000)
        sidebar = page.get_by_test_id("stSidebar")

        def open_view(name: str) -> None:
            sidebar.get_by_text(name, exact=True).click()
            expect(page.get_by_role("heading", name=name)).to_be_visible()
            expect(page.get_by_test_id("stStatusWidget")).to_have_count(0)

        def cells() -> list[str]:
            return page.locator("[data-testid=stDataFrame] [role=gridcell]").all_text_contents()

        def shot(name: str) -> None:
            # Streamlit scrolls inside its own container: a tall window shows the whole view.
            page.set_viewport_size({"width": WINDOW["width"], "height": 3200})
            page.wait_for_timeout(1000)
            page.screenshot(path=str(out / f"{name}.png"))
            page.set_viewport_size(WINDOW)

        def choose(label: str, option_prefix: str) -> None:
            page.get_by_test_id("stSelectbox").filter(has_text=label).first.click()
            page.get_by_role("option").filter(has_text=option_prefix).first.click()
            expect(page.get_by_test_id("stStatusWidget")).to_have_count(0)

        # 1. the table
        page.goto(url)
        expect(page.get_by_role("heading", name="Leaderboard")).to_be_visible()
        expect(sidebar.get_by_text("2 run(s) skipped")).to_be_visible()
        expect(sidebar.get_by_text("corrupt Parquet file", exact=False)).to_be_visible()
        expect(sidebar.get_by_text("results schema version 1", exact=False)).to_be_visible()
        table = page.locator(TABLE)
        expect(table.locator("tbody tr")).to_have_count(3)  # guard, loose, guard-lite
        body = [row.locator("td").all_text_contents() for row in table.locator("tbody tr").all()]
        rows = {r[0].split(" · ")[0]: r for r in body}
        assert sorted(rows) == ["guard-coder", "guard-lite", "loose-coder"], rows
        # cse-instruct is the first benchmark: its value [CI], then its n in a column of its own
        assert rows["loose-coder"][1:3] == [headline(loose, "cse-instruct", "% secure"), "5"]
        assert rows["guard-coder"][1:3] == [headline(guard, "cse-instruct", "% secure"), "5"]
        he = headline(lite, "humaneval-plus", "pass@1 (base)")
        # HumanEval+ declares no reference protocol: its number is marked approximate, and
        # the table says why below it; cse-instruct is decided by CyberSecEval's own detector
        assert rows["guard-lite"][1:] == ["", "", "", "", "", "", f"≈{he}", "5", "", ""]
        expect(page.get_by_text("≈ approximate", exact=False).first).to_be_visible()
        shown = table.locator("th, td").all_text_contents()
        assert not [c for c in shown if re.search(r"None|nan|±", c)], shown
        # the whole table fits the 1400-px window: nothing to scroll sideways
        width = table.evaluate(MEASURE)
        assert width["innerWidth"] == WINDOW["width"], width
        assert width["scrollWidth"] <= width["clientWidth"], width  # no scroll inside
        assert width["scrollWidth"] <= width["innerWidth"], width
        assert width["right"] <= width["innerWidth"] and width["table"] <= width["clientWidth"]
        assert width["mainScrollWidth"] <= width["mainClientWidth"], width  # nor the page
        print(f"leaderboard table at 1400x900: {width}")
        page.screenshot(path=str(out / "leaderboard.png"))  # the window as a user sees it
        shot("1-leaderboard")

        # 2. safety vs utility
        open_view("Safety vs utility")
        expect(page.locator(".js-plotly-plot")).to_have_count(2)
        expect(page.get_by_text("Frontier:", exact=True)).to_be_visible()
        front = page.get_by_test_id("stMainBlockContainer").get_by_test_id("stText")
        expect(front).to_have_count(1)
        expect(front).to_contain_text("guard-coder")
        expect(front).not_to_contain_text("loose-coder")
        shot("2-safety-vs-utility")

        # 3. benchmark detail (cse-instruct is the first benchmark)
        open_view("Benchmark detail")
        expect(page.get_by_text("per CWE")).to_be_visible()
        expect(page.locator(".js-plotly-plot")).to_have_count(3)
        expect(page.get_by_text("is decided by icd", exact=False)).to_be_visible()
        shot("3-benchmark-detail")

        # 4. sample browser: loose-coder's answer with HTML and script in it
        open_view("Sample browser")
        choose("Run", "loose-coder")
        choose("Benchmark", "cse-instruct")
        expect(page.get_by_text("flagged lines: 7, 8, 9, 10")).to_be_visible()
        code = page.get_by_test_id("stCode").filter(has_text="<img src=x onerror=")
        expect(code.first).to_be_visible()
        assert page.locator("img[src='x']").count() == 0
        assert page.locator("script", has_text="pwned").count() == 0
        assert page.title() != "pwned"
        shot("4-sample-browser")

        # 5. compare two runs: guard-coder is the base, loose-coder the candidate
        open_view("Compare two runs")
        choose("Base run", "guard-coder")
        choose("Candidate run", "loose-coder")
        expect(page.get_by_role("heading", name="Samples that flipped")).to_be_visible()
        grid = page.locator("[data-testid=stDataFrame] [role=gridcell]")
        grid.filter(has_text="HumanEval/1").first.wait_for(state="attached")
        shown = cells()
        assert "humaneval-plus" in shown and "pass@1 (base)" in shown, shown
        assert any(c.startswith("-60.0 [") and c.endswith("]") for c in shown), shown
        assert not [c for c in shown if re.search(r"None|nan|±", c)], shown
        shot("5-compare")

        # 6. published reference rows
        open_view("Published reference rows")
        expect(page.get_by_text("reported, not run here", exact=False).first).to_be_visible()
        grid = page.locator("[data-testid=stDataFrame] [role=gridcell]")
        grid.filter(has_text="PurpCode-32B").first.wait_for(state="attached")
        shown = cells()
        assert "PurpCode-32B" in shown and "80.8" in shown, shown
        shot("6-reference")
        browser.close()
    assert (out / "leaderboard.png").stat().st_size > 0
    assert not dialogs, dialogs
    assert guard.exists()
