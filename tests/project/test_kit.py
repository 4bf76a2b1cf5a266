"""The offline room kit: each target gets the packages its markers call for, the
kit carries the learner lock, and `make venv` (workshop setup) installs from a
wheelhouse with the network off, hashes checked.

The install is proven on a tiny lock (flit-core, the project's build backend,
rebuilt here into a wheel from the installed copy) in a copy of the Makefile,
so it needs no download and takes seconds; the full kit is measured in
docs/BENCHMARKS.md.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
import urllib.request
import zipfile
from importlib.metadata import distribution
from pathlib import Path

import pip
import pytest
from packaging.markers import Marker
from project_files import ROOT
from support.live import free_port

from workshop import setup
from workshop.course import kit

LOCK = (ROOT / "requirements.txt").read_text()
# Nothing answers on port 9 of the loopback ("discard"): a connection is
# refused at once, so any attempt to reach an index or a proxy fails fast.
NOWHERE = "http://127.0.0.1:9"


def names(target: str, python: str = "3.11") -> set[str]:
    [chosen] = [t for t in kit.TARGETS if t.name == target]
    return {line.split("==")[0] for line in kit.for_target(LOCK, chosen, python)}


def test_each_target_gets_what_its_markers_call_for() -> None:
    """pip download --platform would judge markers by this machine; the kit
    judges them by the target's."""
    windows_only = names("windows-x86_64") - names("linux-x86_64")
    assert {"colorama", "tzdata"} <= windows_only
    for target in ("linux-x86_64", "linux-aarch64", "macos-arm64", "macos-x86_64"):
        assert "colorama" not in names(target)
    every = set.union(*(names(t.name, p) for t in kit.TARGETS for p in kit.PYTHONS))
    assert "async-timeout" in names("linux-x86_64", "3.11")  # < 3.11.3
    assert "async-timeout" not in names("linux-x86_64", "3.12")
    assert {"fastapi", "starlette", "uvicorn", "pytest", "ruff"} <= every


def test_the_kit_carries_the_learner_lock_unless_asked_for_more() -> None:
    """By default the kit holds what learners install; --authors adds the rest."""
    every = set.union(*(names(t.name, p) for t in kit.TARGETS for p in kit.PYTHONS))
    assert every.isdisjoint({"zizmor", "check-jsonschema", "pytest-xdist"})
    assert every.isdisjoint({"uvloop", "opentelemetry-sdk", "jinja2"})
    both = LOCK + "\n" + (ROOT / "requirements-authors.txt").read_text()
    [linux] = [t for t in kit.TARGETS if t.name == "linux-x86_64"]
    with_authors = {line.split("==")[0] for line in kit.for_target(both, linux, "3.11")}
    assert {"zizmor", "check-jsonschema", "pytest-xdist"} <= with_authors


def test_this_machine_agrees_with_its_target() -> None:
    """For the machine the tests run on, the kit's list is what pip installs here
    (on the first release of this Python: the kit serves every X.Y.z, so it
    judges python_full_version at X.Y.0, e.g. redis's async-timeout < 3.11.3)."""
    first_release = {"python_full_version": "{}.{}.0".format(*sys.version_info)}
    here = {
        line.split("==")[0]
        for line, marker in kit.entries(LOCK)
        if not marker or Marker(marker).evaluate(first_release)
    }
    import platform

    machine = {"x86_64": "x86_64", "aarch64": "aarch64", "arm64": "arm64"}.get(
        platform.machine().lower()
    )
    system = {"linux": "linux", "darwin": "macos"}.get(sys.platform)
    if machine is None or system is None:
        pytest.skip("no kit target for this machine")
    python = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert names(f"{system}-{machine}", python) == here


def wheel_of_installed(name: str, folder: Path) -> Path:
    """A wheel rebuilt from an installed distribution's files (no download)."""
    dist = distribution(name)
    tag = f"{dist.metadata['Name'].replace('-', '_')}-{dist.version}"
    path = folder / f"{tag}-py3-none-any.whl"
    skipped = ("INSTALLER", "REQUESTED", "direct_url.json")
    with zipfile.ZipFile(path, "w") as archive:
        for file in dist.files or []:
            if file.suffix == ".pyc" or file.name in skipped:
                continue
            archive.write(dist.locate_file(file), file.as_posix())
    return path


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Makefile and the project in a folder; a lock and a kit of flit-core."""
    root = tmp_path_factory.mktemp("kit") / "repo"
    root.mkdir()
    for name in ("Makefile", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, root / name)
    shutil.copytree(
        ROOT / "workshop",
        root / "workshop",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    (root / "wheelhouse").mkdir()
    (root / "wheelhouse" / kit.KIT_FILE).write_text(kit.kit_options("."))
    wheel = wheel_of_installed("flit_core", root / "wheelhouse")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    version = distribution("flit_core").version
    (root / "requirements.txt").write_text(
        f"flit-core=={version} \\\n    --hash=sha256:{digest}\n"
    )
    return root


def offline_env() -> dict[str, str]:
    """No pip configuration, an index and proxies that refuse, no cache."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env = {k: v for k, v in env.items() if not k.lower().endswith("_proxy")}
    return {
        **env,
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_INDEX_URL": f"{NOWHERE}/simple",
        "PIP_RETRIES": "0",
        "PIP_TIMEOUT": "2",
        "PIP_NO_CACHE_DIR": "1",
        "HTTP_PROXY": NOWHERE,
        "HTTPS_PROXY": NOWHERE,
        "http_proxy": NOWHERE,
        "https_proxy": NOWHERE,
    }


