"""The package as a user installs it: the built wheel in a fresh venv outside the repository (issue 7).

Built once per run: the wheel and the sdist from this checkout, a venv with the wheel and its
``harness`` and ``pcsc`` extras. Then: only ``mynacard`` lands in site-packages; a user's own ``apdu.py``,
``profiles/`` and ``tools/`` do not shadow ours; the pytest plugin serves a user's project; the shipped
suites run from the wheel; the sdist's tests collect.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed_in_pyproject() -> None:
    """A new folder with an ``__init__.py`` that is not in ``packages`` would be missing from the wheel."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    mapping: dict[str, str] = setuptools["package-dir"]
    found = {"mynacard"}
    for package, folder in mapping.items():
        if package == "mynacard":
            continue
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / folder)
            if relative.parts and relative.parts[0] == "mynacard":  # the namespace root's own folder
                continue
            found.add(".".join((package, *relative.parts)))
    assert sorted(found) == sorted(setuptools["packages"])


@dataclass(frozen=True)
class Installed:
    venv: Path
    python: Path
    site_packages: Path
    sdist: Path
    before: frozenset[str]

    def run(
        self, *args: str, cwd: Path, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        environment = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        environment["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{environment.get('PATH', '')}"
        return subprocess.run(
            list(args), cwd=cwd, env=environment | (env or {}), capture_output=True, text=True, timeout=600
        )


def _run(*args: str | Path, cwd: Path = ROOT) -> None:
    result = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"{args}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    work = tmp_path_factory.mktemp("packaging")
    dist = work / "dist"
    _run(sys.executable, "-m", "build", "--outdir", dist, ROOT)
    wheel = next(dist.glob("mynacard-*.whl"))
    venv = work / "venv"
    _run(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    site_packages = Path(
        subprocess.check_output([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
        .decode()
        .strip()
    )
    _run(python, "-m", "pip", "install", "-q", "--disable-pip-version-check", "hypothesis")
    before = frozenset(p.name for p in site_packages.iterdir())
    _run(python, "-m", "pip", "install", "-q", "--disable-pip-version-check", f"{wheel}[harness,pcsc]")
    yield Installed(venv, python, site_packages, next(dist.glob("mynacard-*.tar.gz")), before)


def _ours(installed: Installed) -> set[str]:
    """What the wheel itself added (its dependencies' folders are pip's business)."""
    record = next(installed.site_packages.glob("mynacard-*.dist-info")) / "RECORD"
    tops = {line.split(",")[0].split("/")[0] for line in record.read_text().splitlines() if line}
    return {t for t in tops if not t.startswith("..")}


def test_only_mynacard_lands_in_site_packages(installed: Installed, tmp_path: Path) -> None:
    assert _ours(installed) == {"mynacard", next(installed.site_packages.glob("mynacard-*.dist-info")).name}
    for name in ("apdu", "emulator", "profiles", "tools"):
        assert name not in {p.name for p in installed.site_packages.iterdir()}
        result = installed.run(str(installed.python), "-c", f"import {name}", cwd=tmp_path)
        assert result.returncode == 1 and "ModuleNotFoundError" in result.stderr, name
    result = installed.run("mynacard", "--version", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.startswith("mynacard 0.")


def _shadowing_project(directory: Path) -> None:
    """A user's directory with modules named like our folders, as a public client's ``apdu.py`` is."""
    (directory / "apdu.py").write_text("raise SystemExit('the user apdu.py was imported')\n")
    for package in ("profiles", "tools", "emulator"):
        (directory / package).mkdir()
        (directory / package / "__init__.py").write_text(
            f"raise SystemExit('the user {package} was imported')\n"
        )


def test_a_users_apdu_profiles_and_tools_do_not_shadow_ours(installed: Installed, tmp_path: Path) -> None:
    _shadowing_project(tmp_path)
    env = {"PYTHONPATH": str(tmp_path)}
    demo = installed.run("mynacard", "demo", cwd=tmp_path, env=env)
    assert demo.returncode == 0, demo.stderr
    assert "# signature verified with the certificate's public key: OK" in demo.stdout
    emulate = installed.run("mynacard", "emulate", "--help", cwd=tmp_path, env=env)
    assert emulate.returncode == 0 and "vpcd" in emulate.stdout, emulate.stderr
    module = installed.run(str(installed.python), "-m", "mynacard", "profiles", cwd=tmp_path, env=env)
    assert module.returncode == 0 and "legacy-2016" in module.stdout, module.stderr


USER_TEST = """
from mynacard.apdu.applets.jpki import JPKI_AID


def test_my_reader_selects_the_jpki_applet(reader):
    response = reader.transmit(bytes([0x00, 0xA4, 0x04, 0x0C, len(JPKI_AID)]) + JPKI_AID)
    assert (response.data, response.sw) == (b"", 0x9000)


def test_the_options_are_there(pytestconfig):
    assert pytestconfig.getoption("--reader") == "virtual"
    assert pytestconfig.getoption("--allow-destructive") is False
"""


def test_a_users_own_test_project_gets_the_reader_fixture(installed: Installed, tmp_path: Path) -> None:
    _shadowing_project(tmp_path)
    (tmp_path / "test_my_reader.py").write_text(USER_TEST)
    result = installed.run(
        str(installed.python),
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--reader",
        "virtual",
        "test_my_reader.py",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_the_shipped_suites_run_from_the_wheel(installed: Installed, tmp_path: Path) -> None:
    result = installed.run(
        str(installed.python),
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--pyargs",
        "mynacard.tools.harness.suites",
        "--reader",
        "virtual",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = result.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "failed" not in summary and "error" not in summary, summary
    assert int(summary.split()[0]) >= 500, summary


def test_the_sdist_tests_collect_against_the_installed_wheel(installed: Installed, tmp_path: Path) -> None:
    with tarfile.open(installed.sdist) as archive:
        archive.extractall(tmp_path, filter="data")
    source = next(tmp_path.glob("mynacard-*"))
    assert (source / "tests" / "test_packaging.py").is_file()
    assert (source / "LICENSE").is_file()
    result = installed.run(
        str(installed.python), "-m", "pytest", "-q", "--collect-only", "-p", "no:cacheprovider", cwd=source
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "error" not in result.stdout.splitlines()[-1], result.stdout[-2000:]
