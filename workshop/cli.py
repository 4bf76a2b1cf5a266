"""Entry point of the `workshop` command.

Each subcommand lives in its own module, imported only when it is run, so that
`workshop --help` and quick commands start fast. A module provides
`add_arguments(parser, name)` and `run(args) -> int` (the exit status).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import NoReturn

from workshop import __version__
from workshop.ui import WorkshopError, style

# name: (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "status": (
        "workshop.check",
        "every step with pass/fail for app/, and the step you are on",
    ),
    "check": ("workshop.check", "run the checks of the steps up to N against app/"),
    "watch": ("workshop.watch", "re-run the check every time you save a file in app/"),
    "hint": ("workshop.hints", "show the next hint of a step"),
    "goto": (
        "workshop.goto",
        "make app/ equal to checkpoint N, saving your work first",
    ),
    "restore": ("workshop.goto", "list or bring back work saved by goto"),
    "diff": ("workshop.diff", "show step N's change to app/"),
    "serve": ("workshop.serve", "run the app with reload (fastapi dev)"),
    "bench": (
        "workshop.bench",
        "measure that responses do not wait for background tasks",
    ),
    "verify": (
        "workshop.verify",
        "prove every checkpoint, step and guide (authors, CI)",
    ),
    "tags": ("workshop.tags", "build the step-N git tags from the checkpoints"),
}


class Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line (usage stays behind --help)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see '{self.prog} --help')\n")


def build_parser(command: str | None) -> argparse.ArgumentParser:
    parser = Parser(
        prog="workshop",
        description="Tools for the Background Tasks Workshop.",
        epilog="Run 'workshop COMMAND --help' for a command's options.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for name, (module, help_text) in COMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        if name == command:
            importlib.import_module(module).add_arguments(sub_parser, name)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(command if command in COMMANDS else None)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    module = importlib.import_module(COMMANDS[args.command][0])
    try:
        return module.run(args)
    except WorkshopError as error:
        print(
            f"{style('workshop:', 'bold', stream=sys.stderr)} {error}", file=sys.stderr
        )
        return error.exit_code
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `workshop hint --all | head`: the reader left; say nothing more.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
