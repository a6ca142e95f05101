"""`prodbench tasks new`: a task folder a person can fill in, valid from the first minute."""

from __future__ import annotations

import re
from pathlib import Path

from graders.models import CATEGORIES
from prodbench.tasks.loader import TaskError
from prodbench.tasks.models import TASK_ID

TASK_YAML = """\
# {id}: see the README's "Writing a task" for every field.
id: {id}
title: {title}
category: {category}   # {categories}
difficulty: medium      # easy | medium | hard
time_limit: 3600        # seconds the agent gets
seed: 0

# What the agent is told. Context it must discover belongs in the tools (fixtures below).
prompt: |
  TODO: describe the work as a teammate would in a ticket or a Slack message.
  Say where to look (a Linear ticket, a Slack thread), not how to do it.

setup:
  commits: []            # - {{message: "...", patch: setup/0001-change.patch}}
  deploy: []             # services deployed after those commits, before the agent starts
  fixtures: {{}}           # linear: setup/linear.yaml  (tickets, comments, docs the agent reads)
  flags: {{}}              # flag_name: value
  faults: []             # - {{kind: payments_latency, latency_ms: 800}}
  wait_for_alerts: []    # alerts that must fire before the agent starts (incidents)

grading:
  feature:
    weights: {{}}          # test_function_name: weight (default 1 each)
  devops:
    deploy:
      services: []       # services whose live release must contain the agent's work
      order: []          # - {{before: api, after: web}}
    alerts:
      expected: []       # alerts the setup causes; any other firing alert costs points
      resolved: []       # alerts that must have stopped firing
    tools: []            # - {{kind: linear_issue, issue: ACME-1, state: Done}}
"""

TEST_PY = '''\
"""Hidden feature tests of {id}: run at grading time against production (the ingress) and the
deployed commit. Fixtures come from graders.testkit (see its docstring): `acme`, `admin_client`,
`customer_client`, `workspace`, `prometheus`, `tool_state`, `ops`, `run_view`."""


def test_todo_the_feature_works(acme):
    assert acme.get("/healthz").status_code == 200  # TODO: what the finished work must do
'''

SOLVE_PY = '''\
"""The oracle for {id}: what a strong engineer would do, through git and the MCP tools only.

`kit` is prodbench.agents.kit.OracleKit: kit.replace / kit.write / kit.apply_patch, kit.commit,
kit.call(server, tool, **arguments), kit.deploy(services).
"""


def solve(kit) -> None:
    raise NotImplementedError("TODO: the reference solution")
'''


def new_task(tasks_dir: Path, task_id: str, category: str, title: str | None = None) -> Path:
    """Create tasks_dir/<task_id>/ with task.yaml, tests/ and solution/; refuse to overwrite."""
    if not re.match(TASK_ID, task_id):
        raise TaskError(
            f"task id {task_id!r}: use 3-64 lowercase letters, digits and dashes, e.g. flag-reviews"
        )
    if category not in CATEGORIES:
        raise TaskError(f"category {category!r}: choose one of {', '.join(CATEGORIES)}")
    folder = tasks_dir / task_id
    if folder.exists():
        raise TaskError(f"{folder} exists already; pick another id or edit it")
    (folder / "tests").mkdir(parents=True)
    (folder / "solution").mkdir()
    (folder / "setup").mkdir()
    title = title or task_id.replace("-", " ").capitalize()
    (folder / "task.yaml").write_text(
        TASK_YAML.format(
            id=task_id, title=title, category=category, categories=" | ".join(CATEGORIES)
        )
    )
    (folder / "tests" / "test_feature.py").write_text(TEST_PY.format(id=task_id))
    (folder / "solution" / "solve.py").write_text(SOLVE_PY.format(id=task_id))
    (folder / "setup" / ".gitkeep").write_text("")
    return folder
