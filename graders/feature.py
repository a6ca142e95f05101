"""The feature-correctness grader (F): hidden tests against production, regressions deducted.

`grade_feature` copies the task's hidden tests into a grader-only folder, exports the deployed
commit, and runs three things at once:

- the hidden tests (pytest with `graders.testkit`'s fixtures, in a subprocess that alone gets
  the run's URLs and grader tokens): one `Check` per test, weighted by `grading.weights`;
- the monorepo's own suite at the deployed commit, with the app's python and a clean
  environment (no token reaches the agent's code): a penalty check when anything fails;
- the smoke journeys (`graders.smoke`) against the ingress: a penalty check when any fails.

Hidden tests under `tests/monorepo/` are different: they are copied into their own export of
the deployed commit (its `tests/` folder) and run there with the app's python and the
monorepo's own conftest, in a clean environment; they are named `monorepo/<file>::<test>`.

What the agent broke scores 0 (a test failing, collection errors, a crash, a timeout); what the
environment failed to provide (no ingress, no run variable, no deployed commit in the
workspace) raises `FeatureInfraError`, never a score; a task that names a weight for a test it
does not have raises `ValueError`.

A failing regression group deducts `regression.penalty` from F (F = tests' weighted pass rate
minus the failing groups' penalties, at least 0). `scoring.dimension_score` counts a penalty
check as one more weighted item, so its weight is chosen here to give exactly that deduction,
and a passing one has weight 0 (shown, not counted: it must not dilute failed tests).

The monorepo suite takes ~45 s in full, so each test file's result is cached in the machine's
cache (`cache_dir()/monorepo-tests`, shared by every trial), keyed by the hash of everything it
can execute: the file, its conftests, the monorepo modules it imports (statically, through the fixtures it uses), and
every file that is not such a module (templates, migrations, config). A change reruns only the
files whose inputs changed, in parallel shards; only passes are cached.
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import ParamSpec, TypeVar

from environments.ops.deployer.build import precompile
from environments.paths import cache_dir
from environments.runs import write_json_atomic
from graders.config import FeatureGrading, RegressionGrading
from graders.models import Check
from graders.runview import RunView, TaskState
from graders.smoke import JourneyResult, run_smoke
from graders.timing import timed_into

PROJECT_ROOT = Path(__file__).resolve().parents[1]
NOT_LIVE = "the change is not live: a build that does not deploy scores 0 here"
DETAIL_LINES = 15
DETAIL_CHARS = 2000
# pytest processes for the monorepo suite: one per core (each pays ~2 s of imports and seeding;
# on 2 cores a third shard cost 4 s more CPU and finished later), at least 2, at most 4.
SHARDS = max(2, min(4, os.cpu_count() or 2))
CACHE_VERSION = 1
GRADER_ENV_PREFIXES = ("ACME_", "SENTRY_", "PRODBENCH_", "OPS_", "TRAFFIC_")
P = ParamSpec("P")
T = TypeVar("T")
STARTS_PYTHON = re.compile(r"sys\.executable|['\"]python3?(?:\.\d+)?['\"]")
SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", "var", ".pytest_cache"}


class FeatureInfraError(RuntimeError):
    """The run could not be graded (a service, variable or commit missing): not the agent's fault."""


# ---- hidden tests: discovery and weights --------------------------------------------------


def is_test_file(path: Path) -> bool:
    return path.suffix == ".py" and (path.name.startswith("test_") or path.stem.endswith("_test"))


def find_test_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return sorted(
        p
        for p in root.rglob("*.py")
        if is_test_file(p) and not SKIP_DIRS.intersection(p.relative_to(root).parts)
    )


def discover_tests(hidden: Path) -> list[str]:
    """Node ids of the test functions in `hidden`, read statically (works when collection fails)."""
    found: list[str] = []
    for path in find_test_files(hidden):
        rel = path.relative_to(hidden).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in tree.body:
            if _is_test_def(node):
                found.append(f"{rel}::{node.name}")
            elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
                found += [f"{rel}::{node.name}::{m.name}" for m in node.body if _is_test_def(m)]
    return found


