"""The registry of content builders (内容の生成): who makes the bytes of each content source a profile names.

A profile's EF says ``content = { source = "jpki.auth_certificate" }``. Each builder declares the source
names it provides, the card keys it needs and whether it needs the persona and the TEST PKI. Loading a
profile checks every source against this registry (``known_sources``); personalisation runs only the
builders whose sources the profile uses, so a card never pays for a record it does not store.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, replace

from mynacard.apdu.tlv import ber_decode
from mynacard.emulator.filesystem import PrivateKey
from mynacard.emulator.issuance.personas import Persona
from mynacard.emulator.issuance.pki import KeyType, TestPki, generate_key
from mynacard.emulator.issuance.records import legacy
from mynacard.emulator.issuance.records.legacy import RecordOptions

BuildFunction = Callable[["BuildInput"], Mapping[str, bytes]]


class BuildError(ValueError):
    """A builder cannot run: a key, the persona or the PKI it needs is missing."""


@dataclass(frozen=True, slots=True)
class BuildInput:
    """Everything a builder may read. ``persona`` and ``pki`` are None when no needed builder wants them."""

    atr: bytes
    keys: Mapping[str, PrivateKey]
    options: RecordOptions
    persona: Persona | None = None
    pki: TestPki | None = None

    def need_persona(self, builder: str) -> Persona:
        if self.persona is None:
            raise BuildError(f"content builder {builder!r} needs a persona")
        return self.persona

    def need_pki(self, builder: str) -> TestPki:
        if self.pki is None:
            raise BuildError(f"content builder {builder!r} needs the TEST PKI")
        return self.pki


@dataclass(frozen=True, slots=True)
class ContentBuilder:
    """One builder: the sources it provides (a builder may leave one out, e.g. no signature certificate
    for a holder under 15) and what it needs."""

    name: str
    provides: frozenset[str]
    build: BuildFunction
    keys: frozenset[str] = frozenset()
    transient_keys: frozenset[str] = frozenset()
    """Keys the builder generates for itself when the profile holds no key object of that id: only
    their public half is stored (in an EF), because what the card does with the private half is not
    modelled."""
    persona: bool = True
    pki: bool = True


_REGISTRY: dict[str, ContentBuilder] = {}
"""Source name → the builder that provides it."""


def register(
    name: str,
    provides: Iterable[str],
    *,
    keys: Iterable[str] = (),
    transient_keys: Iterable[str] = (),
    persona: bool = True,
    pki: bool = True,
) -> Callable[[BuildFunction], BuildFunction]:
    """Decorator: register ``build`` as the builder ``name`` of ``provides``."""

    def add(build: BuildFunction) -> BuildFunction:
        builder = ContentBuilder(
            name, frozenset(provides), build, frozenset(keys), frozenset(transient_keys), persona, pki
        )
        for source in builder.provides:
            if source in _REGISTRY:
                raise ValueError(f"content source {source!r} is provided by two builders")
            _REGISTRY[source] = builder
        return build

    return add


def known_sources() -> frozenset[str]:
    """Every content source some builder provides."""
    return frozenset(_REGISTRY)


def builders_for(sources: Collection[str]) -> list[ContentBuilder]:
    """The builders that provide ``sources``, each once, in registration order."""
    unknown = sorted(set(sources) - set(_REGISTRY))
    if unknown:
        raise BuildError(f"no content builder provides {unknown}")
    chosen: dict[str, ContentBuilder] = {}
    for source in sources:
        chosen.setdefault(_REGISTRY[source].name, _REGISTRY[source])
    order = list(dict.fromkeys(b.name for b in _REGISTRY.values()))
    return sorted(chosen.values(), key=lambda b: order.index(b.name))


def build_sources(builders: Iterable[ContentBuilder], given: BuildInput) -> dict[str, bytes]:
    """Run ``builders`` and collect what they provide."""
    sources: dict[str, bytes] = {}
    for builder in builders:
        missing = sorted(builder.keys - set(given.keys))
        if missing:
            raise BuildError(f"content builder {builder.name!r} needs the card key(s) {missing}")
        own = {k: generate_key(KeyType.RSA_2048) for k in sorted(builder.transient_keys - set(given.keys))}
        sources.update(builder.build(replace(given, keys={**given.keys, **own})))
    return sources


# --- today's card (legacy-2016) -------------------------------------------------------------------------


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
    issuer = given.need_pki("card.issuer").text_issuer
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
    return legacy.jpki_contents(given.need_persona("jpki"), given.keys, given.need_pki("jpki"), given.options)


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
    return legacy.text_contents(given.need_persona("text"), given.keys, given.need_pki("text"), given.options)


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
    persona, pki = given.need_persona("visual"), given.need_pki("visual")
    return legacy.visual_contents(persona, given.keys, pki, given.options)


@register("common", ["common.card_info"], pki=False)
def _common(given: BuildInput) -> Mapping[str, bytes]:
    """共通カードAP: the card information record."""
    return {"common.card_info": legacy.common_card_info(given.need_persona("common"))}
