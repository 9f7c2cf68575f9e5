"""The timing model's profile section ``[timing]`` (応答時間モデル): how slow the emulated card answers.

An emulator that answers at once never exercises a reader's time-outs, WTX or UI latency. With
``enabled = true`` every answer is held back until the time a real card would need has passed: the bytes
both ways at ``bit_rate`` (``bits_per_byte`` bits each), a fixed ``apdu_overhead_ms`` per exchange, and an
operation's own time for the commands named in ``operation_ms`` when they succeed. The defaults are the
figures of reference/anchors.md ("Real-card operation times", "Wire-time budgets"): ISO/IEC 14443's base
rate of 106 kbit/s at about 10 etu per byte (Type B), "several ms per APDU" of fixed cost (ASSUMED: 5 ms),
and an RSA-2048 signature of 60.7 ms (NXP JCOP4 in JCAlgTest; no My Number card's time is published).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Operation = Literal["compute_digital_signature", "internal_authenticate", "general_authenticate", "verify"]

OPERATION_INS: dict[Operation, int] = {
    "compute_digital_signature": 0x2A,  # PSO: COMPUTE DIGITAL SIGNATURE (80 2A / 00 2A)
    "internal_authenticate": 0x88,
    "general_authenticate": 0x86,  # PACE steps
    "verify": 0x20,
}
"""The instruction byte each named operation is recognised by."""


class TimingSpec(BaseModel):
    """``[timing]``: off by default, so suites run at full speed; ``emulate --timing`` turns it on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = False
    bit_rate: int = Field(default=106_000, ge=1_000, description="bit/s on the link (ISO 14443: 106k)")
    bits_per_byte: float = Field(default=10.0, ge=8, le=16, description="etu per byte (Type B ≈ 10–11)")
    apdu_overhead_ms: float = Field(default=5.0, ge=0, description="fixed cost per exchange (ASSUMED)")
    operation_ms: dict[Operation, float] = Field(
        default={"compute_digital_signature": 60.7, "internal_authenticate": 60.7},
        description="an operation's own time when it succeeds (RSA-2048 sign on JCOP4: 60.7 ms)",
    )
