"""The db-init job: Acme's databases at head with seeded data, from a cache when possible.

The same release tree and seed always produce the same databases, so the first run pays for
migrations and seeding (`python -m acme.seed`, the app's own path) and stores a consistent
copy (SQLite's online backup); later runs copy it in milliseconds. Entries are written to a
temporary name and renamed, so a crash or a concurrent run never leaves a half entry.

    python -m environments.acme.dbinit --release DIR --state-dir DIR --seed N --key TREE_SHA
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from environments.paths import cache_dir

DATABASES = ("acme.db", "payments.db")
FORMAT = "v1"  # bump when what the job produces changes in a way the key does not capture


def _backup(src: Path, dst: Path) -> None:
    """A consistent copy even of a database in WAL mode."""
    source, target = sqlite3.connect(src), sqlite3.connect(dst)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def cache_entry(key: str, seed: int) -> Path:
    digest = hashlib.sha256(f"{FORMAT}:{key}:{seed}".encode()).hexdigest()[:24]
    return cache_dir() / "acme-db" / digest


def restore(entry: Path, state_dir: Path) -> bool:
    if not (entry / "complete").exists():
        return False
    for name in DATABASES:
        tmp = state_dir / f".{name}.restore"
        shutil.copyfile(entry / name, tmp)
        os.replace(tmp, state_dir / name)
    return True


def store(entry: Path, state_dir: Path) -> None:
    if entry.exists():
        return
    tmp = entry.with_name(f".{entry.name}.{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    for name in DATABASES:
        _backup(state_dir / name, tmp / name)
    (tmp / "complete").write_text(json.dumps({"at": time.time()}))
    try:
        os.rename(tmp, entry)
    except OSError:  # another run stored the same entry first
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m environments.acme.dbinit", description=__doc__)
    ap.add_argument("--release", required=True, type=Path)
    ap.add_argument("--state-dir", required=True, type=Path)
    ap.add_argument("--seed", required=True, type=int)
    ap.add_argument("--key", required=True, help="what determines the data: the release tree")
    ap.add_argument("--no-cache", action="store_true")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    entry = cache_entry(args.key, args.seed)
    if not args.no_cache and restore(entry, args.state_dir):
        print(
            json.dumps(
                {
                    "cache": "hit",
                    "entry": str(entry),
                    "seconds": round(time.perf_counter() - started, 3),
                }
            ),
            flush=True,
        )
        return 0
    urls = [f"sqlite:///{args.state_dir / name}" for name in DATABASES]
    code = subprocess.call(
        [
            sys.executable,
            "-m",
            "acme.seed",
            "--seed",
            str(args.seed),
            "--database-url",
            urls[0],
            "--payments-database-url",
            urls[1],
        ],
        cwd=args.release,
    )
    if code != 0:
        return code
    if not args.no_cache:
        store(entry, args.state_dir)
    print(
        json.dumps(
            {
                "cache": "miss",
                "entry": str(entry),
                "seconds": round(time.perf_counter() - started, 3),
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
