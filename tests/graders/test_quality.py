"""The quality grader: signals from a real git repository and call log, and the LLM judge
against a fake OpenAI-compatible server speaking the real protocol over loopback HTTP."""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from graders import quality, signals
from graders.models import Check, Judge, TrialResult
from graders.quality import (
    PENALTY_WEIGHTS,
    RUBRIC_WEIGHTS,
    JudgeConfig,
    fallback_quality,
    grade_quality,
    parse_rubric,
)
from graders.signals import (
    CallsSummary,
    Commit,
    Finding,
    SignalError,
    Signals,
    cap_diff,
    collect_signals,
    summarize_calls,
)
from mcp_servers.calllog import CallLog, CallRecord
from tests.graders.fake_openai import FakeOpenAI, Reply

TASK = "Add a /healthz endpoint to the api service and deploy it."

BASE_APP = """\
import os


def cwd():
    return eval("os.getcwd()")
"""

# The agent's version adds lines above the old code, moving its eval (B307) down: a moved
# finding is not an added one.
HEAD_APP = """\
\"\"\"The api's helpers.\"\"\"

import os
import subprocess
import sys


def cwd():
    return eval("os.getcwd()")


def run(cmd, seen=[]):
    seen.append(cmd)
    subprocess.call(cmd, shell=True)
    return eval(cmd)
"""

NEW_MODULE = """\
import json


def health():
    return {"ok": True}
"""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> dict:
    """A repo with a base commit and two agent commits, and a call log with repeated calls."""
    root = tmp_path_factory.mktemp("quality")
    repo = root / "workspace"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "agent@acme.test")
    git(repo, "config", "user.name", "Agent")
    git(repo, "config", "commit.gpgsign", "false")
    (repo / "api").mkdir()
    (repo / "api" / "app.py").write_text(BASE_APP)
    (repo / "api" / "old_name.py").write_text("VALUE = eval('1')\n")
    (repo / "README.md").write_text("# api\n")
    base = commit(repo, "Initial api")
    (repo / "api" / "app.py").write_text(HEAD_APP)
    commit(repo, "Run shell commands from the api helpers\n\nNeeded by the health probe.")
    (repo / "api" / "health.py").write_text(NEW_MODULE)
    git(repo, "mv", "api/old_name.py", "api/new_name.py")
    head = commit(repo, "wip")

    calls = root / "calls.jsonl"
    log = CallLog(calls)

    def record(server, tool, arguments, error=None):
        log.append_sync(
            CallRecord(
                time="2026-01-01T10:00:00.000Z",
                server=server,
                tool=tool,
                arguments=arguments,
                duration_ms=3.0,
                error=error,
                result_bytes=0 if error else 120,
            )
        )

    record("linear", "get_issue", {"id": "ACME-1"})
    for _ in range(4):  # a loop: same arguments, keys in another order each time
        record("linear", "list_issues", {"query": "healthz", "limit": 5})
    for _ in range(6):  # following a deploy: polling, not a loop
        record("deploy", "deploy_status", {"deploy_id": "d-1"})
    record("linear", "list_issues", {"limit": 5, "query": "healthz"})
    for _ in range(3):  # the same failing call, three times
        record("sentry", "get_issue", {"issue_id": "404"}, error="issue not found")
    record("slack", "post_message", {"channel": "#deploys", "text": "shipping"})
    record("slack", "post_message", {"channel": "#deploys", "text": "shipping"})  # twice: fine
    with calls.open("a") as f:
        f.write("{not json\n")
    return {"repo": repo, "base": base, "head": head, "calls": calls}


@pytest.fixture(scope="module")
def collected(work) -> Signals:
    return collect_signals(work["repo"], work["base"], work["head"], work["calls"])


GOOD = {
    "commit_scope": 0.8,
    "maintainability": 0.6,
    "documentation": 0.5,
    "penalties": {"security": 0.1, "performance": 0.0, "unproductive_loops": 0.0},
    "rationale": "Focused change, but it shells out with user input.",
}


def config_for(fake: FakeOpenAI, **kw) -> JudgeConfig:
    return JudgeConfig(model=fake.model, base_url=fake.base_url, api_key=fake.api_key, **kw)


def expected_llm_q(rubric: dict, penalties: dict) -> float:
    q = sum(RUBRIC_WEIGHTS[k] * rubric[k] for k in RUBRIC_WEIGHTS)
    q -= sum(PENALTY_WEIGHTS[k] * penalties[k] for k in PENALTY_WEIGHTS)
    return min(1.0, max(0.0, q))


