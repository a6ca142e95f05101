"""The CLI presets: their command lines from a run's mcp.json, and what a missing CLI says."""

from __future__ import annotations

import json
import stat
import sys
import tomllib
from pathlib import Path

import pytest

from prodbench.agents import PRESETS, AgentContext, AgentError, CommandAgent, get_agent

MCP = {
    "mcpServers": {
        "slack": {"type": "http", "url": "http://127.0.0.1:41234/slack/mcp"},
        "deploy": {"type": "http", "url": "http://127.0.0.1:41234/deploy/mcp"},
    }
}
ECHO_ARGV = """#!{python}
import json, os, sys
print(json.dumps({{"argv": sys.argv[1:], "nonblocking": os.environ.get("MCP_CONNECTION_NONBLOCKING")}}))
"""


@pytest.fixture
def ctx(tmp_path) -> AgentContext:
    (tmp_path / "workspace").mkdir()
    (tmp_path / "mcp.json").write_text(json.dumps(MCP))
    (tmp_path / "prompt.md").write_text("Ship the gallery.")
    return AgentContext(
        task_id="demo-task",
        prompt="Ship the gallery.",
        workspace=tmp_path / "workspace",
        prompt_file=tmp_path / "prompt.md",
        mcp_config=tmp_path / "mcp.json",
        time_limit=30,
        output_dir=tmp_path / "agent",
    )


@pytest.fixture
def bin_dir(tmp_path, monkeypatch) -> Path:
    """A PATH holding only fake CLIs (each echoes its argv as JSON)."""
    path = tmp_path / "bin"
    path.mkdir()
    for name in ("claude", "codex", "openhands", "mini"):
        exe = path / name
        exe.write_text(ECHO_ARGV.format(python=sys.executable))
        exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", str(path))
    return path


@pytest.mark.parametrize(
    ("preset", "binary", "install"),
    [
        ("claude-code", "claude", "npm install -g @anthropic-ai/claude-code"),
        ("codex", "codex", "npm install -g @openai/codex"),
        ("openhands", "openhands", "uv tool install openhands"),
        ("mini-swe-agent", "mini", "pip install mini-swe-agent"),
    ],
)
def test_a_preset_whose_cli_is_missing_says_what_to_install(
    preset, binary, install, tmp_path, monkeypatch
):
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing there
    with pytest.raises(AgentError) as err:
        get_agent(preset)
    message = str(err.value)
    assert f"needs the `{binary}` command, which is not on PATH" in message
    assert install in message


def test_claude_code_reads_the_run_config_strictly_and_streams_json(bin_dir, ctx):
    agent = get_agent("claude-code")
    assert isinstance(agent, CommandAgent) and agent.name == "claude-code"
    assert agent.argv(ctx) == [
        "claude", "-p", "Ship the gallery.", "--mcp-config", str(ctx.mcp_config),
        "--strict-mcp-config", "--output-format", "stream-json", "--verbose",
        "--dangerously-skip-permissions",
    ]  # fmt: skip
    outcome = agent.run(ctx)  # the fake claude on PATH: argv and env as the real one gets them
    assert outcome.status == "completed"
    (seen,) = [json.loads(line) for line in outcome.trajectory.read_text().splitlines()]
    assert seen == {"argv": agent.argv(ctx)[1:], "nonblocking": "false"}


def test_codex_gets_one_url_override_per_server_of_the_run(bin_dir, ctx):
    argv = get_agent("codex").argv(ctx)
    assert argv == [
        "codex", "exec", "--json", "--dangerously-bypass-approvals-and-sandbox",
        "--skip-git-repo-check",
        "-c", 'mcp_servers.slack.url="http://127.0.0.1:41234/slack/mcp"',
        "-c", 'mcp_servers.deploy.url="http://127.0.0.1:41234/deploy/mcp"',
        "Ship the gallery.",
    ]  # fmt: skip
    overrides = "\n".join(argv[i + 1] for i, a in enumerate(argv) if a == "-c")
    assert tomllib.loads(overrides) == {
        "mcp_servers": {n: {"url": e["url"]} for n, e in MCP["mcpServers"].items()}
    }  # what codex's TOML parser makes of the -c values


def test_codex_without_a_run_config_is_an_agent_error(bin_dir, ctx):
    ctx.mcp_config.unlink()
    with pytest.raises(AgentError, match="no mcp.json in"):
        get_agent("codex").argv(ctx)


def test_openhands_gets_a_trial_config_folder_with_the_runs_servers(bin_dir, ctx, monkeypatch):
    monkeypatch.delenv("LLM_MODEL", raising=False)
    with pytest.raises(AgentError, match="'openhands' needs LLM_MODEL set"):
        get_agent("openhands")
    agent = get_agent("openhands", env={"LLM_MODEL": "anthropic/claude-sonnet-4-5"})
    ctx = ctx.model_copy(update={"env": {"LLM_MODEL": "anthropic/claude-sonnet-4-5"}})
    assert agent.argv(ctx) == [
        "openhands", "--headless", "--json", "--override-with-envs", "-f", str(ctx.prompt_file),
    ]  # fmt: skip
    assert agent.run(ctx).status == "completed"
    written = json.loads((ctx.output_dir / "openhands" / "mcp.json").read_text())
    assert written == {
        "mcpServers": {
            n: {"url": e["url"], "transport": "http"} for n, e in MCP["mcpServers"].items()
        }
    }


def test_mini_swe_agent_runs_unattended_and_saves_its_trajectory(bin_dir, ctx):
    agent = get_agent("mini-swe-agent")
    assert agent.argv(ctx) == [
        "mini", "-y", "--exit-immediately", "-t", "Ship the gallery.",
        "-o", f"{ctx.output_dir}/mini.traj.json",
    ]  # fmt: skip
    assert agent.env == {"MSWEA_CONFIGURED": "true"}


def test_every_preset_is_listed():
    assert set(PRESETS) == {"claude-code", "codex", "openhands", "mini-swe-agent"}
