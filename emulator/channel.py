"""The per-logical-channel runtime state: current applet and EF, verified credentials, pending response."""

from __future__ import annotations

from dataclasses import dataclass, field

from mynacard.emulator.filesystem import Applet, AppletAlias, Node
from mynacard.emulator.security import SecurityState


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

    @property
    def at_mf_level(self) -> bool:
        """True while no application is selected (after power-on, or with the card manager selected)."""
        return self.applet is None or self.applet.is_default