def _is_test_def(node: ast.AST) -> bool:
    return isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")


def weight_keys(nodeid: str) -> list[str]:
    """Every way a task may name this test in `weights`, most specific first."""
    bare = nodeid.split("[", 1)[0]
    parts = bare.split("::")
    keys = [nodeid, bare, f"{parts[0]}::{parts[-1]}", parts[-1]]
    return list(dict.fromkeys(keys))


def weight_of(grading: FeatureGrading, nodeid: str) -> float:
    for key in weight_keys(nodeid):
        if key in grading.weights:
            return grading.weights[key]
    return grading.default_weight


def check_weights(grading: FeatureGrading, nodeids: Iterable[str], *, static: bool = False) -> None:
    """A weight naming no test is a task bug: say which, and what the tests are called.

    `static`: the ids were read from the source, so parametrized ids (`[...]`) cannot be told.
    """
    nodeids = list(nodeids)
    known = {key for n in nodeids for key in weight_keys(n)}
    unknown = sorted(k for k in set(grading.weights) - known if not (static and "[" in k))
    if unknown:
        raise ValueError(
            f"feature.weights name no hidden test: {', '.join(unknown)} "
            f"(tests: {', '.join(sorted(n.split('::')[-1] for n in nodeids)) or 'none'})"
        )


# ---- hidden tests: running ----------------------------------------------------------------


@dataclass
class Outcome:
    nodeid: str
    outcome: str  # passed | failed | error | skipped
    detail: str | None = None


@dataclass
class SuiteRun:
    """What one pytest process said: its outcomes, or why it said nothing usable."""

    outcomes: list[Outcome] = field(default_factory=list)
    broken: str | None = None  # collection error, crash or timeout: every test scores 0
    seconds: float = 0.0


RANK = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}


def parse_junit(path: Path) -> tuple[list[Outcome], list[str]]:
    """(test outcomes by node id, collection errors) from an xunit1 report."""
    if not path.exists():
        return [], []
    by_id: dict[str, Outcome] = {}
    collection: list[str] = []
    for case in ET.parse(path).getroot().iter("testcase"):
        outcome, detail = _case_outcome(case)
        file = case.get("file")
        if not file or not case.get("classname"):
            collection.append(f"{case.get('name')}: {detail or outcome}")
            continue
        nodeid = _nodeid(file, case.get("classname", ""), case.get("name", ""))
        old = by_id.get(nodeid)
        if old is None or RANK[outcome] > RANK[old.outcome]:
            by_id[nodeid] = Outcome(nodeid, outcome, detail or (old.detail if old else None))
    return list(by_id.values()), collection


def _case_outcome(case: ET.Element) -> tuple[str, str | None]:
    for tag, outcome in (("error", "error"), ("failure", "failed"), ("skipped", "skipped")):
        element = case.find(tag)
        if element is not None:
            return outcome, _first_lines(element.get("message"), element.text)
    return "passed", None


def _first_lines(message: str | None, text: str | None) -> str:
    lines = (text or "").strip().splitlines()
    marked = [i for i, line in enumerate(lines) if line.startswith("E ")]
    start = max(0, (marked[0] if marked else len(lines)) - 3)
    body = "\n".join(lines[start : start + DETAIL_LINES])
    head = (message or "").strip()
    return (head + ("\n" + body if body and body != head else ""))[:DETAIL_CHARS]


def _nodeid(file: str, classname: str, name: str) -> str:
    module = file[:-3].replace("/", ".") if file.endswith(".py") else file
    rest = classname[len(module) :].lstrip(".") if classname.startswith(module) else ""
    return "::".join([file, *([c for c in rest.split(".") if c]), name])


