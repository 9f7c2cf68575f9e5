"""Build ``build/pathmap/mynacard/``: the installed namespace as a tree of links to the source files.

setuptools maps ``mynacard.apdu`` to ``apdu/`` and so on (``[tool.setuptools.package-dir]``); at run time an
editable install resolves that with an import hook, which static tools (mypy, import-linter) cannot follow.
This tree gives them the same module names: real directories, one symbolic link per source file. It is
rebuilt from scratch on every call, so new and deleted files are always reflected.
"""

from __future__ import annotations

import shutil
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET = ROOT / "build" / "pathmap"


def package_dirs() -> dict[str, Path]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    setuptools = config["tool"]["setuptools"]
    mapping = {name: ROOT / path for name, path in setuptools["package-dir"].items()}
    packages: list[str] = setuptools["packages"]
    located: dict[str, Path] = {}
    for package in packages:
        parent = max((m for m in mapping if package == m or package.startswith(m + ".")), key=len)
        rest = package.removeprefix(parent).lstrip(".")
        located[package] = mapping[parent].joinpath(*rest.split(".")) if rest else mapping[parent]
    return located


def build() -> Path:
    if TARGET.exists():
        shutil.rmtree(TARGET)
    for package, source in package_dirs().items():
        destination = TARGET.joinpath(*package.split("."))
        destination.mkdir(parents=True, exist_ok=True)
        for file in sorted(source.iterdir()):
            if file.is_file() and (file.suffix in (".py", ".pyi") or file.name == "py.typed"):
                (destination / file.name).symlink_to(file)
    return TARGET


if __name__ == "__main__":
    print(build(), file=sys.stderr)
