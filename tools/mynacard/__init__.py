"""mynacard: a software ISO 7816 Individual Number Card (マイナンバーカード) and a reader test harness.

One import namespace: ``mynacard.apdu`` (the wire and the terminal side), ``mynacard.emulator`` (the card),
``mynacard.profiles`` (the card profiles as data) and ``mynacard.tools`` (command line and test harness).
In the repository these are the top-level folders ``apdu/``, ``emulator/``, ``profiles/`` and ``tools/``;
this folder holds only the namespace root, mapped to ``mynacard`` in ``pyproject.toml``.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mynacard")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"