def run_pytest(
    argv: list[str],
    cwd: Path,
    env: dict[str, str],
    xml: Path,
    timeout: float,
    niceness: int = 0,
) -> tuple[int | None, str, float]:
    """(exit code or None on timeout, output tail, seconds) of one pytest process, at
    `niceness` (19: only what nothing else wants of the CPU).

    Each gets a temporary folder of its own: pytest prunes the shared /tmp/pytest-of-<user> to
    its newest few, which under concurrent trials can be a folder another process is using.
    A short path under /tmp, since tests put Unix sockets there (a socket path is <= 107 bytes).
    """
    started = time.monotonic()
    xml.unlink(missing_ok=True)
    scratch = tempfile.mkdtemp(prefix="pb-pytest-")
    try:
        proc = subprocess.run(
            [*(["nice", "-n", str(niceness)] if niceness else []), *argv, f"--basetemp={scratch}/t"],
            cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
        code, output = proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as exc:
        code, output = None, exc.stdout.decode(errors="replace") if exc.stdout else ""
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    tail = "\n".join(output.strip().splitlines()[-DETAIL_LINES:])
    return code, tail, round(time.monotonic() - started, 3)


MONOREPO_HIDDEN = "monorepo"
HIDDEN_PREFIX = "test_hidden_"


def stage_hidden_tests(tests_dir: Path, dest: Path) -> Path:
    """A fresh copy of the production hidden tests (not `monorepo/`), with an ini so no parent
    folder's config applies."""
    if not tests_dir.is_dir():
        raise ValueError(f"{tests_dir}: the task has no hidden tests folder")
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(
        tests_dir,
        dest,
        ignore=lambda d, names: (
            [n for n in names if n in ("__pycache__", MONOREPO_HIDDEN) or n.endswith(".pyc")]
            if Path(d) == tests_dir
            else [n for n in names if n == "__pycache__" or n.endswith(".pyc")]
        ),
    )
    if not any((dest / n).exists() for n in ("pytest.ini", "pyproject.toml", "tox.ini")):
        (dest / "pytest.ini").write_text("[pytest]\n")
    return dest


def run_hidden(hidden: Path, env: dict[str, str], timeout: float) -> SuiteRun:
    xml = hidden.parent / "hidden-junit.xml"
    argv = [sys.executable, "-m", "pytest", str(hidden), "--rootdir", str(hidden)]
    argv += ["-p", "graders.testkit", "-p", "no:cacheprovider", "-q", "-o", "junit_family=xunit1"]
    argv += [f"--junitxml={xml}", *plugin_args(find_test_files(hidden))]
    code, tail, seconds = run_pytest(argv, hidden, env, xml, timeout)
    outcomes, collection = parse_junit(xml)
    broken = None
    if code is None:
        broken = f"the hidden tests timed out after {timeout:g}s"
    elif collection:
        broken = "the hidden tests could not be collected: " + "; ".join(collection)[:1500]
    elif code not in (0, 1) or not outcomes:
        broken = f"pytest exited with code {code} running the hidden tests:\n{tail}"
    return SuiteRun(outcomes, broken[:DETAIL_CHARS] if broken else None, seconds)


def discover_monorepo_hidden(tests_dir: Path) -> list[str]:
    folder = tests_dir / MONOREPO_HIDDEN
    if not folder.is_dir():
        return []
    return [f"{MONOREPO_HIDDEN}/{n}" for n in discover_tests(folder)]


def run_monorepo_hidden(
    tests_dir: Path, workspace: Path, commit: str, dest: Path, python: str, timeout: float
) -> SuiteRun:
    """`tests/monorepo/*` inside an export of the deployed commit, with its own conftest."""
    export = export_commit(workspace, commit, dest)
    target = export / "tests"
    target.mkdir(exist_ok=True)
    names = {}
    for path in find_test_files(tests_dir / MONOREPO_HIDDEN):
        copied = target / f"{HIDDEN_PREFIX}{path.name}"
        shutil.copy2(path, copied)
        names[f"tests/{copied.name}"] = f"{MONOREPO_HIDDEN}/{path.name}"
    xml = dest.parent / "monorepo-hidden-junit.xml"
    argv = [python, "-m", "pytest", *names, "-p", "no:cacheprovider", "-q"]
    argv += ["-o", "junit_family=xunit1", f"--junitxml={xml}"]
    argv += plugin_args([*find_test_files(target), *(export / "tests").glob("conftest.py")])
    code, tail, seconds = run_pytest(argv, export, clean_env(), xml, timeout)
    outcomes, collection = parse_junit(xml)
    for outcome in outcomes:
        file, _, rest = outcome.nodeid.partition("::")
        outcome.nodeid = f"{names.get(file, file)}::{rest}"
    broken = None
    if code is None:
        broken = f"the monorepo hidden tests timed out after {timeout:g}s"
    elif collection:
        broken = "the monorepo hidden tests could not be collected: " + "; ".join(collection)
    elif code not in (0, 1) or not outcomes:
        broken = f"pytest exited with code {code} running the monorepo hidden tests:\n{tail}"
    return SuiteRun(outcomes, broken[:DETAIL_CHARS] if broken else None, seconds)


def hidden_checks(
    grading: FeatureGrading, static: list[str], run: SuiteRun, others: Iterable[str] = ()
) -> list[Check]:
    """One check per test: collected ones with their outcome, or every known one at 0.
    `others`: the task's other hidden tests (run apart), which weights may name too."""
    if run.broken is not None:
        return [_test_check(grading, n, "not run", 0.0, run.broken) for n in static]
    check_weights(grading, [*static, *others, *(o.nodeid for o in run.outcomes)])
    return [
        _test_check(
            grading,
            o.nodeid,
            o.outcome,
            1.0 if o.outcome == "passed" else 0.0,
            o.detail if o.outcome != "skipped" else f"skipped (scores 0): {o.detail}",
        )
        for o in run.outcomes
    ]


def _test_check(
    grading: FeatureGrading, nodeid: str, observed: str, score: float, detail: str | None
) -> Check:
    return Check(
        name=nodeid,
        dimension="feature",
        weight=weight_of(grading, nodeid),
        score=score,
        expected="passed",
        observed=observed,
        detail=detail,
    )


# ---- the run's grader-only environment ------------------------------------------------------


def grader_env(view: RunView, deployed: Path) -> dict[str, str]:
    """What hidden tests need to reach the run; for the grader's own processes only."""
    try:
        tools = view.env.services["tools"]
        extra = {
            "ACME_URL": view.url("ingress"),
            "PRODBENCH_RUN_DIR": str(view.run_dir),
            "PRODBENCH_WORKSPACE": str(deployed),
            "PRODBENCH_ADMIN_TOKEN": view.admin_token,
            "PRODBENCH_OPS_URL": view.url("ops"),
            "PRODBENCH_OPS_TOKEN": view.ops_token,
            "PRODBENCH_PROMETHEUS_URL": view.url("prometheus"),
            "PRODBENCH_TOOL_URLS": json.dumps({t: view.tool_url(t) for t in tools.ports}),
        }
    except KeyError as exc:
        raise FeatureInfraError(f"the run cannot be graded: it has no {exc}") from None
    path = os.pathsep.join(p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, **extra, "PYTHONPATH": path, "PYTHONDONTWRITEBYTECODE": "1"}


def clean_env() -> dict[str, str]:
    """The environment for the agent's code (the monorepo suite): no run, no token."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(GRADER_ENV_PREFIXES)}
    return {**env, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": ""}


def export_commit(workspace: Path, commit: str, dest: Path) -> Path:
    """The files of `commit` (what is deployed), not the agent's working tree."""
    proc = subprocess.run(
        ["git", "-C", str(workspace), "archive", "--format=tar", commit],
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        error = proc.stderr.decode(errors="replace").strip()
        raise FeatureInfraError(f"cannot export {commit} from {workspace}: {error}")
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(proc.stdout)) as tar:
        tar.extractall(dest, filter="data")
    # Bytecode from the deployer's cache (copies, by source content): the test processes then
    # load the app instead of each compiling it again.
    precompile(dest)
    return dest


def plugin_args(files: Iterable[Path]) -> list[str]:
    """pytest options that skip plugins the files do not use.

    Hypothesis' pytest plugin imports hypothesis (about 1.8 s of CPU) in every pytest process;
    a file that uses hypothesis keeps it.
    """
    for path in files:
        try:
            if "hypothesis" in path.read_text(errors="replace"):
                return []
        except OSError:
            continue
    return ["-p", "no:hypothesispytest"]


# ---- the monorepo suite: what each test file depends on -------------------------------------


@dataclass
class ModuleGraph:
    """The export's python modules and what each imports (statically, whole file)."""

    root: Path
    modules: dict[str, Path] = field(default_factory=dict)
    _imports: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, root: Path) -> ModuleGraph:
        graph = cls(root)
        for path in root.rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            if SKIP_DIRS.intersection(parts) or not all(p.isidentifier() for p in parts):
                continue
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            if name:
                graph.modules[name] = path
        return graph

    def imports(self, name: str) -> set[str]:
        if name not in self._imports:
            path = self.modules[name]
            self._imports[name] = self.resolve(_tree(path), name, path.name == "__init__.py")
        return self._imports[name]

    def resolve(self, node: ast.AST, module: str, is_package: bool) -> set[str]:
        """Modules of the graph imported anywhere in `node` (their parent packages too)."""
        package = module.split(".") if is_package else module.split(".")[:-1]
        names: set[str] = set()
        for item in ast.walk(node):
            if isinstance(item, ast.Import):
                names.update(a.name for a in item.names)
            elif isinstance(item, ast.ImportFrom):
                base = (item.module or "").split(".") if item.module else []
                if item.level:
                    base = package[: len(package) - item.level + 1] + base
                names.add(".".join(base))
                names.update(".".join([*base, a.name]) for a in item.names)
        parents = {".".join(n.split(".")[:i]) for n in names for i in range(1, n.count(".") + 2)}
        return {n for n in parents if n in self.modules}

    def closure(self, start: set[str]) -> set[str]:
        seen, todo = set(), list(start)
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                todo.extend(self.imports(name) - seen)
        return seen


