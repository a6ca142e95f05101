"""The workspace builder: real git in temporary directories."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from environments.acme.company import load_company
from environments.acme.workspace import (
    DEFAULT_APP_DIR,
    DEFAULT_HISTORY_PATH,
    MAX_JITTER_MINUTES,
    HistoryError,
    add_commit,
    build_workspace,
    load_history,
)
from environments.acme.workspace import _glob_regex as glob_regex

COMPANY = load_company()

README = """# Acme Outfitters

The monorepo behind Acme Outfitters: storefront, API, worker, payments and ingress.

## Services

Each service lives under `acme/` and is described in `services.yaml`.
Ports are assigned per run.

## Local development

Create a virtualenv, install `requirements.txt` and run `alembic upgrade head`.
Then start the services with the runner.

## Tests

Run `pytest` from the repository root.
Tests use SQLite and need no network.

## Deploying

Every merge to main is built, migrated and rolled out through a canary.
Watch #deploys while it runs.

## On-call

The rotation is in PagerDuty; runbooks live in Notion.
Page the payments lead for anything that touches capture.
"""

SERVICES = """services:
  api:
    command: uvicorn acme.api.app:create_app

  web:
    command: uvicorn acme.web.app:create_app

  worker:
    command: python -m acme.worker

  payments:
    command: uvicorn acme.payments.app:create_app

  ingress:
    command: uvicorn acme.ingress.app:create_app
