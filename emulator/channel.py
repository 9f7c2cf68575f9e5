"""The per-logical-channel runtime state: current applet and EF, verified credentials, pending response."""

from __future__ import annotations

from dataclasses import dataclass, field

from mynacard.apdu.sm import PaceChip, ResidenceChip, ResidenceSm, SmSession
from mynacard.emulator.credentials import Credential
from mynacard.emulator.filesystem import Applet, AppletAlias, Node
from mynacard.emulator.security import SecurityState


@dataclass(slots=True)
class Chain:
    """The parts of a chained command so far (ISO 7816-4 §5.3.3): its header and the data joined."""

    header: tuple[int, int, int, int]
    """CLA without the chaining bit, INS, P1, P2: every part must repeat them."""
    data: bytes = b""


@dataclass(slots=True)
class Channel:
    """What ISO 7816-4 keeps per logical channel (セキュリティステータス and current files)."""

    applet: Applet | None = None
    alias: AppletAlias | None = None
    """The legacy alias the applet was selected by (its FIDs map to the applet's), if any."""
    ef: Node | None = None
    security: SecurityState = field(default_factory=SecurityState)
    pending: bytes = b""
    challenge: bytes = b""
    chain: Chain | None = None
    pace: PaceChip | None = None
    """A PACE run between MSE:Set AT and its fourth GENERAL AUTHENTICATE."""
    pace_credential: Credential | None = None
    """The credential whose password the PACE run uses."""
    sm: SmSession | ResidenceSm | None = None
    """The secure-messaging session PACE (or the residence card's MUTUAL AUTHENTICATE) established; every
    protected command is unwrapped with it."""
    residence_chip: ResidenceChip | None = None
    """The residence card's authentication between GET CHALLENGE and MUTUAL AUTHENTICATE."""

    def end_secure_messaging(self) -> None:
        """ISO 7816-4 §10: an SM error or a plain command ends the session and clears the security state."""
        if self.sm is not None:
            self.sm.close()
        self.sm = None
        self.pace = None
        self.pending = b""  # the rest of a protected answer never leaves in plain
        self.security.clear()

    @property
    def at_mf_level(self) -> bool:
        """True while no application is selected (after power-on, or with the card manager selected)."""
        return self.applet is None or self.applet.is_default
