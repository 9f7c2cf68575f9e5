"""The registry of content builders (内容の生成): who makes the bytes of each content source a profile names.

A profile's EF says ``content = { source = "jpki.auth_certificate" }``. Each builder declares the source
names it provides, the card keys it needs and whether it needs the persona and the TEST PKI. Loading a
profile checks every source against this registry (``known_sources``); personalisation runs only the
builders whose sources the profile uses, so a card never pays for a record it does not store. The
builders register themselves in one module per card family (``builders.legacy``, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, replace

from mynacard.emulator.filesystem import PrivateKey
from mynacard.emulator.issuance.personas import Persona
from mynacard.emulator.issuance.pki import KeyType, TestPki, generate_key
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

    def need_pki(self, builder: str, generation: str | None = None) -> TestPki:
        """The TEST PKI; with ``generation``, refused unless it is that card's hierarchy (a legacy-2016
        RSA PKI cannot sign the next card's records, nor a nextgen-2026 P-384 one today's)."""
        if self.pki is None:
            raise BuildError(f"content builder {builder!r} needs the TEST PKI")
        if generation is not None and self.pki.generation != generation:
            raise BuildError(
                f"content builder {builder!r} needs a {generation} TEST PKI, not {self.pki.generation} "
                f'(the profile\'s [personalisation] pki = "{generation}")'
            )
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