"""

# A small stand-in for environments/acme/app with the same layout.
TEMPLATE: dict[str, str] = {
    ".gitignore": "__pycache__/\n*.db\n",
    "README.md": README,
    "requirements.txt": "fastapi\nuvicorn\nsqlalchemy\nalembic\nprometheus-client\nsentry-sdk\n",
    "services.yaml": SERVICES,
    "alembic.ini": "[alembic]\nscript_location = migrations\n",
    "migrations/env.py": "# alembic env\n",
    "migrations/script.py.mako": "# template\n",
    "migrations/versions/0001_core_schema.py": "revision = '0001'\n",
    "migrations/versions/0002_jobs_outbox_search.py": "revision = '0002'\n",
    "migrations/versions/0003_admin_refunds_events.py": "revision = '0003'\n",
    "acme/__init__.py": "",
    "acme/common/__init__.py": "",
    **{
        f"acme/common/{name}.py": f'"""{name}."""\n'
        for name in [
            *("settings", "logging", "db", "errors", "metrics", "middleware", "queue", "cache"),
            *("sentry", "flags", "security", "objectstore", "migrate", "textsearch"),
        ]
    },
    "acme/models/__init__.py": "",
    **{f"acme/models/{n}.py": f"# {n}\n" for n in ("base", "users", "catalog", "orders", "ops")},
    "acme/api/__init__.py": "",
    "acme/api/app.py": "def create_app(): ...\n",
    **{
        f"acme/api/routes/{n}.py": f"# {n} routes\n"
        for n in ("products", "cart", "orders", "search", "auth", "admin")
    },
    "acme/web/__init__.py": "",
    "acme/web/app.py": "def create_app(): ...\n",
    "acme/web/templates/base.html": "<html>{% block body %}{% endblock %}</html>\n",
    "acme/web/templates/product.html": "<h1>{{ product.name }}</h1>\n",
    "acme/web/templates/cart.html": "<h1>Cart</h1>\n",
    "acme/web/templates/account.html": "<h1>Account</h1>\n",
    "acme/web/static/site.css": "body { margin: 0; }\n",
    "acme/worker/__init__.py": "",
    "acme/worker/main.py": "def main(): ...\n",
    "acme/worker/jobs/fulfilment.py": "# fulfil\n",
    "acme/worker/jobs/email.py": "# email\n",
    "acme/worker/jobs/indexer.py": "# index\n",
    "acme/worker/jobs/reports.py": "# report\n",
    "acme/worker/scheduler.py": "# schedule\n",
    "acme/worker/entrypoint.sh": "#!/bin/sh\nexec python -m acme.worker\n",
    "acme/payments/__init__.py": "",
    "acme/payments/app.py": "def create_app(): ...\n",
    "acme/payments/simulator.py": "# sim\n",
    "acme/payments/idempotency.py": "# idem\n",
    "acme/payments/refunds.py": "# refunds\n",
    "acme/payments/webhooks.py": "# webhooks\n",
    "acme/payments/capture.py": "# capture\n",
    "acme/ingress/__init__.py": "",
    "acme/ingress/router.py": "# weighted routing\n",
    "acme/seed/__init__.py": "",
    "acme/seed/demo.py": "# demo data\n",
    "tests/conftest.py": "",
    "tests/test_api_cart.py": "def test_cart(): ...\n",
    "tests/test_worker.py": "def test_worker(): ...\n",
}
EXECUTABLE = {"acme/worker/entrypoint.sh"}
# Never part of a workspace, wherever they sit in the template.
JUNK = [
    "acme/__pycache__/settings.cpython-311.pyc",
    "acme/api/stale.pyc",
    ".pytest_cache/v/cache/nodeids",
    "dev.db",
    "acme/seed/local.db",
    ".venv/bin/python",
]


def make_template(root: Path, extra: dict[str, str] | None = None) -> Path:
    for rel, text in {**TEMPLATE, **(extra or {})}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        path.chmod(0o755 if rel in EXECUTABLE else 0o644)
    (root / "acme/common/flags.py").chmod(0o600)  # odd modes are normalised
    (root / "acme/api/app.py").chmod(0o664)
    for rel in JUNK:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"junk")
    return root


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return make_template(tmp_path_factory.mktemp("template"))


def git(repo: Path, *args: str) -> str:
    out = subprocess.run(["git", *args], cwd=repo, capture_output=True, check=True)
    return out.stdout.decode()


def write_history(path: Path, commits: list[dict], sync_author: str = "maya.chen") -> Path:
    path.write_text(yaml.safe_dump({"sync_author": sync_author, "commits": commits}))
    return path


def expected_tree(template: Path) -> dict[str, tuple[str, str]]:
    """path -> (mode, blob sha) for every file that must be in HEAD."""
    tree = {}
    for rel in TEMPLATE:
        data = (template / rel).read_bytes()
        blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        tree[rel] = ("100755" if rel in EXECUTABLE else "100644", blob)
    return tree


def head_tree(repo: Path) -> dict[str, tuple[str, str]]:
    tree = {}
    for entry in git(repo, "ls-tree", "-r", "-z", "HEAD").split("\0"):
        if entry:
            meta, path = entry.split("\t", 1)
            mode, _kind, sha = meta.split()
            tree[path] = (mode, sha)
    return tree


# -- reproducibility --------------------------------------------------------------------------


def test_same_seed_gives_same_hashes(template, tmp_path):
    a = build_workspace(template, tmp_path / "a", seed=7)
    b = build_workspace(template, tmp_path / "b", seed=7)
    assert a.head == b.head
    assert [c.sha for c in a.commits] == [c.sha for c in b.commits]
    assert git(tmp_path / "a", "rev-parse", "HEAD").strip() == a.head


def test_different_seed_gives_different_hashes_but_same_tree(template, tmp_path):
    a = build_workspace(template, tmp_path / "a", seed=1)
    b = build_workspace(template, tmp_path / "b", seed=2)
    assert a.head != b.head
    assert git(tmp_path / "a", "rev-parse", "HEAD^{tree}") == git(
        tmp_path / "b", "rev-parse", "HEAD^{tree}"
    )
    assert [c.message for c in a.commits] == [c.message for c in b.commits]


def test_hashes_do_not_depend_on_the_process(template, tmp_path):
    """Another interpreter, another hash seed, another user config: the same commits."""
    here = build_workspace(template, tmp_path / "here", seed=3)
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / ".gitconfig").write_text(
        "[user]\n\tname = Someone Else\n[core]\n\tautocrlf = true\n"
    )
    code = (
        "import sys; from pathlib import Path;"
        "from environments.acme.workspace import build_workspace;"
        "print(build_workspace(Path(sys.argv[1]), Path(sys.argv[2]), seed=3).head)"
    )
    env = {
        **os.environ,
        "PYTHONHASHSEED": "12345",
        "HOME": str(tmp_path / "home"),
        "GIT_AUTHOR_NAME": "Intruder",
        "TZ": "Asia/Tokyo",
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    out = subprocess.run(
        [sys.executable, "-c", code, str(template), str(tmp_path / "there")],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == here.head


# -- the history ------------------------------------------------------------------------------


def test_history_is_long_and_written_by_owners(template, tmp_path):
    info = build_workspace(template, tmp_path / "ws", seed=0)
    log = git(tmp_path / "ws", "log", "--reverse", "--format=%H%x1f%an%x1f%ae%x1f%cn%x1f%s")
    rows = [line.split("\x1f") for line in log.splitlines()]
    assert len(rows) == info.commit_count >= 30
    assert [r[0] for r in rows] == [c.sha for c in info.commits]
    by_email = {e.email: e for e in COMPANY.employees}
    for sha, name, email, committer, subject in rows:
        assert email in by_email, (sha, email)
        assert by_email[email].name == name == committer
        scope = subject.split(":")[0]
        if scope in COMPANY.components:
            assert by_email[email] in COMPANY.owners_of(scope), subject
    assert len({r[2] for r in rows}) >= 10  # a team, not one person
    subjects = [r[4] for r in rows]
    assert subjects[0] == "chore: initial commit"
    assert any(s.startswith("docs:") for s in subjects)
    assert any(s.startswith("payments: idempotency keys") for s in subjects)


def test_dates_follow_the_script_within_the_jitter(template, tmp_path):
    info = build_workspace(template, tmp_path / "ws", seed=11)
    scripted = {c.message.strip(): c.date for c in load_history().commits}
    dates = [
        dt.datetime.fromisoformat(d)
        for d in git(tmp_path / "ws", "log", "--reverse", "--format=%aI").split()
    ]
    assert dates == sorted(dates)
    assert dt.datetime(2025, 3, 1, tzinfo=dt.UTC) < dates[0]
    assert dates[-1] < dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    for commit, when in zip(info.commits, dates, strict=True):
        assert commit.date == when
        assert when.utcoffset() == scripted[commit.message].utcoffset()  # the author's own zone
        assert abs(when - scripted[commit.message]) <= dt.timedelta(minutes=MAX_JITTER_MINUTES + 1)


def test_head_holds_every_template_file_with_bytes_and_mode(template, tmp_path):
    dest = tmp_path / "ws"
    info = build_workspace(template, dest, seed=0)
    assert info.unmatched == []
    assert head_tree(dest) == expected_tree(template)  # junk excluded, modes normalised
    assert git(dest, "status", "--porcelain", "--untracked-files=all") == ""
    for rel in TEMPLATE:
        assert (dest / rel).read_bytes() == (template / rel).read_bytes()
    assert os.access(dest / "acme/worker/entrypoint.sh", os.X_OK)
    assert not os.access(dest / "acme/api/app.py", os.X_OK)
    assert git(dest, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert git(dest, "fsck", "--strict", "--no-progress") == ""


def test_files_appear_once_and_touched_docs_grow(template, tmp_path):
    dest = tmp_path / "ws"
    build_workspace(template, dest, seed=0)
    added = git(dest, "log", "--reverse", "--diff-filter=A", "--name-only", "--format=").split()
    assert sorted(added) == sorted(TEMPLATE)  # each file is added exactly once
    readme = git(dest, "log", "--reverse", "--format=%H %s", "--", "README.md").splitlines()
    assert len(readme) >= 3
    assert readme[0].endswith("chore: initial commit")
    versions = [git(dest, "show", f"{line.split()[0]}:README.md") for line in readme]
    assert versions[-1] == README
    for shorter, longer in itertools.pairwise(versions):
        assert len(shorter) < len(longer) and longer.startswith(shorter.rstrip("\n"))
    assert versions[0].startswith("# Acme Outfitters") and "## On-call" not in versions[0]
    # the cart routes arrive in the commit that says so
    cart = git(dest, "log", "--format=%s", "--", "acme/api/routes/cart.py").strip()
    assert cart == "api: add cart endpoints"


def test_unmatched_files_go_into_a_final_sync_commit(tmp_path):
    template = make_template(
        tmp_path / "tpl", {"extras/notes.txt": "stray\n", "Dockerfile": "FROM x\n"}
    )
    dest = tmp_path / "ws"
    info = build_workspace(template, dest, seed=0)
    assert info.unmatched == ["Dockerfile", "extras/notes.txt"]
    assert info.commits[-1].message == "chore: sync"
    assert info.commits[-1].author == load_history().sync_author
    assert git(dest, "show", "--name-only", "--format=%s", "HEAD").split() == [
        "chore:",
        "sync",
        "Dockerfile",
        "extras/notes.txt",
    ]
    assert (dest / "extras/notes.txt").read_text() == "stray\n"


def test_build_is_fast(tmp_path):
    extra = {f"acme/api/routes/generated_{i:03d}.py": f"VALUE = {i}\n" * 40 for i in range(100)}
    template = make_template(tmp_path / "tpl", extra)
    assert len(TEMPLATE) + len(extra) >= 150
    start = time.perf_counter()
    info = build_workspace(template, tmp_path / "ws", seed=0)
    elapsed = time.perf_counter() - start
    assert len(head_tree(tmp_path / "ws")) == len(TEMPLATE) + len(extra)
    assert info.commit_count >= 30
    assert elapsed < 2.0, f"build took {elapsed:.2f}s"  # ~0.1 s on a laptop; generous for CI


def test_destination_must_be_empty(template, tmp_path):
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not empty"):
        build_workspace(template, tmp_path / "ws", seed=0)
    assert (tmp_path / "ws" / "keep.txt").read_text() == "mine"


# -- history errors ---------------------------------------------------------------------------


def _commit(message: str, author: str, date: str, **extra) -> dict:
    return {"message": message, "author": author, "date": date, **extra}


def test_empty_required_commit_is_an_error_optional_is_skipped(template, tmp_path):
    commits = [
        _commit("chore: everything", "maya.chen", "2025-03-03T10:00:00-08:00", paths=["**"]),
        _commit(
            "api: cart endpoints",
            "emily.zhang",
            "+1d",
            paths=["acme/api/routes/cart.py"],
            optional=True,
        ),
        _commit("api: nothing left", "omar.haddad", "+2d", paths=["acme/api"]),
    ]
    history = write_history(tmp_path / "h.yaml", commits)
    with pytest.raises(HistoryError, match=r"history commit #3 'api: nothing left' would be empty"):
        build_workspace(template, tmp_path / "ws", seed=0, history_path=history)
    assert not (tmp_path / "ws").exists()

    history = write_history(tmp_path / "h.yaml", commits[:2])
    info = build_workspace(template, tmp_path / "ws", seed=0, history_path=history)
    assert [c.message for c in info.commits] == ["chore: everything"]


def test_touches_beyond_what_a_file_can_show_are_not_empty_commits(tmp_path):
    template = tmp_path / "tpl"
    template.mkdir()
    (template / "README.md").write_text("# Title\n\n## One\n\ntext\n")
    commits = [
        _commit(
            "chore: initial commit", "maya.chen", "2025-03-03T10:00:00-08:00", paths=["README.md"]
        ),
        _commit("docs: more", "zoe.taylor", "+1d", touch=["README.md"]),
        _commit("docs: even more", "zoe.taylor", "+1d", touch=["README.md"], optional=True),
    ]
    history = write_history(tmp_path / "h.yaml", commits)
    info = build_workspace(template, tmp_path / "ws", seed=0, history_path=history)
    assert [c.message for c in info.commits] == ["chore: initial commit", "docs: more"]
    assert git(tmp_path / "ws", "show", "HEAD~1:README.md") == "# Title\n"
    commits[2]["optional"] = False
    write_history(tmp_path / "h.yaml", commits)
    with pytest.raises(HistoryError, match="#3 'docs: even more' would be empty"):
        build_workspace(template, tmp_path / "ws2", seed=0, history_path=history)


def test_author_must_own_the_component(template, tmp_path):
    commits = [
        _commit("payments: capture", "emily.zhang", "2025-03-03T10:00:00-05:00", paths=["**"])
    ]
    history = write_history(tmp_path / "h.yaml", commits)
    with pytest.raises(
        HistoryError,
        match=r"author 'emily.zhang' \(storefront\) does not own component 'payments'; "
        r"its owners are rahul.mehta, grace.kim",
    ):
        build_workspace(template, tmp_path / "ws", seed=0, history_path=history)


def test_unknown_author_and_bad_dates(template, tmp_path):
    cases = [
        (
            [_commit("chore: x", "nobody.here", "2025-03-03T10:00:00Z", paths=["**"])],
            r"#1 'chore: x': author no employee 'nobody.here'",
        ),
        (
            [_commit("chore: x", "maya.chen", "2025-03-03T10:00:00", paths=["**"])],
            r"#1 'chore: x': date 2025-03-03T10:00:00 needs a UTC offset",
        ),
        (
            [_commit("chore: x", "maya.chen", "+1d", paths=["**"])],
            r"#1 'chore: x': the first commit needs an absolute date",
        ),
        (
            [
                _commit("chore: x", "maya.chen", "2025-03-03T10:00:00Z", paths=["README.md"]),
                _commit("chore: y", "maya.chen", "2025-03-02T10:00:00Z", paths=["**"]),
            ],
            r"#2 'chore: y': date 2025-03-02T10:00:00\+00:00 is not after the previous",
        ),
        (
            [_commit("chore: x", "maya.chen", "next tuesday", paths=["**"])],
            r"date 'next tuesday' is neither ISO 8601",
        ),
    ]
    for commits, message in cases:
        history = write_history(tmp_path / "h.yaml", commits)
        with pytest.raises(HistoryError, match=message):
            build_workspace(template, tmp_path / "ws", seed=0, history_path=history)


def test_shipped_history_is_valid_and_long():
    history = load_history(DEFAULT_HISTORY_PATH)
    assert len(history.commits) >= 30
    assert sum(1 for c in history.commits if c.touch) >= 3  # README/docs commits


def test_glob_semantics():
    assert glob_regex("acme/api").match("acme/api/routes/cart.py")
    assert not glob_regex("acme/api").match("acme/apiary.py")
    assert glob_regex("acme/api/**/*cart*").match("acme/api/cart.py")
    assert glob_regex("acme/api/**/*cart*").match("acme/api/routes/v2/cart.py")
    assert not glob_regex("*.md").match("docs/guide.md")
    assert glob_regex("**/*.md").match("docs/guide.md")
    assert glob_regex("migrations/versions/*000[12]*").match("migrations/versions/0002_x.py")
    assert not glob_regex("migrations/versions/*000[!12]*").match("migrations/versions/0002_x.py")


# -- add_commit ---------------------------------------------------------------------------------


def test_add_commit_is_deterministic(template, tmp_path):
    emily = COMPANY.employee("emily.zhang")
    when = dt.datetime(2026, 11, 3, 10, 15, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    files = {
        "acme/api/routes/wishlist.py": b"# wishlist\n",
        "README.md": b"# Acme Outfitters\n",
        "acme/payments/refunds.py": None,
    }
    shas = []
    for name in ("a", "b"):
        dest = tmp_path / name
        base = build_workspace(template, dest, seed=5)
        sha = add_commit(
            dest, files, "api: wishlist endpoints\n\nBehind the wishlist flag.", emily, when
        )
        shas.append(sha)
        assert git(dest, "rev-parse", "HEAD").strip() == sha
        assert git(dest, "rev-parse", "HEAD~1").strip() == base.head
        assert git(dest, "status", "--porcelain", "--untracked-files=all") == ""
        assert git(dest, "log", "-1", "--format=%an <%ae> %ad|%cn|%B", "--date=raw") == (
            f"Emily Zhang <emily.zhang@acme.dev> {int(when.timestamp())} -0500|Emily Zhang|"
            "api: wishlist endpoints\n\nBehind the wishlist flag.\n\n"
        )
        assert sorted(git(dest, "show", "--name-status", "--format=", "HEAD").splitlines()) == [
            "A\tacme/api/routes/wishlist.py",
            "D\tacme/payments/refunds.py",
            "M\tREADME.md",
        ]
        assert not (dest / "acme/payments/refunds.py").exists()
    assert shas[0] == shas[1]

    later = add_commit(tmp_path / "a", {"x.txt": b"1"}, "chore: x", emily, when)
    other = add_commit(
        tmp_path / "b", {"x.txt": b"1"}, "chore: x", emily, when + dt.timedelta(seconds=1)
    )
    assert later != other


def test_add_commit_rejects_bad_input(template, tmp_path):
    dest = tmp_path / "ws"
    build_workspace(template, dest, seed=0)
    maya = COMPANY.employee("maya.chen")
    when = dt.datetime(2026, 11, 3, 10, 0, tzinfo=dt.UTC)
    with pytest.raises(ValueError, match="needs a timezone"):
        add_commit(dest, {"a.txt": b"a"}, "chore: a", maya, dt.datetime(2026, 11, 3))
    with pytest.raises(ValueError, match="not a plain relative path"):
        add_commit(dest, {"../escape.txt": b"a"}, "chore: a", maya, when)
    with pytest.raises(ValueError, match="changes nothing"):
        add_commit(dest, {"README.md": README.encode()}, "docs: same", maya, when)


# -- the real app ---------------------------------------------------------------------------------


@pytest.mark.skipif(
    not (DEFAULT_APP_DIR / "README.md").is_file(), reason="environments/acme/app is not there yet"
)
def test_real_app_tree_builds(tmp_path):
    start = time.perf_counter()
    info = build_workspace(DEFAULT_APP_DIR, tmp_path / "ws", seed=0)
    elapsed = time.perf_counter() - start
    assert info.commit_count >= 30
    tree = head_tree(tmp_path / "ws")
    skip = {".git", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".venv"}
    expected = {
        str(path.relative_to(DEFAULT_APP_DIR))
        for path in DEFAULT_APP_DIR.rglob("*")
        if path.is_file()
        and not skip & set(path.relative_to(DEFAULT_APP_DIR).parts)
        and path.suffix not in (".pyc", ".db")
    }
    assert set(tree) == expected
    for rel, (mode, _sha) in tree.items():
        src = DEFAULT_APP_DIR / rel
        assert (tmp_path / "ws" / rel).read_bytes() == src.read_bytes()
        assert mode == ("100755" if os.stat(src).st_mode & 0o100 else "100644")
    assert not any("__pycache__" in p or p.endswith((".pyc", ".db")) for p in tree)
    assert elapsed < 3.0
