"""Entry point of the `workshop` command: parse the arguments, call the command.

Each command is a plain function in workshop/commands/ that takes typed
arguments (`check(root, upto="3")`); this module is the only place that knows
about argparse. Every command is one entry of `REGISTRY`: its name, group,
help, arguments and call. Command modules are imported only when their
command runs, so `workshop --help` loads none of them. A bare `workshop`
shows `status`: where you are, what is next.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

from workshop import __version__
from workshop.errors import WorkshopError, internal_error
from workshop.project import find_root
from workshop.switch import warn as warn_if_half_switched
from workshop.ui import error_line

LEARNER, AUTHOR = "learner", "author"
# Commands that read app/ (unless given --checkpoint): each says first when a
# killed goto or restore left it half-switched.
READS_APP = {None, "status", "check", "watch", "serve", "worker"}
Args = argparse.Namespace


@dataclass(frozen=True)
class Arg:
    """One `add_argument` call: its flags (or name) and options."""

    flags: tuple[str, ...]
    options: dict[str, Any]


def arg(*flags: str, **options: Any) -> Arg:
    return Arg(flags, options)


def step(help: str = "check the steps up to this one (default: yours)") -> Arg:
    return arg("step", nargs="?", help=help)


def command(name: str) -> ModuleType:
    """workshop/commands/NAME.py, imported when its command runs."""
    return importlib.import_module(f"workshop.commands.{name}")


def flag(*flags_and_help: str) -> Arg:
    """An on/off option: its flags, then its help."""
    *flags, help = flags_and_help
    return arg(*flags, action="store_true", help=help)


def bench() -> ModuleType:
    """workshop/bench/ declares and reads `workshop bench`'s own options."""
    return importlib.import_module("workshop.bench")


@dataclass(frozen=True)
class Command:
    """A `workshop` command: what --help says, what it takes, what it calls."""

    name: str
    group: str
    help: str
    call: Callable[[Path, Args], int]
    arguments: list[Arg] = field(default_factory=list)
    epilog: str | None = None
    # for a command whose arguments are declared with its own code (bench)
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None


