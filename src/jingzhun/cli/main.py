"""Entry point of the `jingzhun` command.

Each area lives in its own module under :mod:`jingzhun.cli` and exposes ``register(app)``; this file only
assembles them and turns :class:`~jingzhun.errors.JingzhunError` into a clean message and exit code.
"""

from __future__ import annotations

import importlib
import sys

import typer
from rich.console import Console

from jingzhun.errors import JingzhunError

app = typer.Typer(
    name="jingzhun",
    help="Jingzhun (精准): precision poverty alleviation and return-to-poverty monitoring.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Command modules, in the order their commands appear in --help.
_MODULES = (
    "jingzhun.cli.ids_cmd",
    "jingzhun.cli.regions_cmd",
    "jingzhun.cli.templates_cmd",
    "jingzhun.cli.policy_cmd",
    "jingzhun.cli.synth_cmd",
    "jingzhun.cli.ingest_cmd",
    "jingzhun.cli.link_cmd",
    "jingzhun.cli.ops_cmd",
    "jingzhun.cli.pipeline_cmd",
    "jingzhun.cli.demo_cmd",
)

for _name in _MODULES:
    importlib.import_module(_name).register(app)


def main() -> None:
    """Run the CLI, printing Jingzhun errors without a traceback."""
    try:
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except JingzhunError as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(1)
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