# --- signals -------------------------------------------------------------------------------


def test_signals_describe_the_change(work, collected):
    s = collected
    assert s.base == work["base"] and s.head == work["head"]
    assert [c.subject for c in s.commits] == ["Run shell commands from the api helpers", "wip"]
    assert s.commits[0].message.endswith("Needed by the health probe.")
    assert s.commit_count == 2
    # app.py: +12 -0 lines net of the shared ones, health.py +5, the rename 0/0.
    numstat = git(work["repo"], "diff", "--numstat", "-M", work["base"], work["head"])
    assert s.files_changed == len(numstat.splitlines()) == 3
    assert s.lines_added == sum(int(line.split()[0]) for line in numstat.splitlines())
    assert s.lines_removed == sum(int(line.split()[1]) for line in numstat.splitlines())
    assert s.python_files == ["api/app.py", "api/health.py", "api/new_name.py"]
    assert "subprocess.call(cmd, shell=True)" in s.diff and "+def health():" in s.diff
    assert not s.diff_truncated and s.diff_chars == len(s.diff)
    assert s.errors == []


def test_only_findings_the_change_added_count(collected):
    ruff = Counter(f.rule for f in collected.ruff_added)
    # sys unused (F401) in app.py, json unused (F401) in health.py, the mutable default (B006);
    # not the old code's findings, moved down by the new lines, nor the renamed file's.
    assert ruff == Counter({"F401": 2, "B006": 1}), collected.ruff_added
    assert {(f.path, f.message) for f in collected.ruff_added if f.rule == "F401"} == {
        ("api/app.py", "`sys` imported but unused"),
        ("api/health.py", "`json` imported but unused"),
    }
    bandit = Counter((f.rule, f.severity) for f in collected.bandit_added)
    # shell=True (B602 HIGH), one more eval (B307 MEDIUM: two at head, one at base), and
    # importing subprocess (B404 LOW); the renamed file's eval is not new.
    assert bandit == Counter({("B602", "HIGH"): 1, ("B307", "MEDIUM"): 1, ("B404", "LOW"): 1})
    assert collected.bandit_by_severity() == {"HIGH": 1, "MEDIUM": 1, "LOW": 1}
    assert all(f.path == "api/app.py" for f in collected.bandit_added)


def test_findings_match_by_file_rule_and_message_not_by_line_or_numbers():
    def ruff(rule: str, message: str, line: int, path: str = "a.py") -> Finding:
        return Finding(tool="ruff", path=path, line=line, rule=rule, message=message)

    before = [ruff("C901", "`f` is too complex (11 > 10)", 3), ruff("F401", "`os` unused", 1)]
    after = [
        ruff("C901", "`f` is too complex (12 > 10)", 30),
        ruff("F401", "`os` unused", 1),
        ruff("F401", "`os` unused", 1, path="b.py"),
        ruff("F401", "`os` unused", 2),  # a second one in the same file is new
    ]
    added = signals.added_findings(before, after)
    assert [(f.path, f.line) for f in added] == [("b.py", 1), ("a.py", 2)]


def test_calls_summary_counts_repeated_identical_calls(collected):
    calls = collected.calls
    assert calls.found and calls.total == 17 and calls.errors == 3 and calls.invalid_lines == 1
    assert calls.by_tool["linear.list_issues"] == {"calls": 5, "errors": 0}
    assert calls.by_tool["deploy.deploy_status"] == {"calls": 6, "errors": 0}
    assert calls.by_tool["sentry.get_issue"] == {"calls": 3, "errors": 3}
    repeated = {(r.server, r.tool): (r.count, r.failed) for r in calls.repeated}
    assert repeated == {("linear", "list_issues"): (5, 0), ("sentry", "get_issue"): (3, 3)}
    assert calls.redundant_calls == 4 + 2  # calls after the first of each repeated group
    assert calls.redundant_failed_calls == 2  # failures after a group's first failure
    assert len(calls.error_calls) == 3 and "issue not found" in calls.error_calls[0]
    assert calls.first_calls[0].endswith('linear.get_issue({"id":"ACME-1"}) -> ok')
    rendered = signals.render_calls(calls)
    assert "linear.list_issues" in rendered and "x5" in rendered