def _tree(path: Path) -> ast.Module:
    try:
        return ast.parse(path.read_bytes(), filename=str(path))
    except (SyntaxError, ValueError):
        return ast.Module(body=[], type_ignores=[])


@dataclass
class Conftest:
    """A conftest's imports: at module level (every test), and per fixture (its users)."""

    path: Path
    shared: set[str]
    fixtures: dict[str, tuple[set[str], set[str]]]  # name -> (imports, fixtures it asks for)
    autouse: set[str]


def read_conftest(graph: ModuleGraph, path: Path) -> Conftest:
    tree, module = _tree(path), _module_name(graph, path)
    shared: set[str] = set()
    fixtures: dict[str, tuple[set[str], set[str]]] = {}
    autouse: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            args = {a.arg for a in node.args.args + node.args.kwonlyargs}
            fixtures[node.name] = (graph.resolve(node, module, False), args)
            if any("autouse" in ast.unparse(d) for d in node.decorator_list):
                autouse.add(node.name)
        else:
            shared |= graph.resolve(node, module, False)
    return Conftest(path, shared, fixtures, autouse)


def _module_name(graph: ModuleGraph, path: Path) -> str:
    return ".".join(path.relative_to(graph.root).with_suffix("").parts)


def file_deps(graph: ModuleGraph, path: Path, conftests: list[Conftest]) -> set[str]:
    """Modules a test file can execute: its imports and those of the fixtures it names.

    A file that starts Python processes (`sys.executable`, a `"python"` argument) can
    run any module: all. Other programs it starts (redis-server, pg_ctl) run none of ours.
    """
    text = path.read_text(encoding="utf-8", errors="replace")
    if STARTS_PYTHON.search(text):
        return set(graph.modules)
    tree = _tree(path)
    used = {n.arg for n in ast.walk(tree) if isinstance(n, ast.arg)}
    used |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    used |= {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)} - {None}
    start = graph.resolve(tree, _module_name(graph, path), False)
    for conftest in conftests:
        start |= conftest.shared
        todo = [n for n in used | conftest.autouse if isinstance(n, str)]
        seen: set[str] = set()
        while todo:
            name = todo.pop()
            if name in conftest.fixtures and name not in seen:
                seen.add(name)
                imports, asks = conftest.fixtures[name]
                start |= imports
                todo.extend(asks)
    return graph.closure(start)


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cache_keys(root: Path, files: list[Path], python: str) -> dict[Path, str]:
    """A cache key per test file: the hash of every input that can change its result."""
    graph = ModuleGraph.build(root)
    conftests = {p: read_conftest(graph, p) for p in root.rglob("conftest.py")}
    deps = {
        f: file_deps(graph, f, [c for p, c in conftests.items() if p.parent in f.parents])
        for f in files
    }
    code = {graph.modules[m] for d in deps.values() for m in d} | set(conftests) | set(files)
    data = sorted(
        (p.relative_to(root).as_posix(), file_hash(p))
        for p in root.rglob("*")
        if p.is_file() and p not in code and not SKIP_DIRS.intersection(p.relative_to(root).parts)
    )
    data_hash = hashlib.sha256(json.dumps(data).encode()).hexdigest()
    keys = {}
    for f in files:
        inputs = {graph.modules[m] for m in deps[f]} | {f}
        inputs |= {p for p in conftests if p.parent in f.parents}
        listed = sorted((p.relative_to(root).as_posix(), file_hash(p)) for p in inputs)
        blob = json.dumps(
            [CACHE_VERSION, python, f.relative_to(root).as_posix(), listed, data_hash]
        )
        keys[f] = hashlib.sha256(blob.encode()).hexdigest()
    return keys


