"""Entry point of the `workshop` command: parse the arguments, call the command.

Each command is a plain function in workshop/commands/ that takes typed
arguments (`check(root, upto="3")`); this module is the only place that knows
about argparse. A bare `workshop` shows `status`: where you are, what is next.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import NoReturn

from workshop import __version__, bench
from workshop.commands.bench import bench as run_bench
from workshop.commands.check import check
from workshop.commands.diff import diff
from workshop.commands.goto import goto
from workshop.commands.hint import hint, reset
from workshop.commands.join import join
from workshop.commands.restore import restore
from workshop.commands.room import room
from workshop.commands.room_serve import room_serve
from workshop.commands.serve import serve
from workshop.commands.status import status
from workshop.commands.tags import tags
from workshop.commands.tours import write_tours
from workshop.commands.update import update
from workshop.commands.verify import verify
from workshop.commands.watch import watch
from workshop.commands.worker import worker
from workshop.errors import WorkshopError
from workshop.project import find_root
from workshop.ui import error_line

LEARNER_COMMANDS = {
    "status": "every step with pass/fail for app/, and the step you are on",
    "check": "run the checks of the steps up to N against app/",
    "watch": "re-run the check every time you save a file in app/",
    "hint": "show the next hint of a step",
    "goto": "make app/ equal to checkpoint N, saving your work first",
    "restore": "list or bring back work saved by goto",
    "diff": "show step N's change to app/",
    "serve": "run the app with reload; it comes back after a broken save",
    "worker": "run the Celery worker of app/worker.py (step 8 on), restarted on save",
    "update": "bring this copy up to the course's latest (never app/)",
    "join": "report your checks to the instructor's live room (--leave: stop)",
}
AUTHOR_COMMANDS = {
    "verify": "prove every checkpoint, step and guide (authors, CI)",
    "tags": "build the step-N git tags from the checkpoints",
    "bench": "measure that responses do not wait for background tasks",
    "room": "instructors: learners' repositories through the checks; 'room serve'",
    "tours": "write the CodeTour of every step (.tours/step-N.tour)",
}
COMMANDS = LEARNER_COMMANDS | AUTHOR_COMMANDS


class Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line (usage stays behind --help)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see '{self.prog} --help')\n")


def _listing(title: str, commands: dict[str, str]) -> str:
    return "\n".join([title, *(f"  {n:<9} {h}" for n, h in commands.items())])


def _step(parser: argparse.ArgumentParser, **kwargs) -> None:
    kwargs.setdefault("help", "check the steps up to this one (default: yours)")
    parser.add_argument("step", nargs="?", **kwargs)


def _add_arguments(name: str, parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    if name == "status":
        add("--all", action="store_true", help="also check the steps after yours")
        add("--json", action="store_true", help="print the progress as JSON")
        add("--summary", metavar="FILE", type=Path, help="append a Markdown table")
    elif name == "check":
        _step(parser)
        add("--checkpoint", metavar="K", help="check checkpoints/step-K/app instead")
        add("-v", "--verbose", action="store_true", help="also show pytest's output")
    elif name == "watch":
        _step(parser)
        add(
            "--poll",
            action="store_true",
            help="look at the files every 300 ms (Docker Desktop mounts, network "
            "drives: where saves are not noticed)",
        )
        parser.epilog = (
            "Keys on a terminal: h hint, l steps, r check again, "
            "n open the guide, q quit."
        )
    elif name == "hint":
        _step(parser, help="the step (default: the step you are on)")
        add("--all", action="store_true", help="every hint and the solution at once")
        add("--reset", action="store_true", help="start the hints again from hint 1")
    elif name == "goto":
        add("step", help="the step to go to, e.g. 3 or step-3")
        parser.epilog = "Your changes in app/ are saved first (workshop restore)."
    elif name == "restore":
        add("name", nargs="?", help="the saved work to bring back")
        add("--latest", action="store_true", help="bring back the newest saved work")
        parser.epilog = "Without NAME, lists the work saved by goto and restore."
    elif name == "diff":
        add("step", help="1 or later: step 0 has no previous step")
        add("--stat", action="store_true", help="only list the changed files")
        add(
            "--color",
            nargs="?",
            const="always",
            default="auto",
            choices=["auto", "always", "never"],
            help="colour the diff (auto: on a terminal, unless NO_COLOR is set)",
        )
    elif name == "serve":
        add("--checkpoint", metavar="N", help="serve checkpoints/step-N/app instead")
        add("--port", type=int, default=8000, help="the port (default: 8000)")
        add("--host", default="127.0.0.1", help="the address (0.0.0.0: everyone)")
    elif name == "worker":
        add("--checkpoint", metavar="N", help="run checkpoints/step-N/app's worker")
        add("--concurrency", type=int, default=8, help="threads: jobs at once (8)")
    elif name == "verify":
        add("--fast", action="store_true", help="only app/, guides and code blocks")
        add("--skip-app", action="store_true", help="leave app/ out (a learner's copy)")
        add("-j", "--jobs", type=int, default=os.cpu_count() or 1, help="in parallel")
    elif name == "tags":
        add("--push", metavar="REMOTE", help="then push the tags that differ there")
        add("--dry-run", action="store_true", help="only report what would change")
        add("--release", metavar="NAME", help="build NAME-step-N tags that never move")
        parser.epilog = "Tags are built from HEAD's commit, never from the files."
    elif name == "update":
        add("source", nargs="?", help="the course: a git URL or path (default: "
            "[tool.workshop] source in pyproject.toml)")  # fmt: skip
        add("--apply", action="store_true", help="write it (default: a dry run)")
        add("--markers", action="store_true", help="apply despite conflicts, "
            "leaving <<<<<<< markers in those files to resolve")  # fmt: skip
    elif name == "room":
        add("repos", nargs="*", metavar="REPO", help="a learner's git URL or path")
        add("--file", type=Path, help="a file listing repositories, one a line")
        add("--json", action="store_true", help="machine-readable output")
        add("--watch", action="store_true", help="look again every --interval")
        add("--interval", type=float, default=30.0, help="seconds (30)")
        add("-j", "--jobs", type=int, help="repositories checked at once")
        add("--cache", type=Path, help="the cache folder (.workshop/room)")
        live = parser.add_argument_group("workshop room serve (the live room)")
        live.add_argument("--port", type=int, default=8765, help="the port (8765)")
        live.add_argument("--host", default="127.0.0.1", help="0.0.0.0: the network")
        live.add_argument("--url", help="the address learners reach it at")
        live.add_argument("--max", type=int, default=60, help="learners (60)")
        live.add_argument("--stuck", type=float, default=10.0, help="minutes red "
                          "before a learner is highlighted (10)")  # fmt: skip
    elif name == "join":
        add("url", nargs="?", help="the join address 'workshop room serve' printed")
        add("--name", help="your name in the room (default: asked, or git's)")
        add("--leave", action="store_true", help="stop reporting to the room")
    elif name == "bench":
        bench.add_arguments(parser)
    elif name == "tours":
        add("--check", action="store_true", help="write nothing; fail if out of date")


def build_parser() -> tuple[Parser, dict[str, argparse.ArgumentParser]]:
    parser = Parser(
        prog="workshop",
        usage="workshop [-h] [--version] [COMMAND] ...",
        description="Tools for the Background Tasks Workshop. "
        "Without a command: workshop status.",
        epilog="\n\n".join(
            [
                _listing("learner commands:", LEARNER_COMMANDS),
                _listing("author commands:", AUTHOR_COMMANDS),
                "Run 'workshop COMMAND --help' for a command's options.",
            ]
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    sub = parser.add_subparsers(dest="command", help=argparse.SUPPRESS)
    subparsers = {}
    for name, help_text in COMMANDS.items():
        subparsers[name] = sub.add_parser(
            name, prog=f"workshop {name}", description=help_text
        )
        _add_arguments(name, subparsers[name])
    return parser, subparsers


def dispatch(args: argparse.Namespace) -> int:
    """Call the command named in `args` with typed arguments."""
    root = find_root()
    match args.command:
        case None | "status":
            return status(
                root,
                every=getattr(args, "all", False),
                as_json=getattr(args, "json", False),
                summary=getattr(args, "summary", None),
            )
        case "check":
            return check(
                root, upto=args.step, checkpoint=args.checkpoint, verbose=args.verbose
            )
        case "watch":
            return watch(root, upto=args.step, poll=args.poll)
        case "hint" if args.reset:
            return reset(root, args.step)
        case "hint":
            return hint(root, args.step, every=args.all)
        case "goto":
            return goto(root, args.step)
        case "restore":
            return restore(root, args.name, latest=args.latest)
        case "diff":
            return diff(root, args.step, stat=args.stat, color=args.color)
        case "serve":
            return serve(
                root, checkpoint=args.checkpoint, port=args.port, host=args.host
            )
        case "worker":
            return worker(
                root, checkpoint=args.checkpoint, concurrency=args.concurrency
            )
        case "verify":
            return verify(root, fast=args.fast, skip_app=args.skip_app, jobs=args.jobs)
        case "tags":
            return tags(
                root, push=args.push, dry_run=args.dry_run, release=args.release
            )
        case "update":
            return update(root, args.source, apply=args.apply, markers=args.markers)
        case "room" if args.repos[:1] == ["serve"]:
            return room_serve(
                root, host=args.host, port=args.port, url=args.url,
                max_learners=args.max, stuck=args.stuck,
            )  # fmt: skip
        case "join":
            return join(root, args.url, name=args.name, leave=args.leave)
        case "room":
            return room(
                root, args.repos, file=args.file, as_json=args.json, watch=args.watch,
                interval=args.interval, jobs=args.jobs, cache=args.cache,
            )  # fmt: skip
        case "bench":
            return run_bench(bench.settings(args))
        case "tours":
            return write_tours(root, check=args.check)
    raise AssertionError(f"no command {args.command!r}")


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


if __name__ == "__main__":
    sys.exit(main())
