"""Agent adapters: how a trial hands the workspace and the MCP config to an agent.

`get_agent(spec)` resolves "noop", "oracle", a CLI preset (claude-code, codex, openhands,
mini-swe-agent) or "command:<template>"; every agent takes an `AgentContext` and returns an
`AgentOutcome`.
"""

from prodbench.agents.base import Agent, AgentContext, AgentError, AgentOutcome
from prodbench.agents.command import CommandAgent
from prodbench.agents.noop import NoopAgent
from prodbench.agents.presets import PRESETS, get_agent

__all__ = [
    "PRESETS",
    "Agent",
    "AgentContext",
    "AgentError",
    "AgentOutcome",
    "CommandAgent",
    "NoopAgent",
    "get_agent",
]
