"""What the gateway serves in a run, and the MCP configs agents read to reach it.

The gateway's configuration is derived from the run directory, never passed on the command
line: endpoints come from ``env.json`` (written by the supervisor once ports are planned) and
the agent's own credentials from ``state/agent-credentials.json`` (written by the environment's
prepare step). Neither holds an admin token, so nothing built from them can leak one.

Agent configs are one list of (server, URL) pairs rendered in the form each harness reads:
``claude`` (``{"mcpServers": {...}}``, also read by OpenHands and the MCP Inspector),
``openhands`` (the same object with an explicit ``transport``), ``codex`` (TOML tables).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from environments.runs import EnvInfo, env_json_path, write_json_atomic
from mcp_servers import SERVER_NAMES

CREDENTIALS_FILE = "state/agent-credentials.json"
MCP_PATH = "/mcp"
TEAM_TOOLS = ("slack", "linear", "notion", "sentry", "statuspage")
# The run service behind each ops server (log search; the deployer); in a run without it the
# server answers every tool with "not available in this run".
OPS_SERVICES = {"monitoring": "ops", "deploy": "ops"}

Format = Literal["claude", "openhands", "codex"]
FORMATS: tuple[Format, ...] = ("claude", "openhands", "codex")


class ConfigError(RuntimeError):
    """A run whose gateway cannot be configured; the message says what is missing."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AgentCredentials(_Model):
    """The agent's own credential per server: what the agent would be given, nothing more."""

    tokens: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> AgentCredentials:
        if not path.exists():
            return cls()
        try:
            return cls.model_validate_json(path.read_text())
        except (OSError, ValidationError) as exc:
            raise ConfigError(f"cannot read agent credentials {path}: {exc}") from exc

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(path, self)


class ServerTarget(_Model):
    """One MCP server of the gateway: where its module is and what it talks to."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    module: str
    base_url: str | None = None
    token: str | None = None
    options: dict[str, str | None] = Field(
        default_factory=dict, description="extra keyword arguments of create_server"
    )


class GatewayConfig(_Model):
    run_dir: Path
    host: str = "127.0.0.1"
    port: int = Field(ge=0, le=65535)
    servers: list[ServerTarget]

    @property
    def advertised_host(self) -> str:
        return "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host

    @property
    def base_url(self) -> str:
        return f"http://{self.advertised_host}:{self.port}"

    @property
    def calls_path(self) -> Path:
        return self.run_dir / "calls.jsonl"

    @property
    def mcp_json_path(self) -> Path:
        return self.run_dir / "mcp.json"


def read_env(run_dir: Path) -> EnvInfo:
    path = env_json_path(run_dir)
    try:
        return EnvInfo.model_validate_json(path.read_text())
    except OSError as exc:
        raise ConfigError(
            f"no env.json in {run_dir}: the gateway runs inside a run started by `prodbench up`"
        ) from exc
    except ValidationError as exc:
        raise ConfigError(f"{path} is not a valid env.json: {exc}") from exc


def targets_for_run(env: EnvInfo, credentials: AgentCredentials) -> list[ServerTarget]:
    """Every server of SERVER_NAMES with the endpoint and token this run gives it."""
    tools = env.services.get("tools")
    prometheus = env.services.get("prometheus")
    targets = []
    for name in SERVER_NAMES:
        base_url: str | None = None
        options: dict[str, str | None] = {}
        if name in TEAM_TOOLS:
            if tools is None or name not in tools.ports:
                continue  # this run has no such tool: nothing to put in front of it
            base_url = f"http://{tools.host}:{tools.ports[name]}"
        else:
            service = env.services.get(OPS_SERVICES[name])
            base_url = service.url if service else None
            if name == "monitoring":
                options["prometheus_url"] = prometheus.url if prometheus else None
        targets.append(
            ServerTarget(
                name=name,
                module=f"mcp_servers.{name}",
                base_url=base_url,
                token=credentials.tokens.get(name),
                options=options,
            )
        )
    return targets


def load_gateway_config(run_dir: Path, host: str = "127.0.0.1", port: int = 0) -> GatewayConfig:
    run_dir = run_dir.resolve()
    env = read_env(run_dir)
    credentials = AgentCredentials.read(run_dir / CREDENTIALS_FILE)
    return GatewayConfig(
        run_dir=run_dir, host=host, port=port, servers=targets_for_run(env, credentials)
    )


# ---- agent configs ---------------------------------------------------------------------------


class HttpServerEntry(_Model):
    type: Literal["http"] = "http"
    url: str


class McpJson(_Model):
    """runs/<id>/mcp.json: the `{"mcpServers": {...}}` object Claude Code and OpenHands read."""

    mcpServers: dict[str, HttpServerEntry]

    @classmethod
    def for_gateway(cls, base_url: str, names: list[str]) -> McpJson:
        return cls(mcpServers={n: HttpServerEntry(url=f"{base_url}/{n}{MCP_PATH}") for n in names})

    @classmethod
    def read(cls, path: Path) -> McpJson:
        try:
            return cls.model_validate_json(path.read_text())
        except OSError as exc:
            raise ConfigError(
                f"no {path.name} in {path.parent}: the run's MCP gateway writes it when it "
                "starts; is the run up (`prodbench status`)?"
            ) from exc
        except ValidationError as exc:
            raise ConfigError(f"{path} is not a valid MCP config: {exc}") from exc

    def write(self, path: Path) -> None:
        write_json_atomic(path, self)

    def render(self, fmt: Format) -> str:
        """The config in the form `fmt`'s harness reads, as text to print or save."""
        if fmt == "claude":
            return json.dumps(self.model_dump(mode="json"), indent=2) + "\n"
        if fmt == "openhands":
            servers = {
                name: {"url": entry.url, "transport": "http"}
                for name, entry in self.mcpServers.items()
            }
            return json.dumps({"mcpServers": servers}, indent=2) + "\n"
        if fmt == "codex":
            blocks = [
                f"[mcp_servers.{name}]\nurl = {json.dumps(entry.url)}\n"
                for name, entry in self.mcpServers.items()
            ]
            return "\n".join(blocks)
        raise ConfigError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
