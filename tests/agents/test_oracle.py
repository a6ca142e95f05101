"""The oracle against a real Acme run: git in the workspace, Slack and deploys over MCP only.

One run for the module. The task folder is written here; its solve.py edits, commits, posts to
Slack and deploys `web`, and everything is checked from the outside: git, the Slack and deploy
MCP servers (as any client reads them), and the oracle's trajectory.
"""

from __future__ import annotations

import json
import re
import subprocess
import textwrap
import time

import httpx
import pytest

from environments.acme.environment import ACME
from environments.runs import RunHandle
from environments.runtime.procs import run_processes
from prodbench.agents import AgentContext, AgentError, get_agent
from prodbench.agents.kit import KitError
from prodbench.agents.mcp_sessions import McpSessions, server_urls
from prodbench.agents.oracle import OracleAgent
from prodbench.session import prepare_run, start_run, stop_run

MARK = f"oracle-e2e-{int(time.time())}"
SOLVE = f"""
from prodbench.agents.kit import KitError

def solve(kit):
    title = "# Acme Outfitters — engineering README\\n"
    kit.replace("README.md", title, title + "\\nShipped by the oracle ({MARK}).\\n")
    try:
        kit.replace("README.md", "no such text anywhere", "x")
    except KitError as exc:
        kit.log(f"as expected: {{exc}}")
    sha = kit.commit("Docs: note the oracle's deploy")
    posted = kit.call("slack", "slack_post_message", channel_id="#deploys",
                      text="Deploying web at " + sha[:8] + " ({MARK})")
    assert posted["ts"], posted
    deploy = kit.deploy(["web"])
    assert deploy["sha"] == sha, deploy
    kit.log("deployed " + deploy["id"])
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    runs_dir = tmp_path_factory.mktemp("oracle-runs")
    paths = prepare_run(ACME, runs_dir, seed=3, run_id="oracle-e2e")
    result = start_run(paths)
    handle = RunHandle(paths)
    try:
        assert result.status == "healthy", result.error
        yield handle
    finally:
        stop_run(handle)
        assert run_processes(handle.run_id) == []


def context(run: RunHandle, tmp_path, time_limit: float = 240) -> AgentContext:
    prompt = tmp_path / "prompt.md"
    prompt.write_text("Note the deploy in the README, tell #deploys, ship web.")
    return AgentContext(
        task_id="oracle-e2e",
        prompt=prompt.read_text(),
        workspace=run.paths.workspace,
        prompt_file=prompt,
        mcp_config=run.paths.mcp_json,
        time_limit=time_limit,
        output_dir=tmp_path / "agent",
    )


def task_dir(tmp_path, solve: str):
    folder = tmp_path / "oracle-e2e"
    (folder / "solution").mkdir(parents=True)
    (folder / "solution" / "solve.py").write_text(textwrap.dedent(solve))
    return folder


def live_release(run: RunHandle, service: str) -> str:
    return httpx.get(run.env().services[service].url + "/healthz", timeout=5).json()["release"]


def git(run: RunHandle, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(run.paths.workspace), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.mark.timeout(400)
def test_the_oracle_commits_posts_and_deploys_the_way_an_agent_would(run, tmp_path):
    agent = get_agent("oracle", task_dir(tmp_path, SOLVE))
    assert isinstance(agent, OracleAgent)
    ctx = context(run, tmp_path)
    before = git(run, "rev-parse", "HEAD")
    outcome = agent.run(ctx)
    assert outcome.status == "completed", outcome.message
    assert outcome.trajectory == ctx.output_dir / "trajectory.jsonl"

    # git: one new commit on top, by the agent identity, with the edit
    head = git(run, "rev-parse", "HEAD")
    assert git(run, "rev-parse", "HEAD~1") == before
    assert git(run, "log", "-1", "--format=%s|%an") == "Docs: note the oracle's deploy|Acme Agent"
    assert MARK in git(run, "show", "HEAD:README.md")
    assert git(run, "status", "--porcelain") == ""

    # Slack and the deployer, read back over MCP like any client would
    with McpSessions(server_urls(run.paths.mcp_json)) as mcp:
        history = mcp.call("slack", "slack_get_channel_history", {"channel_id": "#deploys"})
        texts = [m["text"] for m in history.structured_content["messages"]]
        assert f"Deploying web at {head[:8]} ({MARK})" in texts
        deploys = json.loads(
            mcp.call("deploy", "deploy_history", {"service": "web", "limit": 1}).content[0].text
        )["deploys"]
        status = json.loads(
            mcp.call("deploy", "deploy_status", {"deploy_id": deploys[0]["id"]}).content[0].text
        )
    assert status["kind"] == "deploy" and status["services"] == ["web"]
    assert (status["status"], status["actor"], status["sha"]) == ("succeeded", "agent", head)

    # the trajectory lists every action, in order
    lines = [json.loads(line) for line in outcome.trajectory.read_text().splitlines()]
    actions = [r["action"] for r in lines]
    assert actions[:2] == ["replace", "log"] and actions[-1] == "end"
    assert "as expected: README.md: 'no such text anywhere' not found" in lines[1]["message"]
    commit = next(r for r in lines if r["action"] == "commit")
    assert commit["sha"] == head
    git_runs = [r["argv"][:2] for r in lines if r["action"] == "run"]
    assert ["git", "add"] in git_runs and ["git", "commit"] in git_runs
    calls = [(r["server"], r["tool"]) for r in lines if r["action"] == "call"]
    assert calls[:2] == [("slack", "slack_post_message"), ("deploy", "deploy")]
    assert set(calls[2:]) == {("deploy", "deploy_status")}
    polls = len(calls[2:])  # they back off to 8 s apart: ~2 polls per 8 s would mean no backoff
    assert polls <= 6 + status["seconds"] / 8, (polls, status["seconds"])
    post = next(r for r in lines if r["action"] == "call")
    assert post["arguments"]["channel_id"] == "#deploys" and post["result"]["ts"]
    deployed = next(r for r in lines if r["action"] == "deploy")
    assert (deployed["id"], deployed["status"], deployed["sha"]) == (
        status["id"],
        "succeeded",
        head,
    )
    assert lines[-1] == {**lines[-1], "action": "end", "status": "completed"}

    # and the calls went through the gateway's log, as an agent's would
    logged = [json.loads(line) for line in run.paths.calls.read_text().splitlines()]
    assert ("slack", "slack_post_message") in {(r["server"], r["tool"]) for r in logged}


def test_a_failing_step_is_an_error_with_the_reason(run, tmp_path):
    solve = """
    def solve(kit):
        kit.call("deploy", "deploy", services=["web"], ref="no-such-ref")
    """
    outcome = OracleAgent(task_dir(tmp_path, solve)).run(context(run, tmp_path))
    assert outcome.status == "error"
    assert "ToolCallError" in outcome.message and "names no commit" in outcome.message
    last = json.loads(outcome.trajectory.read_text().splitlines()[-2])
    assert last["action"] == "call" and "names no commit" in last["error"]


def test_the_time_limit_stops_a_solution_mid_command(run, tmp_path):
    solve = """
    def solve(kit):
        kit.run("sleep", "60")
        kit.write("never.txt", "the kit refuses every action after the time limit")
    """
    started = time.monotonic()
    outcome = OracleAgent(task_dir(tmp_path, solve)).run(context(run, tmp_path, time_limit=1))
    assert outcome.status == "timeout" and time.monotonic() - started < 10
    assert not (run.paths.workspace / "never.txt").exists()


def test_kit_checks_fail_loudly(run, tmp_path):
    solve = """
    def solve(kit):
        kit.write("../escape.txt", "no")
    """
    outcome = OracleAgent(task_dir(tmp_path, solve)).run(context(run, tmp_path))
    assert outcome.status == "error" and "outside the workspace" in outcome.message
    assert KitError.__name__ in outcome.message


@pytest.mark.timeout(300)
def test_a_failed_deploy_is_returned_when_expected_and_raised_otherwise(run, tmp_path):
    solve = """
    def solve(kit):
        kit.write("acme/web/views.py", kit.read("acme/web/views.py") + "\\ndef nope(:\\n")
        kit.commit("Web: a views module that does not parse")
        failed = kit.deploy(["web"], expect_failure=True)
        kit.log("expected: " + failed["status"])
        try:
            kit.deploy(["web"])
        finally:
            kit.run("git", "revert", "--no-edit", "HEAD")
    """
    live = live_release(run, "web")
    outcome = OracleAgent(task_dir(tmp_path, solve)).run(context(run, tmp_path))
    assert outcome.status == "error"
    assert "DeployFailed" in outcome.message and "ended failed" in outcome.message
    lines = [json.loads(line) for line in outcome.trajectory.read_text().splitlines()]
    deploys = [r for r in lines if r["action"] == "deploy"]
    assert [d["status"] for d in deploys] == ["failed", "failed"]
    assert any(r.get("message") == "expected: failed" for r in lines)
    assert git(run, "log", "-1", "--format=%s").startswith('Revert "Web: a views module')
    assert live_release(run, "web") == live  # production kept the release that was live


def test_the_kit_finds_tickets_and_reads_alerts_through_the_tools(run, tmp_path):
    solve = """
    def solve(kit):
        ticket = kit.find_issue("SQLAlchemy engine and session helpers")
        kit.log("ticket " + ticket)
        kit.log(f"firing {kit.firing('NoSuchAlertAnywhere')}")
        kit.log(f"resolved {kit.wait_resolved('NoSuchAlertAnywhere', timeout=5)}")
        kit.close_issue(ticket, "Helpers landed in acme.common.db")
        issue = kit.call("linear", "get_issue", id=ticket)
        kit.log(f"{issue['state']} {issue['comments'][-1]['body']}")
        kit.post_message("eng", "db helpers are in")
        kit.find_issue("no ticket is called anything like this zqxv")
    """
    outcome = OracleAgent(task_dir(tmp_path, solve)).run(context(run, tmp_path))
    assert outcome.status == "error" and "no Linear issue matches" in outcome.message
    lines = [json.loads(line) for line in outcome.trajectory.read_text().splitlines()]
    notes = [r["message"] for r in lines if r["action"] == "log"]
    assert re.fullmatch(r"ticket [A-Z]+-\d+", notes[0]) and notes[1] == "firing False"
    assert notes[2] == "resolved True"
    assert notes[3] == "Done Helpers landed in acme.common.db"
    tools = [(r["server"], r["tool"]) for r in lines if r["action"] == "call"]
    assert ("linear", "list_issues") in tools and ("monitoring", "list_alerts") in tools
    posted = [r for r in lines if r["action"] == "call" and r["tool"] == "slack_post_message"]
    assert posted[0]["arguments"] == {"channel_id": "eng", "text": "db helpers are in"}
    assert "error" not in posted[0]


def test_a_task_without_a_solution_is_refused(tmp_path):
    with pytest.raises(AgentError, match="no solution/solve.py"):
        OracleAgent(tmp_path)
