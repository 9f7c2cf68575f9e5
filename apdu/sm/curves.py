"""Standardized elliptic-curve domain parameters of PACE and their points (ICAO Doc 9303-11 §9.5.1).

Parameter ids (ICAO Doc 9303-11 §9.5.1, BSI TR-03110-3): 12 NIST P-256, 13 brainpoolP256r1, 15 NIST P-384,
16 brainpoolP384r1. Every curve here has cofactor 1, so a point that satisfies the curve equation and is not
the point at infinity lies in the prime-order group: ``decode_point`` checks exactly that (BSI TR-03110-3
requires it of every received public key). Point arithmetic is the ``ecdsa`` package's; this module only
converts between its points and the uncompressed encoding ``04 ‖ x ‖ y`` (SEC 1 §2.3.3).
"""

from __future__ import annotations

from dataclasses import dataclass

import ecdsa
from cryptography.hazmat.primitives.asymmetric import ec
from ecdsa.ellipticcurve import INFINITY, PointJacobi

from mynacard.apdu.sm.errors import PaceDataError


@dataclass(frozen=True, slots=True)
class Point:
    """An affine point (never the point at infinity) of the curve of ``parameters``."""

    x: int
    y: int


@dataclass(frozen=True, slots=True, eq=False)
class DomainParameters:
    """A standardized curve: id, name, the ``ecdsa`` curve (arithmetic) and ``cryptography``'s (ECDH)."""

    parameter_id: int
    name: str
    _curve: ecdsa.curves.Curve
    crypto_curve: ec.EllipticCurve

    @property
    def field_size(self) -> int:
        """Bytes of a coordinate (and of the shared secret K)."""
        return int(self._curve.baselen)

    @property
    def order(self) -> int:
        """n, the order of the base point."""
        return int(self._curve.order)

    @property
    def generator(self) -> Point:
        g = self._curve.generator
        return Point(int(g.x()), int(g.y()))

    def encode_point(self, point: Point) -> bytes:
        """``04 ‖ x ‖ y``, each coordinate on ``field_size`` bytes."""
        size = self.field_size
        return b"\x04" + point.x.to_bytes(size, "big") + point.y.to_bytes(size, "big")

    def decode_point(self, data: bytes) -> Point:
        """A received uncompressed point, checked: right length, coordinates below p, on the curve."""
        size = self.field_size
        if len(data) != 1 + 2 * size or data[0] != 0x04:
            raise PaceDataError(f"an uncompressed {self.name} point is 04 and {2 * size} bytes")
        x, y = int.from_bytes(data[1 : 1 + size], "big"), int.from_bytes(data[1 + size :], "big")
        p = int(self._curve.curve.p())
        if x >= p or y >= p or not self._curve.curve.contains_point(x, y):
            raise PaceDataError(f"the point is not on {self.name}")
        return Point(x, y)

    def _jacobi(self, point: Point) -> PointJacobi:
        return PointJacobi(self._curve.curve, point.x, point.y, 1, self._curve.order)

    def _affine(self, point: PointJacobi) -> Point:
        if point == INFINITY:
            raise PaceDataError("the result is the point at infinity")
        return Point(int(point.x()), int(point.y()))

    def multiply(self, k: int, point: Point) -> Point:
        """k·P."""
        return self._affine(self._jacobi(point) * k)

    def multiply_add(self, k: int, point: Point, other: Point) -> Point:
        """k·P + Q (the generic mapping's Ĝ = s·G + H)."""
        return self._affine(self._jacobi(point) * k + self._jacobi(other))

    def __repr__(self) -> str:
        return f"DomainParameters({self.parameter_id}: {self.name})"


NIST_P256 = DomainParameters(12, "NIST P-256", ecdsa.NIST256p, ec.SECP256R1())
BRAINPOOL_P256R1 = DomainParameters(13, "brainpoolP256r1", ecdsa.BRAINPOOLP256r1, ec.BrainpoolP256R1())
NIST_P384 = DomainParameters(15, "NIST P-384", ecdsa.NIST384p, ec.SECP384R1())
BRAINPOOL_P384R1 = DomainParameters(16, "brainpoolP384r1", ecdsa.BRAINPOOLP384r1, ec.BrainpoolP384R1())

STANDARDIZED_DOMAIN_PARAMETERS: dict[int, DomainParameters] = {
    d.parameter_id: d for d in (NIST_P256, BRAINPOOL_P256R1, NIST_P384, BRAINPOOL_P384R1)
}


def domain_parameters(parameter_id: int) -> DomainParameters:
    """The curve of a standardized parameter id; ``PaceDataError`` (``6A 80``) for one not supported."""
    try:
        return STANDARDIZED_DOMAIN_PARAMETERS[parameter_id]
    except KeyError:
        raise PaceDataError(f"standardized domain parameters {parameter_id} are not supported") from None
