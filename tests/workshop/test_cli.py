"""The `workshop` command as a whole: help, version, bad input, colour."""

from __future__ import annotations

import subprocess
import sys

import pytest

from workshop import __version__
from workshop.cli import COMMANDS, REGISTRY

ESC = "\033["


def test_help_lists_every_command(workshop_repo, run_workshop) -> None:
    code, out, err = run_workshop("--help", cwd=workshop_repo)
    assert (code, err) == (0, "")
    assert out.startswith("usage: workshop")
    words = " ".join(out.split())  # argparse wraps long lines
    for name, entry in COMMANDS.items():
        assert f" {name} " in words and entry.help in words


def test_no_command_shows_status(workshop_repo, run_workshop) -> None:
    """A bare `workshop` does the next useful thing: where am I?"""
    bare = run_workshop(cwd=workshop_repo)
    assert bare == run_workshop("status", cwd=workshop_repo)
    assert bare.code == 0 and "You are on step 1" in bare.stdout


@pytest.mark.parametrize(
    "name", ["status", "check", "watch", "hint", "serve", "verify"]
)
def test_each_command_has_help(workshop_repo, run_workshop, name: str) -> None:
    code, out, err = run_workshop(name, "--help", cwd=workshop_repo)
    assert (code, err) == (0, "")
    assert out.startswith(f"usage: workshop {name}")
    assert COMMANDS[name].help in " ".join(out.split())


def test_version(workshop_repo, run_workshop) -> None:
    code, out, _ = run_workshop("--version", cwd=workshop_repo)
    assert (code, out) == (0, f"workshop {__version__}\n")


def test_unknown_command_and_option(workshop_repo, run_workshop) -> None:
    code, out, err = run_workshop("frobnicate", cwd=workshop_repo)
    assert code == 2 and out == ""
    assert err == "workshop: unknown command 'frobnicate' (see 'workshop --help')\n"
    code, out, err = run_workshop("chek", cwd=workshop_repo)  # a typo: one line
    assert code == 2 and out == ""
    assert err.startswith("workshop: unknown command 'chek': did you mean 'check'?")
    assert len(err.splitlines()) == 1 and "choose from" not in err
    code, out, err = run_workshop("check", "--frobnicate", cwd=workshop_repo)
    assert code == 2 and out == ""
    assert "unrecognized arguments: --frobnicate" in err


def test_colour_only_when_asked_and_never_with_no_color(
    workshop_repo, run_workshop
) -> None:
    # a pipe is not a terminal: plain text
    plain = run_workshop("check", cwd=workshop_repo, env={"NO_COLOR": None})
    assert ESC not in plain.stdout and "✗ Step 1" in plain.stdout
    # FORCE_COLOR stands in for a terminal
    forced = {"NO_COLOR": None, "FORCE_COLOR": "1"}
    coloured = run_workshop("check", cwd=workshop_repo, env=forced)
    assert f"{ESC}31m✗{ESC}0m Step 1" in coloured.stdout
    # NO_COLOR wins over everything
    both = {"NO_COLOR": "1", "FORCE_COLOR": "1"}
    for command in (["check"], ["status"], ["hint", "1"], ["verify", "--fast"]):
        result = run_workshop(*command, cwd=workshop_repo, env=both)
        assert result.stdout and ESC not in result.stdout + result.stderr, command


def test_errors_are_one_plain_line(workshop_repo, run_workshop) -> None:
    env = {"NO_COLOR": "1", "FORCE_COLOR": "1"}
    code, _, err = run_workshop("check", "12", cwd=workshop_repo, env=env)
    assert code == 2
    assert err == "workshop: unknown step '12': valid steps are 0, 1, 2\n"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["serve", "--port", "abc"], "workshop serve: argument --port: invalid int"),
        (["goto"], "workshop goto: the following arguments are required: step"),
        (["verify", "-j", "x"], "workshop verify: argument -j/--jobs: invalid int"),
    ],
)
def test_usage_errors_are_one_line(
    workshop_repo, run_workshop, args: list[str], expected: str
) -> None:
    """A mistyped option is one line naming the command, and exit status 2."""
    code, out, err = run_workshop(*args, cwd=workshop_repo)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(expected)
    assert err.rstrip().endswith(f"(see 'workshop {args[0]} --help')")


def test_an_extra_argument_points_at_the_commands_own_help(
    workshop_repo, run_workshop
) -> None:
    code, out, err = run_workshop("status", "extra", cwd=workshop_repo)
    assert (code, out) == (2, "")
    assert err == (
        "workshop status: unrecognized arguments: extra "
        "(see 'workshop status --help')\n"
    )


def test_a_command_loads_its_own_module_and_no_other() -> None:
    """One registry declares every command; a command's module is imported
    when it runs, so `workshop --help` and `workshop diff` load no other."""
    probe = (
        "import sys\n"
        "from workshop.cli import build_parser\n"
        "build_parser()\n"
        "print(*sorted(m for m in sys.modules if m.startswith('workshop.commands.')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == []


def test_every_command_is_declared_once_with_its_group() -> None:
    names = [entry.name for entry in REGISTRY]
    assert len(names) == len(set(names)) == len(COMMANDS)
    assert {entry.group for entry in REGISTRY} == {"learner", "author"}
    assert all(callable(entry.call) and entry.help for entry in REGISTRY)
