"""End to end: `purpbench leaderboard` served for real, driven in headless Chromium.

Clicks through every view, checks what a user sees against the Parquet files, checks that a
model answer carrying HTML and script stays text, and saves one screenshot per view under
$PURPBENCH_TEST_ARTIFACTS/leaderboard/ (default test-artifacts/leaderboard/).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import leaderboard_fixtures as lbf
import pandas as pd
import pytest
from conftest import free_port

# session fixtures shared by the leaderboard tests (real runs, made once)
fixture_runs = lbf.fixture_runs
broken_results = lbf.broken_results
REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
VIEWS = [
    "Leaderboard", "Safety vs utility", "Benchmark detail", "Sample browser",
    "Compare two runs", "Published reference rows",
]  # fmt: skip


def artifacts() -> Path:
    base = Path(os.environ.get("PURPBENCH_TEST_ARTIFACTS", REPO / "test-artifacts"))
    target = base / "leaderboard"
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
def server(broken_results) -> Iterator[tuple[str, Path]]:
    root, _ = broken_results
    port = free_port()
    log = artifacts() / "server.log"
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


def headline(run: Path, benchmark: str, metric: str) -> str:
    frame = pd.read_parquet(run / "summary")
    row = frame[(frame.benchmark == benchmark) & (frame.metric == metric) & (frame.slice == "")]
    return f"{row['value'].iloc[0] * 100:.1f}"


def test_every_view_in_chromium(server, browser_path, fixture_runs):
    from playwright.sync_api import expect, sync_playwright

    url, _ = server
    expect.set_options(timeout=30_000)  # the machine may be busy: wait, but not forever
    out = artifacts()
    guard = fixture_runs.runs["guard-coder"]
    loose = fixture_runs.runs["loose-coder"]
    dialogs: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=browser_path, headless=True)
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
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
            page.set_viewport_size({"width": 1500, "height": 3200})
            page.wait_for_timeout(1000)
            page.screenshot(path=str(out / f"{name}.png"))
            page.set_viewport_size({"width": 1500, "height": 1100})

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
        page.locator("[data-testid=stDataFrame] [role=gridcell]").first.wait_for(state="attached")
        shown = cells()
        assert any(c.startswith("guard-coder · replay · ") for c in shown), shown
        assert any(c.startswith("loose-coder · replay · ") for c in shown), shown
        first = headline(loose, "cse-instruct", "% secure")
        assert any(c.startswith(f"{first} ± [") for c in shown), (first, shown)
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
        expect(page.get_by_text("Only one analyzer voted", exact=False)).to_be_visible()
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

        # 5. compare two runs (guard-coder is the base, loose-coder the candidate)
        open_view("Compare two runs")
        expect(page.get_by_role("heading", name="Samples that flipped")).to_be_visible()
        grid = page.locator("[data-testid=stDataFrame] [role=gridcell]")
        grid.filter(has_text="HumanEval/1").first.wait_for(state="attached")
        shown = cells()
        assert "humaneval-plus" in shown and "pass@1 (base)" in shown, shown
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
    assert not dialogs, dialogs
    assert guard.exists()
