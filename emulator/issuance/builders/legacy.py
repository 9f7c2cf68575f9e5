"""Content builders of today's card (legacy-2016): GET DATA values and the records of each applet."""

from __future__ import annotations

from collections.abc import Mapping

from mynacard.apdu.tlv import ber_decode
from mynacard.emulator.issuance.builders.registry import BuildInput, register
from mynacard.emulator.issuance.pki import LEGACY_2016
from mynacard.emulator.issuance.records import legacy


@register("card", ["card.atr_without_ts"], persona=False, pki=False)
def _card_atr(given: BuildInput) -> Mapping[str, bytes]:
    """GET DATA ``5F 51``: the ATR without TS (カード管理データ)."""
    return {"card.atr_without_ts": given.atr[1:]}


@register(
    "card.holder",
    ["card.municipality_code", "card.expiry", "card.identification_number"],
    pki=False,
)
def _card_holder(given: BuildInput) -> Mapping[str, bytes]:
    """GET DATA values that come from the holder's card: municipality, expiry, card number."""
    persona = given.need_persona("card.holder")
    return {
        "card.municipality_code": persona.municipality_code.encode("ascii"),
        "card.expiry": persona.card_expiry.strftime("%Y%m%d").encode("ascii"),
        "card.identification_number": persona.card_serial.encode("ascii"),
    }


@register(
    "card.issuer",
    ["card.issuer_key_id", "card.intermediate_key_id", "card.cv_certificate_content"],
    persona=False,
)
def _card_issuer(given: BuildInput) -> Mapping[str, bytes]:
    """MF-level key references and CV certificate (spec §4.7), ASSUMED to be the text-AP issuer's.

    GET DATA returns a CV certificate's inner content, without the ``7F 21`` wrapper (§3.6).
    """
    issuer = given.need_pki("card.issuer", LEGACY_2016).text_issuer
    return {
        "card.issuer_key_id": issuer.ca_key_id,
        "card.intermediate_key_id": issuer.signer_key_id,
        "card.cv_certificate_content": ber_decode(issuer.cv_certificate()).value,
    }


@register(
    "jpki",
    [
        "jpki.sign_certificate",
        "jpki.sign_ca_certificate",
        "jpki.auth_certificate",
        "jpki.auth_ca_certificate",
        "jpki.token_info",
        "jpki.certificate_availability",
    ],
    keys=["jpki.auth_key", "jpki.sign_key"],
)
def _jpki(given: BuildInput) -> Mapping[str, bytes]:
    """公的個人認証AP: the four certificates, the token information and the availability flags."""
    persona, pki = given.need_persona("jpki"), given.need_pki("jpki", LEGACY_2016)
    return legacy.jpki_contents(persona, given.keys, pki, given.options)


@register(
    "text",
    [
        "text.my_number",
        "text.attributes",
        "text.integrity",
        "text.cv_certificate",
        "text.ap_info",
        "text.session_key_public",
        "text.signed_public_key",
    ],
    keys=["text.card_key"],
    transient_keys=["text.session_key"],  # EF 0006 holds its public key; SET SESSION KEY is not modelled
)
def _text(given: BuildInput) -> Mapping[str, bytes]:
    """券面事項入力補助AP: 個人番号, 基本4情報, the integrity record and the AP's keys and certificate."""
    persona, pki = given.need_persona("text"), given.need_pki("text", LEGACY_2016)
    return legacy.text_contents(persona, given.keys, pki, given.options)


@register(
    "visual",
    [
        "visual.age_record",
        "visual.card_face",
        "visual.ap_basic",
        "visual.cv_certificate",
        "visual.my_number_image",
    ],
    keys=["visual.card_key"],
)
def _visual(given: BuildInput) -> Mapping[str, bytes]:
    """券面事項確認AP: the age record, the card face with its images, the 個人番号 image."""
    persona, pki = given.need_persona("visual"), given.need_pki("visual", LEGACY_2016)
    return legacy.visual_contents(persona, given.keys, pki, given.options)


@register("common", ["common.card_info"], pki=False)
def _common(given: BuildInput) -> Mapping[str, bytes]:
    """共通カードAP: the card information record."""
    return {"common.card_info": legacy.common_card_info(given.need_persona("common"))}