REGISTRY = [
    Command(
        "status", LEARNER,
        "every step with pass/fail for app/, and the step you are on",
        lambda root, a: command("status").status(
            root, every=a.all, as_json=a.json, summary=a.summary
        ),
        [
            flag("--all", "also check the steps after yours"),
            flag("--json", "print the progress as JSON"),
            arg("--summary", metavar="FILE", type=Path, help="append a Markdown table"),
        ],
    ),
    Command(
        "check", LEARNER, "run the checks of the steps up to N against app/",
        lambda root, a: command("check").check(
            root, upto=a.step, checkpoint=a.checkpoint, verbose=a.verbose,
            crash=a.crash,
        ),
        [
            step(),
            arg("--checkpoint", metavar="K",
                help="check checkpoints/step-K/app instead"),
            flag("-v", "--verbose", "also show pytest's output"),
            flag("--crash", "also the crash checks of steps 8-9: real workers "
                 "killed for real (about a minute)"),
        ],
    ),
    Command(
        "watch", LEARNER, "re-run the check every time you save a file in app/",
        lambda root, a: command("watch").watch(root, upto=a.step, poll=a.poll),
        [
            step(),
            flag("--poll", "look at the files every 300 ms (Docker Desktop mounts, "
                 "network drives: where saves are not noticed)"),
        ],
        "Keys on a terminal: h hint, l steps, r check again, n open the guide, q quit.",
    ),
    Command(
        "hint", LEARNER, "show the next hint of a step",
        lambda root, a: (
            command("hint").reset(root, a.step) if a.reset
            else command("hint").hint(root, a.step, every=a.all)
        ),
        [
            step(help="the step (default: the step you are on)"),
            flag("--all", "every hint and the solution at once"),
            flag("--reset", "start the hints again from hint 1"),
        ],
    ),
    Command(
        "goto", LEARNER, "make app/ equal to checkpoint N, saving your work first",
        lambda root, a: command("goto").goto(root, a.step),
        [arg("step", help="the step to go to, e.g. 3 or step-3")],
        "Your changes in app/ are saved first (workshop restore).",
    ),
    Command(
        "restore", LEARNER, "list or bring back work saved by goto",
        lambda root, a: command("restore").restore(root, a.name, latest=a.latest),
        [
            arg("name", nargs="?", help="the saved work to bring back"),
            flag("--latest", "bring back the newest saved work"),
        ],
        "Without NAME, lists the work saved by goto and restore.",
    ),
    Command(
        "diff", LEARNER, "show step N's change to app/",
        lambda root, a: command("diff").diff(root, a.step, stat=a.stat, color=a.color),
        [
            arg("step", help="1 or later: step 0 has no previous step"),
            flag("--stat", "only list the changed files"),
            arg("--color", nargs="?", const="always", default="auto",
                choices=["auto", "always", "never"],
                help="colour the diff (auto: on a terminal, unless NO_COLOR is set)"),
        ],
    ),
    Command(
        "serve", LEARNER, "run the app with reload; it comes back after a broken save",
        lambda root, a: command("serve").serve(
            root, checkpoint=a.checkpoint, port=a.port, host=a.host
        ),
        [
            arg("--checkpoint", metavar="N",
                help="serve checkpoints/step-N/app instead"),
            arg("--port", type=int, default=8000, help="the port (default: 8000)"),
            arg("--host", default="127.0.0.1", help="the address (0.0.0.0: everyone)"),
        ],
    ),
    Command(
        "worker", LEARNER,
        "run the Celery worker of app/worker.py (step 8 on), restarted on save",
        lambda root, a: command("worker").worker(
            root, checkpoint=a.checkpoint, concurrency=a.concurrency
        ),
        [
            arg("--checkpoint", metavar="N",
                help="run checkpoints/step-N/app's worker"),
            arg("--concurrency", type=int, default=8, help="threads: jobs at once (8)"),
        ],
    ),
    Command(
        "update", LEARNER, "bring this copy up to the course's latest (never app/)",
        lambda root, a: command("update").update(
            root, a.source, apply=a.apply, markers=a.markers
        ),
        [
            arg("source", nargs="?", help="the course: a git URL or path (default: "
                "[tool.workshop] source in pyproject.toml)"),
            flag("--apply", "write it (default: a dry run)"),
            flag("--markers", "apply despite conflicts, leaving <<<<<<< markers in "
                 "those files to resolve"),
        ],
    ),
    Command(
        "join", LEARNER,
        "report your checks to the instructor's live room (--leave: stop)",
        lambda root, a: command("join").join(
            root, a.url, name=a.name, leave=a.leave
        ),
        [
            arg("url", nargs="?",
                help="the join address 'workshop room serve' printed"),
            arg("--name", help="your name in the room (default: asked, or git's)"),
            flag("--leave", "stop reporting to the room"),
        ],
    ),
    Command(
        "verify", AUTHOR, "prove every checkpoint, step and guide (authors, CI)",
        lambda root, a: command("verify").verify(
            root, fast=a.fast, skip_app=a.skip_app, jobs=a.jobs, only=a.only
        ),
        [
            flag("--fast", "only app/, guides and code blocks"),
            arg("--only", metavar="K", type=int, nargs="+",
                help="the suites of these checkpoints only (e.g. --only 8 9)"),
            flag("--skip-app", "leave app/ out (a learner's copy)"),
            arg("-j", "--jobs", type=int, default=os.cpu_count() or 1,
                help="in parallel"),
        ],
    ),
    Command(
        "tags", AUTHOR, "build the step-N git tags from the checkpoints",
        lambda root, a: command("tags").tags(
            root, push=a.push, dry_run=a.dry_run, release=a.release
        ),
        [
            arg("--push", metavar="REMOTE",
                help="then push the tags that differ there"),
            flag("--dry-run", "only report what would change"),
            arg("--release", metavar="NAME",
                help="build NAME-step-N tags that never move"),
        ],
        "Tags are built from HEAD's commit, never from the files.",
    ),
    Command(
        "bench", AUTHOR, "measure that responses do not wait for background tasks",
        lambda root, a: command("bench").bench(bench().settings(a)),
        add_arguments=lambda parser: bench().add_arguments(parser),
    ),
    Command(
        "room", AUTHOR,
        "instructors: learners' repositories through the checks; 'room serve': "
        "the live room",
        lambda root, a: (
            command("room_serve").room_serve(
                root, host=a.host, port=a.port, url=a.url,
                max_learners=a.max, stuck=a.stuck,
            ) if a.repos[:1] == ["serve"] else command("room").room(
                root, a.repos, file=a.file, as_json=a.json, watch=a.watch,
                interval=a.interval, jobs=a.jobs, cache=a.cache,
            )
        ),
        [
            arg("repos", nargs="*", metavar="REPO", help="a learner's git URL or path"),
            arg("--file", type=Path, help="a file listing repositories, one a line"),
            flag("--json", "machine-readable output"),
            flag("--watch", "look again every --interval"),
            arg("--interval", type=float, default=30.0, help="seconds (30)"),
            arg("-j", "--jobs", type=int, help="repositories checked at once"),
            arg("--cache", type=Path, help="the cache folder (.workshop/room)"),
            arg("--port", type=int, default=8765, help="room serve: the port (8765)"),
            arg("--host", default="127.0.0.1",
                help="room serve: the address (0.0.0.0: the network)"),
            arg("--url", help="room serve: the address learners reach it at"),
            arg("--max", type=int, default=60, help="room serve: learners (60)"),
            arg("--stuck", type=float, default=10.0,
                help="room serve: minutes red before a learner is highlighted (10)"),
        ],
    ),
    Command(
        "tours", AUTHOR, "write the CodeTour of every step (.tours/step-N.tour)",
        lambda root, a: command("tours").write_tours(root, check=a.check),
        [flag("--check", "write nothing; fail if out of date")],
    ),
]  # fmt: skip
COMMANDS = {entry.name: entry for entry in REGISTRY}