# ---- the monorepo suite: running ------------------------------------------------------------


@dataclass
class MonorepoResult:
    ok: bool
    failures: list[str]
    ran: list[str]
    cached: list[str]
    flaky: list[str]
    seconds: float
    detail: str | None = None


def run_monorepo(
    root: Path, paths: list[str], python: str, cache: Path, timeout: float, niceness: int = 0
) -> MonorepoResult:
    """The monorepo's suite at `root`: cached passes skipped, the rest in parallel shards."""
    started = time.monotonic()
    missing = [p for p in paths if not (root / p).exists()]
    if missing:
        return MonorepoResult(
            False, [f"{p} is missing" for p in missing], [], [], [], 0.0, "the tests were removed"
        )
    cache.mkdir(parents=True, exist_ok=True)
    files = [f for p in paths for f in find_test_files(root / p)]
    keys = cache_keys(root, files, python)
    todo = [f for f in files if not (cache / f"{keys[f]}.json").exists()]
    durations = _durations(cache)
    shards = _shards(root, todo, durations)
    with ThreadPoolExecutor(max_workers=max(1, len(shards))) as pool:
        results = list(
            pool.map(
                lambda s: _run_shard(root, s[1], s[0], python, timeout, niceness),
                enumerate(shards),
            )
        )
    failures: list[str] = []
    details: list[str] = []
    for passed, failed, detail, seconds in results:
        failures += failed
        details += [detail] if detail else []
        for rel in passed:
            write_json_atomic(cache / f"{keys[root / rel]}.json", {"file": rel, "at": time.time()})
        durations.update(seconds)
    write_json_atomic(cache / "durations.json", durations)
    failures, flaky = _confirm(root, failures, python, timeout, niceness)
    rel = [f.relative_to(root).as_posix() for f in todo]
    cached = [f.relative_to(root).as_posix() for f in files if f not in todo]
    return MonorepoResult(
        not failures,
        failures,
        rel,
        cached,
        flaky,
        round(time.monotonic() - started, 3),
        "\n".join(details)[:DETAIL_CHARS] or None,
    )