def test_no_call_log_means_no_calls(tmp_path):
    summary = summarize_calls(tmp_path / "calls.jsonl")
    assert summary == CallsSummary(path=str(tmp_path / "calls.jsonl"))
    assert "no MCP tool call" in signals.render_calls(summary)


def test_a_bad_commit_or_repository_is_a_clear_error(work, tmp_path):
    with pytest.raises(SignalError, match="'nope' is not a commit"):
        collect_signals(work["repo"], "nope", work["head"], None)
    with pytest.raises(SignalError, match="not a git repository"):
        collect_signals(tmp_path, "HEAD~1", "HEAD", None)


def test_a_missing_linter_is_reported_not_raised(work, monkeypatch):
    def missing():
        raise SignalError("ruff is not installed: `pip install ruff` (a prodbench dependency)")

    monkeypatch.setattr(signals, "ruff_command", missing)
    s = collect_signals(work["repo"], work["base"], work["head"], work["calls"])
    assert s.ruff_added is None and s.bandit_added is not None
    assert any("ruff is not installed" in e for e in s.errors)
    q, judge, checks = grade_quality(work["repo"], "", "", None, TASK, None, signals=s)
    ruff_check = next(c for c in checks if c.name == "ruff findings added")
    assert ruff_check.observed is None and "not measured" in ruff_check.detail
    assert judge.penalties["ruff"] == 0 and 0 <= q <= 1


def test_cap_diff_keeps_a_fair_share_of_every_file():
    small = "diff --git a/small.py b/small.py\n+++ b/small.py\n+x = 1\n"
    big = "diff --git a/big.txt b/big.txt\n+++ b/big.txt\n" + "".join(
        f"+line {i}\n" for i in range(20_000)
    )
    diff = " stat | 2 +\n\n" + big + small
    capped, truncated = cap_diff(diff, 5_000)
    assert truncated and len(capped) <= 5_000
    assert capped.startswith("[diff truncated:") and small in capped
    assert "more lines of this file's diff left out" in capped and "+line 0\n" in capped
    assert cap_diff(small, 5_000) == (small, False)


# --- the deterministic fallback ---------------------------------------------------------------


def test_no_model_scores_with_the_fallback_and_says_so(work, collected):
    q, judge, checks = grade_quality(
        work["repo"], work["base"], work["head"], work["calls"], TASK, None
    )
    assert judge.method == "fallback" and judge.error is None and judge.model is None
    # ruff 3 x 0.05, bandit 0.30 + 0.15 + 0.01, one poor message ("wip"), loops 6 x 0.01 + 2 x 0.04
    assert judge.penalties == {
        "ruff": 0.15,
        "bandit": 0.46,
        "diff_size": 0.0,
        "commit_messages": 0.05,
        "repeated_calls": 0.14,
    }
    assert q == pytest.approx(1 - 0.15 - 0.46 - 0.05 - 0.14)
    assert judge.signals["q"] == q and judge.signals["bandit_by_severity"]["HIGH"] == 1
    assert "deterministic" in judge.rationale
    # The result round-trips through the shared schema.
    TrialResult(task="t", category="latency", agent="a", quality=q, checks=checks, judge=judge)


def test_signal_checks_say_what_was_expected_and_observed(collected):
    _, _, checks = grade_quality("", "", "", None, TASK, None, signals=collected)
    by_name = {c.name: c for c in checks}
    assert set(by_name) == {
        "ruff findings added",
        "bandit findings added",
        "diff size",
        "descriptive commit messages",
        "repeated identical MCP calls",
    }
    assert all(c.dimension == "quality" and c.weight == 0 and c.penalty for c in checks)
    ruff = by_name["ruff findings added"]
    assert (ruff.expected, ruff.observed) == (0, 3) and ruff.score == pytest.approx(0.5)
    assert "B006" in ruff.detail
    bandit = by_name["bandit findings added"]
    assert bandit.observed == {
        "total": 3,
        "HIGH": 1,
        "MEDIUM": 1,
        "LOW": 1,
    } and bandit.score == pytest.approx(0.08)
    assert by_name["descriptive commit messages"].observed == {"commits": 2, "poor": 1}
    assert "'wip'" in by_name["descriptive commit messages"].detail
    repeated = by_name["repeated identical MCP calls"]
    assert (repeated.expected, repeated.observed) == (0, 6)
    assert "sentry.get_issue" in repeated.detail
    assert by_name["diff size"].passed


