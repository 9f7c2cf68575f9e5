"""Profile variants (派生プロファイル): a profile that ``extends`` another and says only what differs.

``[profile] extends = "legacy-2016"`` (a shipped name, or a path relative to the variant's file) takes the
base profile and merges the variant over it:

* tables merge key by key, recursively; a value replaces the base's; a ``content`` table replaces the
  base's whole, since its kinds (``source``, ``hex``, ``text``) exclude each other;
* arrays of tables with an identity merge entry by entry: ``applets`` by ``id``; in an applet ``files`` by
  ``fid``, ``credentials``, ``keys`` and ``terminal_keys`` by ``id``, ``aliases`` by ``aid``; top-level
  ``data_objects`` by ``tag``. An entry with ``remove = true`` removes the base's entry; a new identity
  appends. Every other array (``status_commands``, ``interface``, ``records``, ...) is replaced whole.

The resolved profile is self-contained: it names its family (the root of the chain) in ``[profile]
variant_of`` and is what a card
personalised from the variant stores, so the card reopens the same when either file changes later.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from mynacard.profiles.errors import ProfileError

IDENTITY: dict[tuple[str, ...], str] = {
    ("applets",): "id",
    ("applets", "files"): "fid",
    ("applets", "credentials"): "id",
    ("applets", "keys"): "id",
    ("applets", "terminal_keys"): "id",
    ("applets", "aliases"): "aid",
    ("data_objects",): "tag",
}
"""Where an array of tables merges entry by entry, and the field that identifies an entry."""

WHOLE = ("content",)
"""Tables a variant replaces whole instead of merging into."""

MAX_DEPTH = 8

Loader = Callable[[str], tuple[dict[str, Any], str]]
"""Base name (as written in ``extends``) → its TOML data and how errors name it."""


def resolve(data: dict[str, Any], where: str, load: Loader, depth: int = 0) -> dict[str, Any]:
    """``data`` with its ``extends`` chain merged in; ``data`` itself when it extends nothing."""
    info = data.get("profile", {})
    base_name = info.get("extends") if isinstance(info, dict) else None
    if base_name is None:
        return data
    if not isinstance(base_name, str):
        raise ProfileError(f"{where}: profile.extends: a profile name or path, got {base_name!r}")
    if depth >= MAX_DEPTH:
        raise ProfileError(f"{where}: profile.extends: more than {MAX_DEPTH} levels (a cycle?)")
    base_data, base_where = load(base_name)
    base = resolve(base_data, base_where, load, depth + 1)
    merged: dict[str, Any] = merge(base, data, (), where)
    merged["profile"] = {k: v for k, v in merged["profile"].items() if k != "extends"}
    # the family: the profile at the root of the chain (a variant of a variant is still legacy-2016's)
    merged["profile"]["variant_of"] = base["profile"].get("variant_of") or base["profile"].get(
        "name", base_name
    )
    return merged


def merge(base: Any, override: Any, path: tuple[str, ...], where: str) -> Any:
    """``override`` merged over ``base`` under the rules of the module docstring."""
    if isinstance(base, dict) and isinstance(override, dict) and path[-1:] != WHOLE:
        out = dict(base)
        for key, value in override.items():
            out[key] = merge(base[key], value, (*path, key), where) if key in base else _strip(value)
        return out
    if path in IDENTITY and isinstance(base, list) and isinstance(override, list):
        return _merge_entries(base, override, path, where)
    return _strip(override)


def _merge_entries(base: list[Any], override: list[Any], path: tuple[str, ...], where: str) -> list[Any]:
    key = IDENTITY[path]
    out = list(base)
    for entry in override:
        if not isinstance(entry, dict) or key not in entry:
            raise ProfileError(f"{where}: {'.'.join(path)}: every entry of a variant names its {key!r}")
        index = next((i for i, old in enumerate(out) if _same(old.get(key), entry[key])), None)
        if entry.get("remove") is True:
            if index is None:
                raise ProfileError(f"{where}: {'.'.join(path)}: no {key} {entry[key]!r} to remove")
            del out[index]
        elif index is None:
            out.append(_strip(entry))
        else:
            out[index] = merge(out[index], entry, path, where)
    return out


def _same(a: object, b: object) -> bool:
    """Identities compare as written, but hex (FIDs, AIDs, tags) ignores spaces and case."""
    if isinstance(a, str) and isinstance(b, str):
        return re.sub(r"[\s:]", "", a).upper() == re.sub(r"[\s:]", "", b).upper()
    return a == b


def _strip(value: Any) -> Any:
    """A new entry as given, without a stray ``remove = false``."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if not (k == "remove" and v is False)}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value