def _confirm(
    root: Path, failures: list[str], python: str, timeout: float, niceness: int = 0
) -> tuple[list[str], list[str]]:
    """(failures, flaky): failed tests rerun once alone; those that pass were the machine's load
    or a flaky test (timing guards), not the agent's regression."""
    tests = [f for f in failures if "::" in f]
    if not tests or len(tests) != len(failures):
        return failures, []
    _, again, _, _ = _run_shard(root, tests, SHARDS, python, timeout, niceness)
    return [f for f in failures if f in again] or again, [f for f in tests if f not in again]


def _durations(cache: Path) -> dict[str, float]:
    try:
        return json.loads((cache / "durations.json").read_text())
    except (OSError, ValueError):
        return {}


def _shards(root: Path, files: list[Path], durations: dict[str, float]) -> list[list[str]]:
    """Files split over up to SHARDS processes, longest first onto the least loaded."""
    rel = sorted(
        (f.relative_to(root).as_posix() for f in files), key=lambda r: -durations.get(r, 3.0)
    )
    shards: list[list[str]] = [[] for _ in range(min(SHARDS, len(rel)))]
    loads = [0.0] * len(shards)
    for name in rel:
        i = loads.index(min(loads))
        shards[i].append(name)
        loads[i] += durations.get(name, 3.0)
    return shards