def test_fallback_formula_on_clean_and_on_oversized_work():
    clean = Signals(
        base="a",
        head="b",
        commits=[Commit(sha="b", message="Add the health endpoint")],
        files_changed=2,
        lines_added=40,
        lines_removed=3,
        ruff_added=[],
        bandit_added=[],
    )
    judge = fallback_quality(clean)
    assert judge.method == "fallback" and judge.signals["q"] == 1.0
    big = clean.model_copy(update={"lines_added": 2500, "files_changed": 12})
    assert fallback_quality(big).signals["q"] == pytest.approx(0.9)
    huge = clean.model_copy(update={"files_changed": 81})
    assert fallback_quality(huge).penalties["diff_size"] == 0.2
    many = [Finding(tool="ruff", path="a.py", rule="F401", message=str(i)) for i in range(20)]
    assert fallback_quality(clean.model_copy(update={"ruff_added": many})).penalties["ruff"] == 0.3


def test_no_commit_scores_zero_without_asking_the_model(work):
    with FakeOpenAI(GOOD) as fake:
        q, judge, _ = grade_quality(
            work["repo"], work["base"], work["base"], work["calls"], TASK, config_for(fake)
        )
        assert fake.requests == []
    assert q == 0 and judge.method == "fallback" and "no commit" in judge.rationale
    # A task that expects no code change is judged on its calls alone.
    q, judge, _ = grade_quality(
        work["repo"],
        work["base"],
        work["base"],
        work["calls"],
        TASK,
        None,
        expect_code_change=False,
    )
    assert q == pytest.approx(1 - 0.14) and judge.penalties == {"repeated_calls": 0.14}


# --- the LLM judge against the fake server ----------------------------------------------------


def test_the_judge_scores_from_the_models_rubric(work, collected):
    with FakeOpenAI(GOOD) as fake:
        q, judge, checks = grade_quality(
            work["repo"], work["base"], work["head"], work["calls"], TASK, config_for(fake)
        )
    assert judge.method == "llm" and judge.error is None and judge.model == "fake-judge-1"
    assert judge.rubric == {"commit_scope": 0.8, "maintainability": 0.6, "documentation": 0.5}
    assert judge.rationale == GOOD["rationale"]
    # The signals' floors: a HIGH bandit finding lifts security to 0.8 whatever the model says;
    # 6 redundant calls, 2 of them retried failures, lift unproductive_loops to 0.28.
    assert judge.penalties == {"security": 0.8, "performance": 0.0, "unproductive_loops": 0.28}
    assert judge.signals["model_penalties"] == GOOD["penalties"]
    assert len(judge.signals["floors_applied"]) == 2
    assert judge.signals["judge"]["attempts"] == 1
    assert q == pytest.approx(expected_llm_q(GOOD, judge.penalties))
    assert len(checks) == 5

    [request] = fake.requests
    body = request["body"]
    assert request["headers"]["authorization"] == f"Bearer {fake.api_key}"
    assert body["model"] == "fake-judge-1" and body["temperature"] == 0
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"] == quality.RUBRIC_SCHEMA
    system, user = body["messages"]
    assert system["role"] == "system" and "commit_scope" in system["content"]
    assert user["role"] == "user"
    text = user["content"]
    assert TASK in text
    assert (
        "Run shell commands from the api helpers" in text and "Needed by the health probe" in text
    )
    assert "subprocess.call(cmd, shell=True)" in text and "diff --git a/api/app.py" in text
    assert "B602 [HIGH]" in text and "sentry.get_issue" in text and "x5" in text


def test_a_clean_rubric_without_floors_is_taken_as_given(collected):
    clean = collected.model_copy(
        update={"bandit_added": [], "ruff_added": [], "calls": CallsSummary()}
    )
    with FakeOpenAI(GOOD) as fake:
        q, judge, _ = grade_quality("", "", "", None, TASK, config_for(fake), signals=clean)
    assert judge.penalties == GOOD["penalties"] and judge.signals["floors_applied"] == []
    assert q == pytest.approx(0.3 * 0.8 + 0.45 * 0.6 + 0.25 * 0.5 - 0.5 * 0.1)