UNKNOWN_COMMAND = r"argument command: invalid choice: '(.*)' \(choose from .*\)"


class Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line (usage stays behind --help)."""

    def error(self, message: str) -> NoReturn:
        if found := re.fullmatch(UNKNOWN_COMMAND, message):
            given = found[1]
            close = difflib.get_close_matches(given, COMMANDS, n=1)
            message = f"unknown command '{given}'" + (
                f": did you mean '{close[0]}'?" if close else ""
            )
        self.exit(2, f"{self.prog}: {message} (see '{self.prog} --help')\n")


def _listing(group: str) -> str:
    lines = [f"  {c.name:<9} {c.help}" for c in REGISTRY if c.group == group]
    return "\n".join([f"{group} commands:", *lines])


def _add_subparser(sub: Any, entry: Command) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        entry.name, prog=f"workshop {entry.name}", description=entry.help
    )
    for argument in entry.arguments:
        parser.add_argument(*argument.flags, **argument.options)
    if entry.add_arguments is not None:
        entry.add_arguments(parser)
    parser.epilog = entry.epilog or parser.epilog
    return parser


def build_parser() -> tuple[Parser, dict[str, argparse.ArgumentParser]]:
    parser = Parser(
        prog="workshop",
        usage="workshop [-h] [--version] [COMMAND] ...",
        description="Tools for the Background Tasks Workshop. "
        "Without a command: workshop status.",
        epilog="\n\n".join(
            [
                _listing(LEARNER),
                _listing(AUTHOR),
                "Run 'workshop COMMAND --help' for a command's options.",
            ]
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    sub = parser.add_subparsers(dest="command", help=argparse.SUPPRESS)
    subparsers = {entry.name: _add_subparser(sub, entry) for entry in REGISTRY}
    return parser, subparsers


def dispatch(args: Args) -> int:
    """Call the command named in `args` (none: status) with typed arguments."""
    root = find_root()
    if args.command in READS_APP and getattr(args, "checkpoint", None) is None:
        warn_if_half_switched(root)
    if args.command is None:
        args = Args(all=False, json=False, summary=None)
        return COMMANDS["status"].call(root, args)
    return COMMANDS[args.command].call(root, args)


def main(argv: list[str] | None = None) -> int:
    if hasattr(sys.stdout, "reconfigure"):  # a terminal without ✓ or — gets ?
        sys.stdout.reconfigure(errors="replace")
    parser, subparsers = build_parser()
    args, extra = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    if extra:
        where = subparsers.get(args.command, parser)
        where.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return dispatch(args)
    except WorkshopError as error:
        error_line(str(error))
        return error.exit_code
    except KeyboardInterrupt:
        if sys.stderr.isatty():
            print(file=sys.stderr)  # end the line the terminal's ^C was echoed on
        error_line("interrupted")
        return 130
    except BrokenPipeError:
        # `workshop hint --all | head`: the reader left; say nothing more.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as error:  # a bug of the tool: one line, not a traceback
        if os.environ.get("WORKSHOP_DEBUG"):
            raise
        error_line(internal_error(error))
        return 3


if __name__ == "__main__":
    sys.exit(main())
