"""`make venv` in fresh clones of two commits, side by side: size and time,
from pip's configuration (the network) and from a kit with the network off.

    .venv/bin/python tests/project/venv_bench.py BEFORE AFTER \
        --kit BEFORE=/tmp/kit-before --kit AFTER=/tmp/kit-after [--rounds 2]
    .venv/bin/python tests/project/venv_bench.py --sizes PATH/.venv

(--sizes: one .venv on disk by package, bytecode apart, largest first.)

Each kit is `python -m workshop.course.kit --dest DIR --only linux-x86_64/3.11`
run with that commit's lock. Runs alternate (before, after, before, ...) so
that both see the same load; the load average is printed with each. No pip
cache. Sizes are `du -s` (disk blocks) and the files' own bytes.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOWHERE = "http://127.0.0.1:9"


def offline(kit: str) -> dict[str, str]:
    """The kit alone: no pip configuration, an index and proxies that refuse."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env = {k: v for k, v in env.items() if not k.lower().endswith("_proxy")}
    return {
        **env, "PIP_CONFIG_FILE": os.devnull, "PIP_INDEX_URL": f"{NOWHERE}/simple",
        "PIP_NO_CACHE_DIR": "1", "PIP_RETRIES": "0", "HTTPS_PROXY": NOWHERE,
        "https_proxy": NOWHERE, "HTTP_PROXY": NOWHERE, "http_proxy": NOWHERE,
        "WHEELHOUSE": kit,
    }  # fmt: skip


def sizes(venv: Path) -> tuple[float, float]:
    """(MiB on disk as du counts it, MB of the files' bytes)."""
    blocks = files = 0
    for folder, _, names in os.walk(venv):
        for name in names:
            info = os.lstat(os.path.join(folder, name))
            blocks += getattr(info, "st_blocks", 0) * 512
            files += info.st_size
    return blocks / 2**20, files / 1e6


def by_package(venv: Path) -> None:
    """Disk use of each installed distribution (its RECORD, and bytecode
    written since for its modules), bytecode apart."""
    from importlib.metadata import distributions

    [site] = venv.glob("lib/python3*/site-packages") or [venv / "Lib/site-packages"]
    owner = {
        (site / file).resolve(): dist.metadata["Name"]
        for dist in distributions(path=[str(site)])
        for file in dist.files or []
    }
    rows: dict[str, list[int]] = {}
    for folder, _, names in os.walk(venv):
        for name in names:
            path = Path(folder, name)
            if path.is_symlink():
                continue
            source = path.parent.parent / (name.split(".")[0] + ".py")
            who = owner.get(path.resolve()) or owner.get(source.resolve(), "(venv)")
            row = rows.setdefault(who, [0, 0])
            row[name.endswith(".pyc")] += getattr(path.lstat(), "st_blocks", 0) * 512
    for who, (rest, pyc) in sorted(rows.items(), key=lambda r: -sum(r[1]))[:20]:
        print(f"{who:20} {(rest + pyc) / 2**20:5.1f} MiB (bytecode {pyc / 2**20:4.1f})")
    rest, pyc = map(sum, zip(*rows.values(), strict=True))
    print(f"{'all':20} {(rest + pyc) / 2**20:5.1f} MiB (bytecode {pyc / 2**20:4.1f})")


def one(commit: str, env: dict[str, str], work: Path) -> str:
    clone = Path(tempfile.mkdtemp(dir=work))
    git = ["git", "-C", str(clone)]
    subprocess.run([*git, "clone", "-q", "--no-local", str(ROOT), "."], check=True)
    subprocess.run([*git, "checkout", "-q", commit], check=True)
    load = os.getloadavg()[0]
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    made = subprocess.run(["make", "venv"], cwd=clone, env=env, capture_output=True)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = after.ru_utime - cpu.ru_utime + after.ru_stime - cpu.ru_stime
    if made.returncode != 0:
        return f"FAILED: {made.stderr.decode()[-300:]}"
    disk, files = sizes(clone / ".venv")
    subprocess.run(["rm", "-rf", str(clone)], check=True)
    return (
        f"du {disk:5.0f} MiB, files {files:5.1f} MB, "
        f"{wall:5.1f} s ({used:4.1f} s CPU), load {load:.1f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("before", nargs="?")
    parser.add_argument("after", nargs="?")
    parser.add_argument("--sizes", type=Path, metavar="VENV")
    parser.add_argument("--kit", action="append", default=[], help="COMMIT=DIR")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if args.sizes:
        by_package(args.sizes)
        return 0
    kits = dict(k.split("=", 1) for k in args.kit)
    network = {**os.environ, "PIP_NO_CACHE_DIR": "1"}
    with tempfile.TemporaryDirectory() as folder:
        for round_ in range(1, args.rounds + 1):
            for commit in (args.before, args.after):
                ways = [("network", network)]
                ways += [("kit", offline(kits[commit]))] if commit in kits else []
                for way, env in ways:
                    result = one(commit, env, Path(folder))
                    print(f"round {round_} {commit} {way:7}: {result}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
