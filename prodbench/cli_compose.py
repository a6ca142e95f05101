"""`prodbench compose render`: the committed compose/ files, rendered from the stack spec."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

out = Console()
err = Console(stderr=True)
compose_app = typer.Typer(
    help="Compose files for the docker runtime, rendered from the stack spec.",
    no_args_is_help=True,
)


@compose_app.command("render")
def render(
    stack: Annotated[
        str, typer.Option("--stack", "-s", help="A built-in stack to render.")
    ] = "acme",
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Where to write.", show_default="the repository's compose/"),
    ] = None,
    check: Annotated[
        bool,
        typer.Option("--check", help="Write nothing; exit 1 if the files differ from a render."),
    ] = False,
) -> None:
    """Render a stack's compose file, env example and config files (deterministic output)."""
    from environments.runtime.compose import (
        COMPOSE_DIR,
        ComposeError,
        builtin_stack,
        drift,
        render_stack,
        write,
    )

    target = out_dir or COMPOSE_DIR
    try:
        files = render_stack(builtin_stack(stack))
    except ComposeError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(1) from None
    if check:
        stale = drift(files, target, stack)
        for rel in stale:
            err.print(
                f"differs from the spec: {target / rel}",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )
        if stale:
            err.print("run `prodbench compose render` and commit the result", highlight=False)
            raise typer.Exit(1)
        out.print(f"ok: {len(files)} files in {target} match the {stack!r} stack", highlight=False)
        return
    changed = write(files, target, stack)
    for rel in changed:
        out.print(f"wrote {target / rel}", highlight=False, markup=False, soft_wrap=True)
    out.print(f"{len(changed)} of {len(files)} files changed in {target}", highlight=False)
