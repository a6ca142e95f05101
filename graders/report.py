"""Reports: every `result.json` under some directories, as JSON, Markdown and one HTML file.

`generate(dirs, out)` finds the trial results (any layout: it walks the directories), checks
each against the result schema, scores them with `graders.scoring`, and writes

- `report.json`: the `Report` model below (versioned; documented in graders/README.md),
- `report.md`: tables a pull request or a paper draft can quote,
- `report.html`: one self-contained page (inline CSS and SVG, no script, nothing fetched) with
  the leaderboard and its error bars, a category x agent heatmap, the dimension breakdown,
  pass^k, infra errors and a drill-down of every task down to each check.

All text that comes from results is escaped (Jinja2 autoescaping in the HTML, entity and
backslash escaping in the Markdown): a task name or an observed value cannot inject markup.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from graders.models import SCHEMA_VERSION, TrialResult
from graders.scoring import (
    CI_METHOD,
    CONFIDENCE,
    AgentSummary,
    Estimate,
    InfraError,
    Leaderboard,
    ScoringError,
    TaskSummary,
    score_trial,
    summarize,
)

REPORT_SCHEMA_VERSION = 1
RESULT_FILE = "result.json"
# Directories that never hold trial results but can be large (a run's workspace and releases).
_PRUNE = {".git", "node_modules", ".venv", "venv", "__pycache__", ".mypy_cache", ".ruff_cache"}
_TEMPLATES = Path(__file__).parent / "templates"


class ReportError(Exception):
    """Bad input for a report: says which file and what to do."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.hint = hint


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReportTrial(TrialResult):
    """A scored trial as the report saw it, with the file it came from."""

    source: str = Field(description="the result.json this trial was read from")


class TaskRow(_Model):
    """One task with each agent's summary on it, agents in leaderboard order."""

    task: str
    category: str
    results: list[TaskSummary]


class QualityMethods(_Model):
    """How each agent's quality scores were reached (the report says when a fallback judged)."""

    agent: str
    llm: int = 0
    fallback: int = 0
    unknown: int = 0


class Report(_Model):
    schema_version: Literal[1] = REPORT_SCHEMA_VERSION
    generated_at: str
    generator: str
    inputs: list[str]
    confidence: float = CONFIDENCE
    ci_method: str = CI_METHOD
    categories: list[str]
    agents: list[AgentSummary]
    tasks: list[TaskRow]
    infra_errors: list[InfraError]
    quality_methods: list[QualityMethods]
    warnings: list[str]
    trials: list[ReportTrial]


class ReportFiles(_Model):
    json_path: Path
    markdown_path: Path
    html_path: Path


# --- input -------------------------------------------------------------------------------


def find_results(dirs: Sequence[Path]) -> list[Path]:
    """Every result.json under `dirs` (recursively, symlinked dirs not followed), each once."""
    found: dict[Path, Path] = {}
    for root in dirs:
        if not root.is_dir():
            raise ReportError(
                f"{root}: not a directory" if root.exists() else f"{root}: no such directory",
                "give the directories that hold the trials' result.json files",
            )
        for here, subdirs, files in os.walk(root):
            subdirs[:] = sorted(d for d in subdirs if d not in _PRUNE)
            if RESULT_FILE in files:
                path = Path(here) / RESULT_FILE
                found.setdefault(path.resolve(), path)
    return sorted(found.values())


def load_result(path: Path) -> TrialResult:
    """Read, check and score one result.json; `ReportError` names the file and the problem."""
    hint = "fix or remove the file, or pass --skip-invalid to leave it out with a warning"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ReportError(f"{path}: cannot read it ({exc.strerror or exc})", hint) from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ReportError(f"{path}: not valid JSON ({exc})", hint) from exc
    if not isinstance(data, dict):
        raise ReportError(f"{path}: not a trial result (a JSON object was expected)", hint)
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        said = "has no schema_version" if version is None else f"has schema_version {version!r}"
        raise ReportError(
            f"{path}: {said}; this prodbench reads trial results of schema_version "
            f"{SCHEMA_VERSION}",
            "use the prodbench that wrote it, or pass --skip-invalid to leave it out",
        )
    try:
        result = TrialResult.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        loc = ".".join(str(p) for p in first["loc"]) or "(top level)"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ReportError(f"{path}: not a valid trial result: {loc}: {first['msg']}{more}", hint)
    try:
        return score_trial(result)
    except ScoringError as exc:
        raise ReportError(f"{path}: {exc}", hint) from exc


