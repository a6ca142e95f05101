"""The null agent: does nothing. A valid task must fail with it (DESIGN.md, Tasks)."""

from __future__ import annotations

from prodbench.agents.base import AgentContext, AgentOutcome


class NoopAgent:
    name = "noop"

    def run(self, ctx: AgentContext) -> AgentOutcome:
        ctx.output_dir.mkdir(parents=True, exist_ok=True)
        return AgentOutcome(status="completed", exit_code=0, seconds=0.0, message="did nothing")
