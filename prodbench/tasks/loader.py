"""Finding and reading task folders: `tasks/<id>/task.yaml` with its hidden tests and oracle."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from graders.models import CATEGORIES
from prodbench.tasks.models import TaskSpec

TASKS_DIR = Path(__file__).resolve().parents[2] / "tasks"


class TaskError(ValueError):
    """A task folder is missing, unreadable or invalid; the message says which and why."""


@dataclass(frozen=True)
class Task:
    spec: TaskSpec
    dir: Path

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def tests_dir(self) -> Path:
        return self.dir / self.spec.grading.feature.tests

    @property
    def solution_dir(self) -> Path:
        return self.dir / "solution"

    def file(self, relative: str) -> Path:
        return self.dir / relative


def load_task(folder: Path) -> Task:
    path = folder / "task.yaml"
    if not path.is_file():
        raise TaskError(f"{folder}: no task.yaml (`prodbench tasks new ID` scaffolds one)")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise TaskError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise TaskError(f"{path}: the document must be a mapping of fields")
    try:
        spec = TaskSpec.model_validate(raw)
    except ValidationError as exc:
        lines = [
            f"  {'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}"
            for err in exc.errors()
        ]
        raise TaskError(f"{path}: invalid task:\n" + "\n".join(lines)) from None
    if spec.id != folder.name:
        raise TaskError(f"{path}: id {spec.id!r} must be the folder's name {folder.name!r}")
    task = Task(spec, folder.resolve())
    missing = [
        rel
        for rel in [c.patch for c in spec.setup.commits] + list(spec.setup.fixtures.values())
        if not task.file(rel).is_file()
    ]
    if missing:
        raise TaskError(f"{path}: files named by setup are missing: {', '.join(missing)}")
    return task


def discover(tasks_dir: Path = TASKS_DIR) -> list[Task]:
    """Every task under `tasks_dir`, sorted by id; an invalid one raises with its reason."""
    return [load_task(p.parent) for p in sorted(tasks_dir.glob("*/task.yaml"))]


def select(selector: str, tasks_dir: Path = TASKS_DIR) -> list[Task]:
    """`all`, a category, or comma-separated ids (or a mix of categories and ids)."""
    tasks = discover(tasks_dir)
    if selector.strip() == "all":
        return tasks
    by_id = {t.id: t for t in tasks}
    chosen: dict[str, Task] = {}
    for part in (p.strip() for p in selector.split(",") if p.strip()):
        if part in CATEGORIES:
            chosen.update({t.id: t for t in tasks if t.spec.category == part})
        elif part in by_id:
            chosen[part] = by_id[part]
        else:
            raise TaskError(
                f"no task or category {part!r}; tasks: {', '.join(sorted(by_id)) or 'none'}; "
                f"categories: {', '.join(CATEGORIES)}"
            )
    return sorted(chosen.values(), key=lambda t: t.id)