def _run_shard(
    root: Path, files: list[str], index: int, python: str, timeout: float, niceness: int = 0
) -> tuple[list[str], list[str], str | None, dict[str, float]]:
    """(files that passed, failing tests, detail, seconds per file) of one pytest process."""
    xml = root.parent / f"monorepo-{index}.xml"
    argv = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"]
    argv += ["-o", "junit_family=xunit1", f"--junitxml={xml}", *files]
    argv += plugin_args([root / f.split("::")[0] for f in files] + list(root.rglob("conftest.py")))
    code, tail, _ = run_pytest(argv, root, clean_env(), xml, timeout, niceness)
    outcomes, collection = parse_junit(xml)
    bad = [o for o in outcomes if o.outcome in ("failed", "error")]
    failed = [o.nodeid for o in bad] + collection
    if code is None:
        failed.append(f"timed out after {timeout:g}s")
    elif code not in (0, 5) and not failed:
        failed.append(f"pytest exited with code {code}")
    ran = {o.nodeid.split("::")[0] for o in outcomes}
    passed = sorted(ran - {o.nodeid.split("::")[0] for o in bad}) if not collection else []
    detail = (bad[0].detail if bad and bad[0].detail else tail) if failed else None
    return passed, failed, detail, file_seconds(xml)


def file_seconds(xml: Path) -> dict[str, float]:
    """Seconds each test file took, from a junit report (to balance the next shards)."""
    seconds: dict[str, float] = {}
    if xml.exists():
        for case in ET.parse(xml).getroot().iter("testcase"):
            if case.get("file"):
                name = case.get("file", "")
                seconds[name] = round(seconds.get(name, 0.0) + float(case.get("time") or 0), 3)
    return seconds


# ---- regression penalties -------------------------------------------------------------------


def penalty_weights(tests: list[Check], failing: list[float]) -> list[float]:
    """Weights for failing penalty checks so that F = pass rate - sum(penalties), at least 0.

    With test weight W and pass rate f, penalties of total weight P give F = fW / (W + P), so
    P = W·d / (f - d) for a deduction d < f; when d >= f, F must be 0: a weight so large that
    F < 1e-9 (exactly 0 when no test passed). Shared in proportion to each group's penalty.
    """
    total = sum(c.weight for c in tests)
    d = sum(failing)
    if not failing or total <= 0 or d <= 0:
        return [0.0 for _ in failing]
    f = sum(c.weight * c.score for c in tests) / total
    weight = total * d / (f - d) if f - d > 1e-9 else total * 1e9
    return [weight * p / d for p in failing]


def regression_checks(
    tests: list[Check], regression: RegressionGrading, results: dict[str, tuple[bool, object, str]]
) -> list[Check]:
    """One penalty check per group run (name -> (ok, observed, detail))."""
    failing = [name for name, (ok, _, _) in results.items() if not ok]
    weights = dict(zip(failing, penalty_weights(tests, [regression.penalty] * len(failing))))
    return [
        Check(
            name=f"regression: {name}",
            dimension="feature",
            weight=weights.get(name, 0.0),
            score=1.0 if ok else 0.0,
            expected=f"no failure (a failure deducts {regression.penalty:g} from F)",
            observed=observed,
            detail=detail or None,
            penalty=True,
        )
        for name, (ok, observed, detail) in results.items()
    ]


