"""The state files of a card, validated on every read (状態ファイルの検査): a damaged file is refused.

``card.json``, ``contents.json`` and ``security.json`` are read through these models, so bad JSON, wrong
types (``tries_left: true`` is not 1), bad hex or a wrong encoding end in one ``StateError`` that names the
file, the field and what is wrong, never a traceback. What depends on the profile (every credential
present, counters within their limits) is checked where the card is loaded.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

from mynacard.emulator.errors import StateError
from mynacard.profiles.validation import describe_validation_error

FORMAT = "mynacard-card-state"
VERSION = 1

Hex = Annotated[StrictStr, Field(pattern=r"^([0-9a-fA-F]{2})*$")]
"""Bytes as an even number of hex digits."""


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["mynacard-card-state"]
    version: Literal[1]


class CardDocument(_Document):
    """``card.json``: which profile and persona the card was personalised from, and when."""

    profile: StrictStr
    persona: StrictStr | None
    personalised_at: StrictStr


class CredentialDocument(BaseModel):
    """One credential's state: tries left, the salt and the salted digest (None: never set)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tries_left: Annotated[StrictInt, Field(ge=0, le=15)]
    salt: Annotated[Hex, Field(min_length=2)]
    digest: Annotated[Hex, Field(min_length=64, max_length=64)] | None
    pace_seeds: Annotated[Hex, Field(min_length=104, max_length=104)] | None = None
    """A PACE password's K_π seeds (SHA-1 ‖ SHA-256 of the value ‖ 00000003)."""


class SecurityDocument(_Document):
    """``security.json``: every credential's state, keyed ``applet/credential``."""

    credentials: dict[StrictStr, CredentialDocument]


class ContentsDocument(_Document):
    """``contents.json``: EF contents and records keyed ``applet/FID``, GET DATA objects by tag."""

    files: dict[StrictStr, Hex]
    records: dict[StrictStr, list[Hex]]
    data_objects: dict[StrictStr, Hex]


Document = TypeVar("Document", bound=_Document)


def parse_document(raw: bytes, where: str, model: type[Document]) -> Document:
    """``raw`` as a ``model`` document; every problem is one ``StateError`` naming ``where`` and the field."""
    try:
        data: Any = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise StateError(f"{where}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise StateError(
            f"{where}: not valid JSON ({exc.msg}, line {exc.lineno} column {exc.colno})"
        ) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise StateError(f"{where}: not a mynacard card-state file")
    if data.get("version") != VERSION:
        raise StateError(f"{where}: state version {data.get('version')!r}, this build reads {VERSION}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise StateError(describe_validation_error(where, "card-state file", exc)) from None


def encode_document(document: dict[str, Any]) -> bytes:
    """The bytes written for a state document: compact, sorted, UTF-8, newline-terminated."""
    body = {"format": FORMAT, "version": VERSION, **document}
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode() + b"\n"
