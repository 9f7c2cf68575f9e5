"""ECDH generic mapping and the ephemeral key agreement of PACE (ICAO Doc 9303-11 §4.4.3.3.1).

Mapping: each side makes a key pair on the standard generator G and sends its public key; both compute the
point H = SK_map · PK_map(other) and the ephemeral generator Ĝ = s·G + H. Then each side makes an ephemeral
key pair on Ĝ and both compute the shared secret K = x(SK · PK(other)).

The mapping key pair (on G) and the shared secret come from ``cryptography``; H (a full point, where
``cryptography``'s ECDH gives only x), Ĝ and the public keys on Ĝ need ``ecdsa``'s point arithmetic.
A public key on Ĝ is still a point of the same curve group (cofactor 1), so ``cryptography``'s ECDH computes
K from it.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec

from mynacard.apdu.sm.curves import DomainParameters, Point
from mynacard.apdu.sm.errors import PaceDataError
from mynacard.apdu.sm.randomness import PaceRandom


@dataclass(frozen=True, slots=True, repr=False)
class KeyPair:
    """A private key and its public point; ``repr`` hides the private key."""

    private: int
    public: Point

    def __repr__(self) -> str:
        return "KeyPair(private masked)"


def mapping_key_pair(parameters: DomainParameters, random: PaceRandom) -> KeyPair:
    """A key pair on the standard generator G (its public key is the mapping data, tags 81/82)."""
    private = random.private_key(parameters.order)
    numbers = ec.derive_private_key(private, parameters.crypto_curve).public_key().public_numbers()
    return KeyPair(private, Point(numbers.x, numbers.y))


def map_generator(parameters: DomainParameters, nonce: bytes, mapping: KeyPair, other: Point) -> Point:
    """Ĝ = s·G + H with H = SK_map · PK_map(other) and s the nonce as an integer (§4.4.3.3.1)."""
    shared = parameters.multiply(mapping.private, other)
    return parameters.multiply_add(int.from_bytes(nonce, "big"), parameters.generator, shared)


def ephemeral_key_pair(parameters: DomainParameters, generator: Point, random: PaceRandom) -> KeyPair:
    """A key pair on the mapped generator Ĝ (its public key goes in tags 83/84)."""
    private = random.private_key(parameters.order)
    return KeyPair(private, parameters.multiply(private, generator))


def shared_secret(parameters: DomainParameters, own: KeyPair, other: Point) -> bytes:
    """K = x(SK · PK(other)), ``field_size`` bytes (§4.4); ``other`` must differ from our own key."""
    if other == own.public:
        raise PaceDataError("the other side's ephemeral public key equals ours (BSI TR-03110-3 forbids it)")
    curve = parameters.crypto_curve
    public = ec.EllipticCurvePublicNumbers(other.x, other.y, curve).public_key()
    return ec.derive_private_key(own.private, curve).exchange(ec.ECDH(), public)
