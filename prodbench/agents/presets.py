"""Known CLI agents as ready `CommandAgent`s, and `get_agent` to resolve an agent spec.

Each preset's flags were checked against the tool's docs or its maintainers' threads (cited at
each one); `claude --help`, `codex exec --help`, `openhands --help`, `mini --help` are the final
word for an installed version.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path

from mcp_servers.configs import ConfigError, McpJson
from prodbench.agents.base import Agent, AgentContext, AgentError
from prodbench.agents.command import CommandAgent
from prodbench.agents.noop import NoopAgent


def claude_code() -> CommandAgent:
    # Claude Code CLI reference (docs.anthropic.com/en/docs/claude-code/cli-reference): -p/--print
    # runs headless; --output-format stream-json streams events; --mcp-config loads servers from
    # a JSON file in the {"mcpServers": ...} form, and --strict-mcp-config ignores every other MCP
    # source (user/project config). In print mode stream-json *requires* --verbose ("When using
    # --print, --output-format=stream-json requires --verbose": nullclaw/nullclaw#125,
    # fullsend-ai/fullsend#306). --dangerously-skip-permissions is the documented bypass
    # (= --permission-mode bypassPermissions) for an unattended run in a sandbox.
    # MCP_CONNECTION_NONBLOCKING: headless startup connects MCP servers in the background unless
    # it is false (anthropics/claude-code#41792); false makes the first turn see the tools.
    return CommandAgent(
        [
            "claude",
            "-p",
            "{prompt}",
            "--mcp-config",
            "{mcp_config}",
            "--strict-mcp-config",
            "--output-format",
            "stream-json",
            "--verbose",
            "--dangerously-skip-permissions",
        ],
        name="claude-code",
        env={"MCP_CONNECTION_NONBLOCKING": "false"},
        needs="claude",
        install="npm install -g @anthropic-ai/claude-code (and set ANTHROPIC_API_KEY)",
        stdout="jsonl",
    )


def codex_mcp_args(ctx: AgentContext) -> list[str]:
    """`-c mcp_servers.<name>.url="<url>"` per server of the run's mcp.json.

    Codex reads MCP servers only from config.toml tables `[mcp_servers.<name>]`; a table with
    `url` is a streamable HTTP server (developers.openai.com/codex/mcp; openai/codex#4422). Its
    `-c key=value` overrides take a dotted key and a TOML value, so the URL is a quoted TOML
    string; per-run overrides touch no config file (as in zts212653/clowder-ai#1073).
    """
    try:
        config = McpJson.read(ctx.mcp_config)
    except ConfigError as exc:
        raise AgentError(str(exc)) from exc
    args: list[str] = []
    for name, entry in config.mcpServers.items():
        args += ["-c", f"mcp_servers.{name}.url={json.dumps(entry.url)}"]
    return args


def codex() -> CommandAgent:
    # `codex exec` is the non-interactive mode; --json prints JSONL events to stdout
    # (developers.openai.com/codex/noninteractive). --dangerously-bypass-approvals-and-sandbox
    # skips approvals and Codex's own sandbox, which would otherwise block `git commit` and the
    # network (openai/codex#1384; --full-auto is deprecated/removed: phnx-labs/agi-cli#188).
    # --skip-git-repo-check keeps exec from refusing a directory it does not trust.
    return CommandAgent(
        [
            "codex",
            "exec",
            "--json",
            "--dangerously-bypass-approvals-and-sandbox",
            "--skip-git-repo-check",
            "{codex_mcp}",
            "{prompt}",
        ],
        name="codex",
        needs="codex",
        install="npm install -g @openai/codex (and set OPENAI_API_KEY)",
        stdout="jsonl",
        expand={"codex_mcp": codex_mcp_args},
    )


def openhands_home(ctx: AgentContext) -> dict[str, str]:
    """A per-trial OpenHands config folder holding the run's MCP servers.

    The OpenHands CLI reads MCP servers from `<persistence dir>/mcp.json`, the folder being
    `OPENHANDS_PERSISTENCE_DIR` or ~/.openhands (openhands_cli/locations.py); pointing it at the
    trial's folder keeps the user's own servers out and the run's in.
    """
    home = ctx.output_dir / "openhands"
    home.mkdir(parents=True, exist_ok=True)
    try:
        config = McpJson.read(ctx.mcp_config)
    except ConfigError as exc:
        raise AgentError(str(exc)) from exc
    (home / "mcp.json").write_text(config.render("openhands"))
    return {"OPENHANDS_PERSISTENCE_DIR": str(home), "OPENHANDS_WORK_DIR": str(ctx.workspace)}


def openhands() -> CommandAgent:
    # OpenHands CLI headless mode: `openhands --headless` needs --task/-t or --file/-f, always
    # auto-approves, and --json streams JSONL events (docs.openhands.dev/openhands/usage/cli/
    # headless, .../cli/command-reference). LLM_API_KEY/LLM_MODEL/LLM_BASE_URL are ignored unless
    # --override-with-envs is passed (pypi.org/project/openhands).
    # A fresh config folder per trial has no saved model settings, so the model comes from LLM_*.
    return CommandAgent(
        [
            "openhands",
            "--headless",
            "--json",
            "--override-with-envs",
            "-f",
            "{prompt_file}",
        ],
        name="openhands",
        needs="openhands",
        install="uv tool install openhands --python 3.12",
        stdout="jsonl",
        prepare=openhands_home,
        requires={
            "LLM_MODEL": "OpenHands takes its model from the environment here, e.g. "
            "LLM_MODEL=anthropic/claude-sonnet-4-5 with LLM_API_KEY (and LLM_BASE_URL if needed)"
        },
    )


def mini_swe_agent() -> CommandAgent:
    # mini-swe-agent's `mini` (src/minisweagent/run/mini.py): -t/--task the task, -y/--yolo runs
    # actions without confirmation, --exit-immediately finishes without the final prompt,
    # -o/--output the trajectory file. MSWEA_CONFIGURED skips the first-run setup prompt
    # (run/extra/config.py); the model is MSWEA_MODEL_NAME or `-m` via a command: template.
    # mini has no MCP client: its tools are shell commands only.
    return CommandAgent(
        [
            "mini",
            "-y",
            "--exit-immediately",
            "-t",
            "{prompt}",
            "-o",
            "{output_dir}/mini.traj.json",
        ],
        name="mini-swe-agent",
        env={"MSWEA_CONFIGURED": "true"},
        needs="mini",
        install="pip install mini-swe-agent (or: uv tool install mini-swe-agent)",
        stdout="text",
    )


PRESETS: dict[str, Callable[[], CommandAgent]] = {
    "claude-code": claude_code,
    "codex": codex,
    "openhands": openhands,
    "mini-swe-agent": mini_swe_agent,
}


def get_agent(
    spec: str, task_dir: Path | None = None, env: Mapping[str, str] | None = None
) -> Agent:
    """ "noop", "oracle" (needs `task_dir`), a preset name, or "command:<template>".

    Presets are checked here (with `env`, the extra environment trials will get), so a missing
    CLI or setting fails before any run is started.
    """
    spec = spec.strip()
    if spec == "noop":
        return NoopAgent()
    if spec == "oracle":
        if task_dir is None:
            raise AgentError("the oracle agent runs a task's solution: it needs the task folder")
        from prodbench.agents.oracle import OracleAgent  # the MCP client stack, only if used

        return OracleAgent(task_dir)
    if spec.startswith("command:"):
        template = spec.removeprefix("command:").strip()
        if not template:
            raise AgentError('"command:" needs a command, e.g. command:my-agent --task {prompt}')
        return CommandAgent(template)
    if spec in PRESETS:
        agent = PRESETS[spec]()
        agent.check(env)
        return agent
    known = ", ".join(["noop", "oracle", *PRESETS, "command:<template>"])
    raise AgentError(f"unknown agent {spec!r}; agents: {known}")
