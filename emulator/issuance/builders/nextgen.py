"""Content builders of the next card (nextgen-2026): the 認証AP's certificates and records, and the
券面等AP's signed records. Every builder here needs a nextgen-2026 TEST PKI (P-384) and refuses a
legacy-2016 one with a ``BuildError``; the card keys are P-384 (the profile declares them
``algorithm = "ec-p384"``).
"""

from __future__ import annotations

from collections.abc import Mapping

from cryptography.hazmat.primitives.asymmetric import ec

from mynacard.emulator.issuance.builders.registry import BuildError, BuildInput, register
from mynacard.emulator.issuance.pki import NEXTGEN_2026, TestPki
from mynacard.emulator.issuance.records import nextgen


def _pki(given: BuildInput, builder: str) -> TestPki:
    return given.need_pki(builder, NEXTGEN_2026)


def _need_p384(given: BuildInput, builder: str, key_ids: tuple[str, ...]) -> None:
    for key_id in key_ids:
        key = given.keys[key_id]
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP384R1):
            raise BuildError(
                f'content builder {builder!r}: card key {key_id!r} must be algorithm = "ec-p384"'
            )


@register(
    "nextgen.jpki",
    [
        "nextgen.sign_certificate",
        "nextgen.sign_ca_certificate",
        "nextgen.auth_certificate",
        "nextgen.auth_ca_certificate",
        "nextgen.token_info",
    ],
    keys=["nextgen.auth_key", "nextgen.sign_key"],
)
def _jpki(given: BuildInput) -> Mapping[str, bytes]:
    """認証AP EF 0001/0002/000A/000B (P-384 certificates; no 0001 under 15, as today) and EF 0006."""
    persona, pki = given.need_persona("nextgen.jpki"), _pki(given, "nextgen.jpki")
    _need_p384(given, "nextgen.jpki", ("nextgen.auth_key", "nextgen.sign_key"))
    return nextgen.jpki_contents(persona, given.keys, pki, given.options)


@register("nextgen.device", ["nextgen.ia_certificate"], keys=["nextgen.ia_key"])
def _device(given: BuildInput) -> Mapping[str, bytes]:
    """認証AP EF 0009: the certificate of the internal authentication key (内部認証鍵)."""
    persona, pki = given.need_persona("nextgen.device"), _pki(given, "nextgen.device")
    _need_p384(given, "nextgen.device", ("nextgen.ia_key",))
    return {"nextgen.ia_certificate": nextgen.ia_certificate(persona, given.keys, pki, given.options)}


@register(
    "nextgen.auth_data",
    ["nextgen.my_number", "nextgen.attributes", "nextgen.integrity", "nextgen.resident_code"],
)
def _auth_data(given: BuildInput) -> Mapping[str, bytes]:
    """認証AP EF 0003 個人番号, 0004 attributes, 0005 the integrity record over both, 0007 住民票コード."""
    persona, pki = given.need_persona("nextgen.auth_data"), _pki(given, "nextgen.auth_data")
    return nextgen.auth_data_contents(persona, pki, given.options)


@register(
    "nextgen.face",
    [
        "nextgen.face_front",
        "nextgen.face_back",
        "nextgen.face_attributes",
        "nextgen.face_my_number",
        "nextgen.face_signer_certificate",
    ],
)
def _face(given: BuildInput) -> Mapping[str, bytes]:
    """券面等AP EF 0001-0004 (signed by the 券面署名鍵) and EF 0005, that key's certificate."""
    persona, pki = given.need_persona("nextgen.face"), _pki(given, "nextgen.face")
    return nextgen.face_contents(persona, pki, given.options)