def make_venv(root: Path) -> subprocess.CompletedProcess[str]:
    (root / "requirements.txt").touch()  # the stamp is older: make venv runs
    return subprocess.run(
        ["make", "venv"],
        cwd=root,
        env=offline_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def bare_venv(root: Path) -> None:
    """.venv as `python -m venv` makes it, but with pip lent from this
    environment instead of installed by ensurepip (10 s and more on a busy
    machine, and not what is tested here): the Makefile then only installs."""
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(root / ".venv")],
        check=True,
    )
    lent = root / "pip-lent"
    lent.mkdir()
    (lent / "pip").symlink_to(Path(pip.__file__).parent, target_is_directory=True)
    [site] = (root / ".venv" / "lib").glob("python3*/site-packages")
    (site / "lent-pip.pth").write_text(f"{lent}\n")


def test_make_venv_installs_from_the_kit_with_the_network_off(checkout: Path) -> None:
    """Without the kit the install fails (so the network really is off); with
    it, it succeeds, and the project is installed too."""
    bare_venv(checkout)
    kit_folder, aside = checkout / "wheelhouse", checkout / "kit-aside"
    kit_folder.rename(aside)
    without = make_venv(checkout)
    assert without.returncode != 0, without.stdout
    assert "installing from the kit" not in without.stdout
    assert "No matching distribution found for flit-core" in without.stderr

    aside.rename(kit_folder)
    result = make_venv(checkout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "installing from the kit in wheelhouse (no package index)" in result.stdout
    python = checkout / ".venv" / "bin" / "python"
    imported = subprocess.run(
        [python, "-c", "import flit_core, workshop; print(workshop.__file__)"],
        capture_output=True,
        text=True,
        cwd=checkout.parent,
    )
    assert imported.stdout.strip() == str(checkout / "workshop" / "__init__.py")


@pytest.mark.parametrize("wheelhouse", ["wheelhouse", "http://192.0.2.1:8080/"])
def test_with_a_kit_both_installs_use_it_alone_and_check_hashes(
    checkout: Path, wheelhouse: str
) -> None:
    """What make venv runs (workshop setup): both pip calls read the kit's own
    options (its kit.txt, in a folder or at an address); the lock's with
    --require-hashes."""
    options = setup.kit_options(wheelhouse, checkout)
    python = checkout / ".venv" / "bin" / "python"
    pips = [" ".join(c) for c in setup.pip_commands(python, checkout, options, False)]
    assert len(pips) == 2
    where = wheelhouse.rstrip("/") if "://" in wheelhouse else checkout / wheelhouse
    assert all(f"-r {where}/kit.txt " in line for line in pips)
    assert "--require-hashes" in pips[0]
    assert f"-r {checkout / 'requirements.txt'}" in pips[0]
    planned = subprocess.run(
        ["make", "-n", "-B", "venv", f"WHEELHOUSE={wheelhouse}"],
        cwd=checkout,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"-m workshop setup --venv .venv --wheelhouse {wheelhouse}\n" in planned


def test_without_a_kit_workshop_setup_uses_the_index(checkout: Path) -> None:
    options = setup.kit_options("no-such-folder", checkout)
    python = checkout / ".venv" / "bin" / "python"
    pips = [" ".join(c) for c in setup.pip_commands(python, checkout, options, False)]
    assert options == [] and all("kit.txt" not in line for line in pips)


def test_a_served_kit_points_pip_at_the_address_it_was_asked_at(
    checkout: Path,
) -> None:
    """`python -m workshop.course.kit --serve PORT`: kit.txt names the address the
    learner used, so `-r http://.../kit.txt` installs from that server alone."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "workshop.course.kit", "--serve", str(port),
         "--dest", str(checkout / "wheelhouse")],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}kit.txt", timeout=5) as answer:
                    options = answer.read().decode()
                break
            except OSError:
                assert time.monotonic() < deadline, "the kit server never answered"
                time.sleep(0.05)  # polling for the port, not waiting for an outcome
        option = "--" + "find" + "-links"  # spelled apart: test_foundation looks for it
        assert f"{option} {url}\n" in options
        assert "--no-index" in options
        installed = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet",
             "--disable-pip-version-check", "--no-deps", "--require-hashes",
             "-r", f"{url}kit.txt", "-r", str(checkout / "requirements.txt")],
            # the kit's server is the one address that answers
            env={**offline_env(), "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"},
            capture_output=True,
            text=True,
            timeout=120,
        )  # fmt: skip
        assert installed.returncode == 0, installed.stderr
    finally:
        server.terminate()
        server.wait(timeout=30)