def load_results(
    paths: Iterable[Path],
    skip_invalid: bool = False,
    warn: Callable[[str], None] | None = None,
) -> list[ReportTrial]:
    """Load every file; an invalid one raises, or is skipped with `warn(message)`."""
    trials: list[ReportTrial] = []
    where: dict[tuple[str, str, int], Path] = {}
    for path in paths:
        try:
            result = load_result(path)
        except ReportError as exc:
            if not skip_invalid:
                raise
            if warn:
                warn(f"skipped {exc}")
            continue
        key = (result.agent, result.task, result.trial)
        if key in where:
            raise ReportError(
                f"{where[key]} and {path} are both agent {result.agent!r}, task "
                f"{result.task!r}, run {result.trial}",
                "give each suite run's directory once, or move one of the two away",
            )
        where[key] = path
        trials.append(ReportTrial(**result.model_dump(), source=str(path)))
    return trials


# --- the report --------------------------------------------------------------------------


def build_report(
    trials: Sequence[ReportTrial],
    inputs: Sequence[str] = (),
    now: dt.datetime | None = None,
    confidence: float = CONFIDENCE,
) -> Report:
    """The whole report of already loaded trials (pure, given `now`)."""
    if not trials:
        raise ReportError("no trial results to report on")
    try:
        board: Leaderboard = summarize(trials, confidence)
    except ScoringError as exc:
        raise ReportError(str(exc)) from exc
    order = {a.agent: i for i, a in enumerate(board.agents)}
    per_task: dict[str, list[TaskSummary]] = defaultdict(list)
    for agent in board.agents:
        for ts in agent.tasks:
            per_task[ts.task].append(ts)
    methods: dict[str, Counter[str]] = defaultdict(Counter)
    for t in trials:
        if t.status == "scored":
            methods[t.agent][t.judge.method if t.judge else "unknown"] += 1
    from prodbench import __version__

    position = {info.task: i for i, info in enumerate(board.tasks)}
    now = now or dt.datetime.now(dt.UTC)
    return Report(
        generated_at=now.isoformat(timespec="seconds"),
        generator=f"prodbench {__version__}",
        inputs=list(inputs),
        confidence=board.confidence,
        ci_method=board.ci_method,
        categories=board.categories,
        agents=board.agents,
        tasks=[
            TaskRow(task=info.task, category=info.category, results=per_task[info.task])
            for info in board.tasks
        ],
        infra_errors=board.infra_errors,
        quality_methods=[
            QualityMethods(agent=a.agent, **methods.get(a.agent, {})) for a in board.agents
        ],
        warnings=board.warnings,
        trials=sorted(
            trials,
            key=lambda t: (order[t.agent], position[t.task], t.trial),
        ),
    )


def generate(
    dirs: Sequence[Path],
    out: Path | None = None,
    skip_invalid: bool = False,
    warn: Callable[[str], None] | None = None,
    now: dt.datetime | None = None,
) -> tuple[Report, ReportFiles]:
    """Find, load, score and write: what `prodbench report` does."""
    if not dirs:
        raise ReportError("no results directory given")
    paths = find_results(dirs)
    if not paths:
        raise ReportError(
            f"no {RESULT_FILE} under {', '.join(str(d) for d in dirs)}",
            "a graded trial writes result.json into its run directory",
        )
    trials = load_results(paths, skip_invalid=skip_invalid, warn=warn)
    if not trials:
        raise ReportError(f"every {RESULT_FILE} found was invalid ({len(paths)} skipped)")
    report = build_report(trials, inputs=[str(d) for d in dirs], now=now)
    return report, write_report(report, out if out is not None else dirs[0])


def write_report(report: Report, out: Path) -> ReportFiles:
    out.mkdir(parents=True, exist_ok=True)
    files = ReportFiles(
        json_path=out / "report.json",
        markdown_path=out / "report.md",
        html_path=out / "report.html",
    )
    _write(files.json_path, report.model_dump_json(indent=2) + "\n")
    _write(files.markdown_path, render_markdown(report))
    _write(files.html_path, render_html(report))
    return files


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


