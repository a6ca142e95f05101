# prodbench's own services, one target each, all on one dependency layer:
#   tools    the team's tools (Slack, Linear, Notion, Sentry, status page) in one process
#   mcp      the MCP gateway the agent connects to
#   ops      the deployer, log search and fault injection (needs git and pytest); it also
#            runs the runtime control API, which replaces app containers through the engine
#   traffic  locust user journeys and synthetic probes
#   workspace the agent's container on a docker run: the monorepo's toolchain, no prodbench
# The context is the repository root; only the packages a target runs are copied in.
#   docker build -f compose/docker/prodbench.Dockerfile --target tools -t prodbench/tools:local .
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/opt/prodbench

# A fixed non-root uid, shared with the app image, so the run volume has one owner.
RUN groupadd --gid 10001 prodbench \
 && useradd --uid 10001 --gid 10001 --create-home --shell /usr/sbin/nologin prodbench \
 && mkdir -p /srv/run \
 && chown prodbench:prodbench /srv/run

WORKDIR /opt/prodbench
# The distribution's dependencies, read from pyproject.toml: one layer that every target
# shares and that changes only when the dependencies do.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]

FROM base AS tools
COPY environments ./environments
CMD ["python", "-m", "environments.tools.host", "--help"]

FROM base AS mcp
COPY environments ./environments
COPY mcp_servers ./mcp_servers
CMD ["python", "-m", "mcp_servers.gateway", "--help"]

# git exports releases from the workspace; pytest runs a release's fast checks. The workspace
# is the run directory's, bind-mounted and owned by the host's user: git may read it.
FROM base AS git
USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends git \
 && rm -rf /var/lib/apt/lists/* \
 && git config --system safe.directory '*' \
 && pip install "pytest>=8.0"
USER 10001:10001

FROM git AS ops
COPY environments ./environments
COPY mcp_servers ./mcp_servers
CMD ["python", "-m", "environments.ops", "--help"]

# The agent's own container on a docker run: the monorepo's toolchain (Python, its packages,
# git, pytest, ruff) and nothing of prodbench: no sources, tasks, hidden tests or oracle
# solutions. The run's workspace is bind-mounted at /workspace, its MCP config at /agent.
FROM git AS workspace
USER root
RUN pip install "ruff>=0.6" \
 && rm -rf /opt/prodbench \
 && mkdir -p /workspace /agent
ENV PYTHONPATH=/workspace \
    PRODBENCH_MCP_CONFIG=/agent/mcp.json
WORKDIR /workspace
USER 10001:10001
HEALTHCHECK NONE
CMD ["sleep", "infinity"]

FROM base AS traffic
COPY traffic ./traffic
CMD ["python", "-m", "traffic", "--help"]
