"""CommandAgent with a stand-in CLI: placeholders, streaming, exit codes, the time limit."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from prodbench.agents import AgentContext, AgentError, CommandAgent, NoopAgent, get_agent
from prodbench.agents import command as command_mod

FAKE = Path(__file__).with_name("fake_agent.py")
PROMPT = 'Fix the "checkout" bug; keep {braces} and $HOME as they are.'


@pytest.fixture
def ctx(tmp_path) -> AgentContext:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    prompt_file = tmp_path / "prompt.md"
    prompt_file.write_text(PROMPT)
    mcp = tmp_path / "mcp.json"
    mcp.write_text(json.dumps({"mcpServers": {}}))
    return AgentContext(
        task_id="demo-task",
        prompt=PROMPT,
        workspace=workspace,
        prompt_file=prompt_file,
        mcp_config=mcp,
        time_limit=30,
        output_dir=tmp_path / "trial" / "agent",
        env={"FAKE_MODEL": "fake-1"},
    )


def fake(mode: str) -> str:
    return (
        f"{sys.executable} {FAKE} --mode {mode} --workspace {{workspace}} --prompt {{prompt}} "
        "--prompt-file {prompt_file} --mcp-config {mcp_config} --out {output_dir}"
    )


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def gone(pid: int) -> bool:
    """The process no longer exists (a zombie waiting for its reaper counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


def test_a_cli_agent_runs_in_the_workspace_with_its_placeholders_and_trajectory(ctx, monkeypatch):
    monkeypatch.setenv("OPS_ADMIN_TOKEN", "never-for-agents")
    outcome = CommandAgent(fake("complete"), name="fake").run(ctx)
    assert outcome.status == "completed" and outcome.exit_code == 0, outcome.message
    assert outcome.trajectory == ctx.output_dir / "trajectory.jsonl"
    start, env, prompt_file, result = records(outcome.trajectory)
    assert start["cwd"] == str(ctx.workspace)
    assert start["argv"] == [
        "--mode", "complete", "--workspace", str(ctx.workspace), "--prompt", PROMPT,
        "--prompt-file", str(ctx.prompt_file), "--mcp-config", str(ctx.mcp_config),
        "--out", str(ctx.output_dir),
    ]  # fmt: skip
    python = env.pop("python")  # prodbench's interpreter, with the app's dependencies
    assert Path(python).parent == Path(sys.executable).parent
    assert env == {"type": "env", "model": "fake-1", "admin": None, "nonblocking": None}
    assert prompt_file["text"] == PROMPT and result == {"type": "result", "ok": True}
    assert (ctx.workspace / "agent-was-here.txt").read_text() == PROMPT
    assert (ctx.output_dir / "stderr.txt").read_text() == "thinking...\n"
    saved = json.loads((ctx.output_dir / "command.json").read_text())
    assert saved["argv"][-1] == str(ctx.output_dir) and saved["cwd"] == str(ctx.workspace)


def test_a_list_template_keeps_each_argument_whole(ctx):
    agent = CommandAgent([sys.executable, str(FAKE), "--prompt", "say: {prompt}", "x{output_dir}"])
    assert agent.argv(ctx)[3:] == [f"say: {PROMPT}", f"x{ctx.output_dir}"]


def test_plain_text_output_is_kept_as_txt(ctx):
    outcome = CommandAgent(fake("text")).run(ctx)
    assert outcome.status == "completed"
    assert outcome.trajectory == ctx.output_dir / "trajectory.txt"
    assert outcome.trajectory.read_text() == "step 1: read the code\nstep 2: done\n"
    assert not (ctx.output_dir / "trajectory.jsonl").exists()


def test_a_failing_agent_is_an_error_with_its_stderr(ctx):
    outcome = CommandAgent(fake("fail")).run(ctx)
    assert (outcome.status, outcome.exit_code) == ("error", 3)
    assert "fatal: no API key" in outcome.message
    assert records(outcome.trajectory) == [{"type": "start"}]


def test_a_crash_loses_nothing_already_written(ctx):
    outcome = CommandAgent(fake("crash")).run(ctx)
    assert (outcome.status, outcome.exit_code) == ("error", -9)
    assert [r["n"] for r in records(outcome.trajectory)] == [1, 2]


def test_the_time_limit_kills_the_whole_process_group(ctx, monkeypatch):
    monkeypatch.setattr(command_mod, "KILL_GRACE", 1.0)
    ctx = ctx.model_copy(update={"time_limit": 1.5})
    started = time.monotonic()
    outcome = CommandAgent(fake("hang")).run(ctx)
    took = time.monotonic() - started
    assert outcome.status == "timeout" and "time limit of 2s" in outcome.message
    assert outcome.exit_code == -9  # it ignored SIGTERM, so SIGKILL it was
    assert 1.5 <= took < 5, took  # the limit, one grace period, and no more
    leader, child = json.loads((ctx.output_dir / "pids.json").read_text())
    assert gone(leader) and gone(child)
    assert records(outcome.trajectory) == [{"type": "step", "n": 1}]


def test_what_an_agent_leaves_running_is_killed_when_it_exits(ctx):
    outcome = CommandAgent(fake("linger")).run(ctx)
    assert outcome.status == "completed"
    (child,) = json.loads((ctx.output_dir / "pids.json").read_text())
    deadline = time.monotonic() + 5
    while not gone(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone(child)


def test_a_missing_program_is_an_agent_error(ctx):
    with pytest.raises(AgentError, match="cannot start agent 'command' \\(no-such-agent-cli\\)"):
        CommandAgent("no-such-agent-cli --task {prompt}").run(ctx)


def test_admin_tokens_cannot_be_handed_to_an_agent(ctx):
    with pytest.raises(ValueError, match="OPS_ADMIN_TOKEN: admin tokens"):
        AgentContext(**{**ctx.model_dump(), "env": {"OPS_ADMIN_TOKEN": "x"}})


def test_noop_does_nothing_and_completes(ctx):
    outcome = get_agent("noop").run(ctx)
    assert isinstance(get_agent("noop"), NoopAgent)
    assert (outcome.status, outcome.exit_code, outcome.trajectory) == ("completed", 0, None)
    assert list(ctx.workspace.iterdir()) == []


def test_command_specs_resolve_to_a_command_agent(ctx):
    agent = get_agent(f"command:{fake('complete')}")
    assert isinstance(agent, CommandAgent) and agent.name == "command"
    assert agent.run(ctx).status == "completed"
    with pytest.raises(AgentError, match='"command:" needs a command'):
        get_agent("command:  ")


def test_unknown_specs_and_an_oracle_without_a_task_are_refused():
    with pytest.raises(AgentError, match="unknown agent 'gpt-7'; agents: noop, oracle, claude"):
        get_agent("gpt-7")
    with pytest.raises(AgentError, match="needs the task folder"):
        get_agent("oracle")


def test_the_inherited_environment_is_scrubbed_of_harness_secrets(monkeypatch):
    from prodbench.agents.base import agent_environ

    for name in ("OPS_ADMIN_TOKEN", "PRODBENCH_ADMIN_TOKEN", "PRODBENCH_RUNTIME_TOKEN"):
        monkeypatch.setenv(name, "secret")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "agent-key")
    env = agent_environ({"EXTRA": "1"})
    assert not {"OPS_ADMIN_TOKEN", "PRODBENCH_ADMIN_TOKEN", "PRODBENCH_RUNTIME_TOKEN"} & set(env)
    assert env["ANTHROPIC_API_KEY"] == "agent-key" and env["EXTRA"] == "1"
    first, *rest = env["PATH"].split(os.pathsep)
    assert first == str(Path(sys.executable).parent)  # `python` is the one with the app's deps
    assert set(os.environ["PATH"].split(os.pathsep)) <= {first, *rest}