# --- formatting shared by Markdown and HTML ----------------------------------------------


def fmt_num(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def fmt_pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


def fmt_est(est: Estimate, percent: bool = False) -> str:
    """`72.4 [60.1, 84.7]`, or `72.4 (1 task, no CI)`, or `—`."""
    if est.mean is None:
        return "—"
    f = fmt_pct if percent else fmt_num
    if est.ci_low is None or est.ci_high is None:
        return f"{f(est.mean)} (1 task, no CI)"
    return f"{f(est.mean)} [{f(est.ci_low)}, {f(est.ci_high)}]"


def show_value(value: Any, limit: int = 4000) -> str:
    """An expected or observed value as text (JSON unless a string), cut at `limit`."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + f"… ({len(text) - limit} more chars)"


def _quality_note(report: Report) -> str | None:
    fallback = sum(m.fallback for m in report.quality_methods)
    unknown = sum(m.unknown for m in report.quality_methods)
    total = fallback + unknown + sum(m.llm for m in report.quality_methods)
    parts = []
    if fallback:
        parts.append(
            f"{fallback} of {total} scored trials had their quality (Q) scored by the "
            "deterministic fallback (no LLM judge configured)"
        )
    if unknown:
        parts.append(f"{unknown} of {total} scored trials do not say how Q was judged")
    return "; ".join(parts) + "." if parts else None


# --- Markdown ----------------------------------------------------------------------------

_MD_SPECIAL = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        "|": "\\|",
        "\\": "\\\\",
        "`": "\\`",
        "*": "\\*",
        "_": "\\_",
        "[": "\\[",
        "]": "\\]",
        "#": "\\#",
        "\n": " ",
        "\r": " ",
    }
)


def md(text: Any) -> str:
    """Text safe in a Markdown table cell: no markup, no HTML, no line breaks."""
    return str(text).translate(_MD_SPECIAL)


def _md_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines + [""]


def render_markdown(report: Report) -> str:
    pct = round(100 * report.confidence)
    k_max = max((len(a.pass_hat_k) for a in report.agents), default=0)
    lines = [
        "# prodbench report",
        "",
        (
            f"Generated {md(report.generated_at)} by {md(report.generator)} from "
            f"{', '.join(md(i) for i in report.inputs) or 'given results'}: "
            f"{_plural(len(report.agents), 'agent')}, {_plural(len(report.tasks), 'task')}, "
            f"{_plural(sum(a.n_trials for a in report.agents), 'scored trial')}, "
            f"{_plural(len(report.infra_errors), 'infra error')}."
        ),
        "",
        (
            "Composite = 60·F + 30·D + 10·Q (0–100); a trial passes with full marks on F and "
            f"D. Intervals are {pct}% CIs: {md(report.ci_method)}. Infra errors are not agent "
            "failures: they are counted apart and left out of every mean."
        ),
        "",
    ]
    note = _quality_note(report)
    if note:
        lines += [f"> {md(note)}", ""]
    if report.warnings:
        lines += ["**Warnings**", ""] + [f"- {md(w)}" for w in report.warnings] + [""]

    lines += ["## Leaderboard", ""]
    lines += _md_table(
        ["#", "agent", f"composite ({pct}% CI)", "pass@1", "F", "D", "Q", "tasks", "trials"]
        + ["infra errors"],
        (
            [
                str(i),
                md(a.agent),
                fmt_est(a.composite),
                fmt_est(a.pass_at_1, percent=True),
                fmt_pct(a.feature.mean),
                fmt_pct(a.devops.mean),
                fmt_pct(a.quality.mean),
                str(a.n_tasks),
                str(a.n_trials),
                str(a.n_infra_errors),
            ]
            for i, a in enumerate(report.agents, 1)
        ),
    )
    if k_max:
        lines += ["### pass^k", ""]
        lines += ["Probability that k runs of a task all pass (tau-bench), mean over tasks.", ""]
        lines += _md_table(
            ["agent"] + [f"k={k}" for k in range(1, k_max + 1)],
            (
                [md(a.agent)]
                + [fmt_pct(p.value) for p in a.pass_hat_k]
                + ["—"] * (k_max - len(a.pass_hat_k))
                for a in report.agents
            ),
        )

    lines += ["## By category", "", f"Mean composite [{pct}% CI] (tasks averaged).", ""]
    lines += _md_table(
        ["category"] + [md(a.agent) for a in report.agents],
        (
            [md(category)] + [_md_category_cell(a, category) for a in report.agents]
            for category in report.categories
        ),
    )

    lines += ["## By dimension", "", f"Mean over tasks [{pct}% CI].", ""]
    lines += _md_table(
        ["agent", "feature (60%)", "devops (30%)", "quality (10%)"],
        (
            [
                md(a.agent),
                fmt_est(a.feature, percent=True),
                fmt_est(a.devops, percent=True),
                fmt_est(a.quality, percent=True),
            ]
            for a in report.agents
        ),
    )

    lines += ["## Infra errors", ""]
    if report.infra_errors:
        lines += _md_table(
            ["agent", "task", "run", "error"],
            (
                [md(e.agent), md(e.task), str(e.trial), md(show_value(e.error or "", 300))]
                for e in report.infra_errors
            ),
        )
    else:
        lines += ["None.", ""]

    lines += ["## Tasks", "", "Mean composite (passed runs / scored runs) per agent.", ""]
    lines += _md_table(
        ["task", "category"] + [md(a.agent) for a in report.agents],
        (
            [md(row.task), md(row.category)]
            + [_md_task_cell(row.results, a.agent) for a in report.agents]
            for row in report.tasks
        ),
    )
    failed = [
        (t, c)
        for t in report.trials
        if t.status == "scored"
        for c in t.checks
        if not c.passed and c.weight > 0
    ]
    lines += ["### Failed checks", ""]
    if failed:
        lines += _md_table(
            ["task", "agent", "run", "check", "dimension", "score", "expected", "observed"],
            (
                [
                    md(t.task),
                    md(t.agent),
                    str(t.trial),
                    md(c.name) + (" (penalty)" if c.penalty else ""),
                    c.dimension,
                    f"{c.score:.2f}",
                    md(show_value(c.expected, 200)),
                    md(show_value(c.observed, 200)),
                ]
                for t, c in failed
            ),
        )
    else:
        lines += ["None: every check of every scored trial passed.", ""]
    return "\n".join(lines).rstrip() + "\n"


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _md_category_cell(agent: AgentSummary, category: str) -> str:
    for c in agent.categories:
        if c.category == category and c.composite.mean is not None:
            if c.composite.ci_low is None:
                return f"{fmt_num(c.composite.mean)} (1 task)"
            return f"{fmt_est(c.composite)} ({c.n_tasks} tasks)"
    return "—"


def _md_task_cell(results: Sequence[TaskSummary], agent: str) -> str:
    for ts in results:
        if ts.agent == agent:
            infra = f", {ts.n_infra_errors} infra" if ts.n_infra_errors else ""
            if not ts.n_trials:
                return f"— (0 scored{infra})"
            return f"{fmt_num(ts.composite)} ({ts.n_passed}/{ts.n_trials}{infra})"
    return "not run"


# --- HTML --------------------------------------------------------------------------------

# Okabe-Ito: distinguishable with every common colour-vision deficiency (yellow left out:
# too little contrast on white).
AGENT_COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#E69F00", "#000000"]
_VIRIDIS = [
    (68, 1, 84),
    (71, 44, 122),
    (59, 81, 139),
    (44, 113, 142),
    (33, 144, 141),
    (39, 173, 129),
    (92, 200, 99),
    (170, 220, 50),
    (253, 231, 37),
]


def heat_colour(fraction: float) -> tuple[str, str]:
    """(fill, text colour) for a value in 0..1 on the viridis scale, text readable on it."""
    x = min(1.0, max(0.0, fraction)) * (len(_VIRIDIS) - 1)
    i = min(int(x), len(_VIRIDIS) - 2)
    a, b = _VIRIDIS[i], _VIRIDIS[i + 1]
    rgb = [round(a[j] + (b[j] - a[j]) * (x - i)) for j in range(3)]
    lum = [(c / 255) ** 2.2 for c in rgb]
    luminance = 0.2126 * lum[0] + 0.7152 * lum[1] + 0.0722 * lum[2]
    return "#{:02x}{:02x}{:02x}".format(*rgb), ("#111111" if luminance > 0.18 else "#ffffff")


def _agent_colours(report: Report) -> dict[str, str]:
    return {a.agent: AGENT_COLOURS[i % len(AGENT_COLOURS)] for i, a in enumerate(report.agents)}


def _short(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _ticks(top: float, step: float) -> list[float]:
    return [round(step * i, 6) for i in range(math.floor(top / step + 1e-9) + 1)]


def _leaderboard_chart(report: Report, colours: dict[str, str]) -> dict[str, Any]:
    left, right, top, row, plot_w = 190, 120, 16, 38, 520
    scale = plot_w / 100.0
    rows = []
    for i, a in enumerate(report.agents):
        y = top + i * row
        mean = a.composite.mean
        rows.append(
            {
                "agent": a.agent,
                "label": _short(a.agent),
                "colour": colours[a.agent],
                "y": y,
                "mid": y + row / 2,
                "bar_y": y + 8,
                "bar_h": row - 16,
                "width": 0 if mean is None else round(mean * scale, 2),
                "mean": mean,
                "lo": None if a.composite.ci_low is None else round(a.composite.ci_low * scale, 2),
                "hi": None
                if a.composite.ci_high is None
                else round(a.composite.ci_high * scale, 2),
                "text": fmt_est(a.composite),
                "value": "no scored trial"
                if mean is None
                else fmt_num(mean)
                + (
                    f" ± {fmt_num(a.composite.half_width)}"
                    if a.composite.half_width is not None
                    else " (no CI)"
                ),
            }
        )
    plot_h = row * len(rows)
    return {
        "left": left,
        "top": top,
        "plot_w": plot_w,
        "plot_h": plot_h,
        "width": left + plot_w + right,
        "height": top + plot_h + 52,
        "rows": rows,
        "ticks": [{"x": round(t * scale, 2), "label": f"{t:g}"} for t in _ticks(100, 20)],
    }


def _dimension_chart(report: Report, colours: dict[str, str]) -> list[dict[str, Any]]:
    """Three small panels (feature, devops, quality), one bar per agent, 0..100%."""
    panels = []
    row, plot_w, left, top = 30, 180, 140, 10
    scale = plot_w / 1.0
    for dim, title in (
        ("feature", "Feature correctness · 60%"),
        ("devops", "Deployment & devops · 30%"),
        ("quality", "Engineering quality · 10%"),
    ):
        rows = []
        for i, a in enumerate(report.agents):
            est: Estimate = getattr(a, dim)
            y = top + i * row
            rows.append(
                {
                    "agent": a.agent,
                    "label": _short(a.agent, 18),
                    "colour": colours[a.agent],
                    "y": y,
                    "mid": y + row / 2,
                    "bar_y": y + 6,
                    "bar_h": row - 12,
                    "width": 0 if est.mean is None else round(est.mean * scale, 2),
                    "lo": None if est.ci_low is None else round(est.ci_low * scale, 2),
                    "hi": None if est.ci_high is None else round(est.ci_high * scale, 2),
                    "mean": est.mean,
                    "value": fmt_pct(est.mean),
                    "text": fmt_est(est, percent=True),
                }
            )
        plot_h = row * len(rows)
        panels.append(
            {
                "dimension": dim,
                "title": title,
                "left": left,
                "top": top,
                "plot_w": plot_w,
                "plot_h": plot_h,
                "width": left + plot_w + 48,
                "height": top + plot_h + 40,
                "rows": rows,
                "ticks": [
                    {"x": round(t * scale, 2), "label": f"{100 * t:.0f}%"}
                    for t in _ticks(1.0, 0.25)
                ],
            }
        )
    return panels


def _heatmap(report: Report) -> dict[str, Any]:
    left, top, cell_w, cell_h = 170, 64, 124, 46
    cols = [
        {
            "agent": a.agent,
            "label": _short(a.agent, 16),
            "x": left + i * cell_w + cell_w / 2,
        }
        for i, a in enumerate(report.agents)
    ]
    cells = []
    for r, category in enumerate(report.categories):
        for c, a in enumerate(report.agents):
            summary = next((s for s in a.categories if s.category == category), None)
            mean = summary.composite.mean if summary else None
            fill, ink = heat_colour(mean / 100.0) if mean is not None else ("#eef0f3", "#555b66")
            cells.append(
                {
                    "category": category,
                    "agent": a.agent,
                    "x": left + c * cell_w,
                    "y": top + r * cell_h,
                    "fill": fill,
                    "ink": ink,
                    "mean": mean,
                    "value": fmt_num(mean) if mean is not None else "—",
                    "sub": (
                        f"{summary.n_tasks} task{'s' if summary.n_tasks != 1 else ''}"
                        if summary and mean is not None
                        else "no scored trial"
                        if summary
                        else "not run"
                    ),
                    "title": f"{category} · {a.agent}: "
                    + (fmt_est(summary.composite) if summary else "not run"),
                }
            )
    rows = [
        {"category": category, "y": top + r * cell_h + cell_h / 2}
        for r, category in enumerate(report.categories)
    ]
    grid_w = cell_w * len(report.agents)
    grid_h = cell_h * len(report.categories)
    legend_y = top + grid_h + 26
    stops = [
        {
            "offset": f"{100 * i / (len(_VIRIDIS) - 1):.1f}%",
            "colour": "#{:02x}{:02x}{:02x}".format(*c),
        }
        for i, c in enumerate(_VIRIDIS)
    ]
    return {
        "left": left,
        "top": top,
        "cell_w": cell_w,
        "cell_h": cell_h,
        "cols": cols,
        "rows": rows,
        "cells": cells,
        "width": max(left + grid_w + 20, left + 260),
        "height": legend_y + 44,
        "legend_y": legend_y,
        "legend_w": 240,
        "stops": stops,
    }


def _pass_hat_chart(report: Report, colours: dict[str, str]) -> dict[str, Any] | None:
    k_max = max((len(a.pass_hat_k) for a in report.agents), default=0)
    if not k_max:
        return None
    left, top, plot_w, plot_h = 56, 16, 420, 200
    step = plot_w / max(1, k_max - 1) if k_max > 1 else 0

    def xpos(k: int) -> float:
        return round((k - 1) * step if k_max > 1 else plot_w / 2, 2)

    lines = []
    for a in report.agents:
        if not a.pass_hat_k:
            continue
        points = [
            {"k": p.k, "x": xpos(p.k), "y": round(plot_h * (1 - p.value), 2), "value": p.value}
            for p in a.pass_hat_k
        ]
        lines.append(
            {
                "agent": a.agent,
                "colour": colours[a.agent],
                "points": points,
                "path": " ".join(f"{p['x']},{p['y']}" for p in points),
            }
        )
    return {
        "left": left,
        "top": top,
        "plot_w": plot_w,
        "plot_h": plot_h,
        "width": left + plot_w + 40,
        "height": top + plot_h + 52,
        "lines": lines,
        "xticks": [{"x": xpos(k), "label": str(k)} for k in range(1, k_max + 1)],
        "yticks": [
            {"y": round(plot_h * (1 - t), 2), "label": f"{100 * t:.0f}%"} for t in _ticks(1.0, 0.25)
        ],
    }


def _drilldown(report: Report) -> list[dict[str, Any]]:
    by_task: dict[str, list[ReportTrial]] = defaultdict(list)
    for t in report.trials:
        by_task[t.task].append(t)
    tasks = []
    for i, row in enumerate(report.tasks):
        agents = []
        for ts in row.results:
            trials = [t for t in by_task[row.task] if t.agent == ts.agent]
            agents.append({"summary": ts, "trials": trials})
        tasks.append(
            {"anchor": f"task-{i}", "task": row.task, "category": row.category, "agents": agents}
        )
    return tasks


def render_html(report: Report) -> str:
    env = Environment(
        loader=FileSystemLoader(_TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(num=fmt_num, pct=fmt_pct, est=fmt_est, show=show_value)
    colours = _agent_colours(report)
    return env.get_template("report.html.j2").render(
        report=report,
        colours=colours,
        pct=round(100 * report.confidence),
        quality_note=_quality_note(report),
        leaderboard=_leaderboard_chart(report, colours),
        dimensions=_dimension_chart(report, colours),
        heatmap=_heatmap(report),
        pass_hat=_pass_hat_chart(report, colours),
        k_max=max((len(a.pass_hat_k) for a in report.agents), default=0),
        drilldown=_drilldown(report),
        n_scored=sum(a.n_trials for a in report.agents),
    )