def smoke_result(results: list[JourneyResult]) -> tuple[bool, object, str]:
    failed = [r for r in results if not r.ok]
    observed = {"failed": [r.name for r in failed], "passed": [r.name for r in results if r.ok]}
    observed["seconds"] = max((r.seconds for r in results), default=0.0)
    return not failed, observed, "\n".join(f"{r.name}: {r.error}" for r in failed)


def monorepo_result(result: MonorepoResult) -> tuple[bool, object, str]:
    observed = {"failed": result.failures[:20], "ran": result.ran, "cached": result.cached}
    observed.update(flaky=result.flaky, seconds=result.seconds)
    return result.ok, observed, result.detail or ""


# ---- the grader -----------------------------------------------------------------------------


def grade_feature(
    grading: FeatureGrading,
    tests_dir: Path,
    view: RunView,
    state: TaskState,
    work_dir: Path,
    *,
    deployed_commit: str | None,
    deployed: bool,
    timings: dict[str, float] | None = None,
) -> list[Check]:
    """Feature checks of one trial (see the module doc); `work_dir` is grader-only scratch.

    `timings` gets each part's wall seconds (`feature.<part>`): what a slow grading waited on.
    """
    timings = {} if timings is None else timings

    def timed(part: str, fn: Callable[P, T]) -> Callable[P, T]:
        return timed_into(timings, f"feature.{part}", fn)

    work_dir.mkdir(parents=True, exist_ok=True)
    hidden = stage_hidden_tests(tests_dir, work_dir / "hidden")
    static = discover_tests(hidden)
    in_monorepo = discover_monorepo_hidden(tests_dir)
    if not static and not in_monorepo:
        raise ValueError(f"{tests_dir}: no hidden test (test_*.py with test functions)")
    check_weights(grading, static + in_monorepo, static=True)
    if grading.require_deploy and not deployed:
        return [
            _test_check(grading, n, "not deployed", 0.0, NOT_LIVE) for n in static + in_monorepo
        ]
    ingress = _ingress(view)
    commit = deployed_commit or "HEAD"
    export = timed("export", export_commit)(view.workspace, commit, work_dir / "deployed")
    env = grader_env(view, export)
    regression = grading.regression
    with ThreadPoolExecutor(max_workers=4) as pool:
        hidden_run = (
            pool.submit(timed("hidden", run_hidden), hidden, env, grading.timeout)
            if static
            else None
        )
        mono_hidden = (
            pool.submit(
                timed("monorepo_hidden", run_monorepo_hidden),
                tests_dir,
                view.workspace,
                commit,
                work_dir / "deployed-hidden",
                app_python(view),
                grading.timeout,
            )
            if in_monorepo
            else None
        )
        mono = (
            pool.submit(
                timed("monorepo", run_monorepo),
                export,
                regression.monorepo_tests,
                app_python(view),
                cache_dir() / "monorepo-tests",
                grading.timeout,
            )
            if regression.monorepo
            else None
        )
        smoke = pool.submit(timed("smoke", run_smoke), ingress) if regression.smoke else None
        tests = (
            hidden_checks(grading, static, hidden_run.result(), in_monorepo) if hidden_run else []
        )
        if mono_hidden is not None:
            tests += hidden_checks(grading, in_monorepo, mono_hidden.result(), static)
        groups: dict[str, tuple[bool, object, str]] = {}
        if mono is not None:
            groups["monorepo tests"] = monorepo_result(mono.result())
        if smoke is not None:
            groups["smoke journeys"] = smoke_result(smoke.result())
    return tests + regression_checks(tests, regression, groups)


def _ingress(view: RunView) -> str:
    try:
        return view.url("ingress")
    except KeyError as exc:
        raise FeatureInfraError(f"the run cannot be graded: {exc}") from None


def app_python(view: RunView) -> str:
    python = view.vars.get("python")
    if not python or not Path(python).exists():
        raise FeatureInfraError(f"the run's app python {python!r} is not there (run-request vars)")
    return python