def test_malformed_output_is_corrected_by_a_retry(collected):
    script = ["Sure! The code looks good overall.", "```json\n" + json.dumps(GOOD) + "\n```"]
    with FakeOpenAI(*script) as fake:
        _, judge, _ = grade_quality("", "", "", None, TASK, config_for(fake), signals=collected)
    assert judge.method == "llm" and judge.signals["judge"]["attempts"] == 2
    first, second = fake.bodies
    assert len(first["messages"]) == 2
    assert second["messages"][:2] == first["messages"]
    assert second["messages"][2] == {
        "role": "assistant",
        "content": "Sure! The code looks good overall.",
    }
    assert second["messages"][3]["role"] == "user"
    assert "not JSON" in second["messages"][3]["content"]
    assert second["temperature"] == 0


def test_always_malformed_output_falls_back_with_the_reason(collected):
    with FakeOpenAI('{"commit_scope": 0.9, "maintainability": ') as fake:
        q, judge, _ = grade_quality(
            "", "", "", None, TASK, config_for(fake, max_retries=2), signals=collected
        )
    assert len(fake.requests) == 3  # the first try and max_retries corrections
    assert judge.method == "fallback" and judge.model == "fake-judge-1"
    assert "not a valid rubric after 3 tries" in judge.error and "not JSON" in judge.error
    assert q == fallback_quality(collected).signals["q"]


def test_wrong_fields_are_rejected(collected):
    wrong = {"scope": 1, "quality": "great", "rationale": "LGTM"}
    with FakeOpenAI(wrong, GOOD) as fake:
        _, judge, _ = grade_quality("", "", "", None, TASK, config_for(fake), signals=collected)
    assert judge.method == "llm" and judge.signals["judge"]["attempts"] == 2
    correction = fake.bodies[1]["messages"][3]["content"]
    assert (
        "commit_scope: Field required" in correction and "penalties: Field required" in correction
    )


def test_out_of_range_values_are_rejected_then_retried(collected):
    out_of_range = {
        **GOOD,
        "maintainability": 8,
        "penalties": {**GOOD["penalties"], "security": -1},
    }
    with FakeOpenAI(out_of_range, GOOD) as fake:
        _, judge, _ = grade_quality("", "", "", None, TASK, config_for(fake), signals=collected)
    assert judge.method == "llm" and judge.rubric["maintainability"] == 0.6
    correction = fake.bodies[1]["messages"][3]["content"]
    assert "maintainability: Input should be less than or equal to 1" in correction
    assert "penalties.security: Input should be greater than or equal to 0" in correction

    with FakeOpenAI(out_of_range) as fake:
        _, judge, _ = grade_quality(
            "", "", "", None, TASK, config_for(fake, max_retries=1), signals=collected
        )
    assert len(fake.requests) == 2 and judge.method == "fallback"
    assert "less than or equal to 1" in judge.error


def test_a_slow_model_times_out_into_the_fallback(collected):
    with FakeOpenAI(Reply(content=GOOD, delay=3.0)) as fake:
        started = time.monotonic()
        q, judge, _ = grade_quality(
            "",
            "",
            "",
            None,
            TASK,
            config_for(fake, timeout=0.3, max_retries=1),
            signals=collected,
        )
        elapsed = time.monotonic() - started
    assert judge.method == "fallback" and "did not answer within 0.3 s" in judge.error
    assert len(fake.requests) == 2  # the SDK retried the timeout once
    assert elapsed < 3.0
    assert q == fallback_quality(collected).signals["q"]


def test_a_server_error_is_retried_by_the_sdk(collected):
    with FakeOpenAI(Reply(status=500, error="overloaded"), GOOD) as fake:
        _, judge, _ = grade_quality("", "", "", None, TASK, config_for(fake), signals=collected)
    assert judge.method == "llm" and judge.error is None
    assert len(fake.requests) == 2 and fake.bodies[0] == fake.bodies[1]


def test_persistent_server_errors_fall_back(collected):
    with FakeOpenAI(Reply(status=503, error="down for maintenance")) as fake:
        _, judge, _ = grade_quality(
            "", "", "", None, TASK, config_for(fake, max_retries=1), signals=collected
        )
    assert len(fake.requests) == 2
    assert judge.method == "fallback" and "HTTP 503" in judge.error
    assert "down for maintenance" in judge.error


def test_an_endpoint_without_json_schema_is_asked_for_json_object(collected):
    with FakeOpenAI(GOOD, reject_formats=("json_schema",)) as fake:
        _, judge, _ = grade_quality("", "", "", None, TASK, config_for(fake), signals=collected)
    assert [b["response_format"]["type"] for b in fake.bodies] == ["json_schema", "json_object"]
    assert judge.method == "llm" and judge.signals["judge"]["response_format"] == "json_object"
    assert judge.signals["judge"]["attempts"] == 1


def test_json_object_can_be_asked_first(collected):
    with FakeOpenAI(GOOD) as fake:
        _, judge, _ = grade_quality(
            "",
            "",
            "",
            None,
            TASK,
            config_for(fake, response_format="json_object"),
            signals=collected,
        )
    assert fake.bodies[0]["response_format"] == {"type": "json_object"}
    assert judge.method == "llm"


def test_a_wrong_key_falls_back_with_the_servers_message(collected):
    with FakeOpenAI(GOOD) as fake:
        config = config_for(fake).model_copy(update={"api_key": "sk-wrong"})
        _, judge, _ = grade_quality("", "", "", None, TASK, config, signals=collected)
    assert judge.method == "fallback" and "HTTP 401" in judge.error
    assert "Incorrect API key" in judge.error


def test_an_unreachable_endpoint_falls_back(collected):
    fake = FakeOpenAI().start()
    url = fake.base_url
    fake.stop()  # nothing listens on that port any more
    config = JudgeConfig(model="m", base_url=url, api_key="k", timeout=2, max_retries=0)
    _, judge, _ = grade_quality("", "", "", None, TASK, config, signals=collected)
    assert judge.method == "fallback" and "cannot reach the model" in judge.error


def test_a_cut_off_reply_is_retried(collected):
    with FakeOpenAI(Reply(content='{"commit_scope": 0.8', finish_reason="length"), GOOD) as fake:
        _, judge, _ = grade_quality("", "", "", None, TASK, config_for(fake), signals=collected)
    assert judge.method == "llm" and "cut off" in fake.bodies[1]["messages"][3]["content"]


def test_a_long_diff_reaches_the_model_truncated(collected):
    big = collected.model_copy(update={"diff": cap_diff("x" * 100_000, 10_000)[0]})
    with FakeOpenAI(GOOD) as fake:
        grade_quality("", "", "", None, TASK, config_for(fake), signals=big)
    assert "[diff truncated:" in fake.bodies[0]["messages"][1]["content"]


# --- configuration and parsing -----------------------------------------------------------------


def test_judge_config_from_env():
    assert JudgeConfig.from_env({}) is None
    assert JudgeConfig.from_env({"OPENAI_API_KEY": "sk-1"}) is None  # a key alone names no model
    config = JudgeConfig.from_env(
        {
            "PRODBENCH_JUDGE_MODEL": "gpt-judge",
            "OPENAI_API_KEY": "sk-openai",
            "OPENAI_BASE_URL": "http://openai.example/v1",
        }
    )
    assert config == JudgeConfig(
        model="gpt-judge", base_url="http://openai.example/v1", api_key="sk-openai"
    )
    assert config.temperature == 0 and config.timeout == 60 and config.max_retries == 2
    config = JudgeConfig.from_env(
        {
            "PRODBENCH_JUDGE_MODEL": "local",
            "PRODBENCH_JUDGE_BASE_URL": "http://127.0.0.1:8000/v1",
            "PRODBENCH_JUDGE_API_KEY": "sk-judge",
            "OPENAI_API_KEY": "sk-openai",
            "OPENAI_BASE_URL": "http://openai.example/v1",
        }
    )
    assert (config.base_url, config.api_key) == ("http://127.0.0.1:8000/v1", "sk-judge")


def test_a_model_without_a_key_or_url_falls_back(collected):
    _, judge, _ = grade_quality("", "", "", None, TASK, JudgeConfig(model="m"), signals=collected)
    assert judge.method == "fallback" and "no API key" in judge.error


def test_parse_rubric_tolerates_prose_around_the_object_but_not_bad_values():
    rubric = parse_rubric("Here is my review:\n" + json.dumps(GOOD) + "\nThanks")
    assert rubric.commit_scope == 0.8 and rubric.penalties.security == 0.1
    for bad in ["", "[]", "null", json.dumps({**GOOD, "documentation": float("nan")})]:
        with pytest.raises(quality.InvalidReply):
            parse_rubric(bad)


def test_judge_and_checks_fit_the_shared_schema(collected):
    judge = fallback_quality(collected)
    assert Judge.model_validate(judge.model_dump(mode="json")) == judge
    for check in quality.quality_checks(collected):
        assert Check.model_validate(check.model_dump(mode="json")) == check
