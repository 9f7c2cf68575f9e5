"""A channel's security state and the access rules decided against it (セキュリティステータス, アクセス条件).

A rule is ``always``, ``never``, a credential reference, or AND/OR of rules, optionally requiring
secure messaging. ``check_access`` is the only place where a handler's operation meets the security
state of the channel.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mynacard.apdu.status import SW
from mynacard.emulator.errors import CardError


@dataclass(frozen=True, slots=True, order=True)
class CredentialRef:
    """Which credential: its applet and its id in that applet (``jpki`` / ``auth_pin``).

    ``str()`` gives ``applet/credential``, the key of the credential's state in ``security.json``.
    """

    applet: str
    credential: str

    def __str__(self) -> str:
        return f"{self.applet}/{self.credential}"

    @classmethod
    def parse(cls, text: str) -> CredentialRef:
        applet, sep, credential = text.partition("/")
        if not sep or not applet or not credential:
            raise ValueError(f"{text!r} is not 'applet/credential'")
        return cls(applet, credential)


@dataclass(slots=True)
class SecurityState:
    """What one logical channel has proven: verified credentials, and whether secure messaging is on."""

    verified: set[CredentialRef] = field(default_factory=set)
    secure_messaging: bool = False

    def has_verified(self, credential: CredentialRef) -> bool:
        return credential in self.verified

    def grant(self, credential: CredentialRef) -> None:
        """A successful VERIFY (or authentication) of ``credential``."""
        self.verified.add(credential)

    def revoke(self, credential: CredentialRef) -> None:
        """A failed VERIFY of ``credential`` clears what it had proven."""
        self.verified.discard(credential)

    def forget_applet(self, applet_id: str) -> None:
        """Selecting an applet that clears its security: its credentials are no longer verified."""
        self.verified = {c for c in self.verified if c.applet != applet_id}

    def clear(self) -> None:
        self.verified.clear()
        self.secure_messaging = False


@dataclass(frozen=True, slots=True)
class Always:
    def allows(self, state: SecurityState) -> bool:
        return True

    def describe(self) -> str:
        return "always"


@dataclass(frozen=True, slots=True)
class Never:
    def allows(self, state: SecurityState) -> bool:
        return False

    def describe(self) -> str:
        return "never"


@dataclass(frozen=True, slots=True)
class CredentialVerified:
    """Satisfied once ``credential`` was verified on the channel."""

    credential: CredentialRef

    def allows(self, state: SecurityState) -> bool:
        return state.has_verified(self.credential)

    def describe(self) -> str:
        return str(self.credential)


@dataclass(frozen=True, slots=True)
class AllOf:
    rules: tuple[Rule, ...]

    def allows(self, state: SecurityState) -> bool:
        return all(r.allows(state) for r in self.rules)

    def describe(self) -> str:
        return "(" + " AND ".join(r.describe() for r in self.rules) + ")"


@dataclass(frozen=True, slots=True)
class AnyOf:
    rules: tuple[Rule, ...]

    def allows(self, state: SecurityState) -> bool:
        return any(r.allows(state) for r in self.rules)

    def describe(self) -> str:
        return "(" + " OR ".join(r.describe() for r in self.rules) + ")"


Rule = Always | Never | CredentialVerified | AllOf | AnyOf

ALWAYS = Always()
NEVER = Never()


@dataclass(frozen=True, slots=True)
class AccessRule:
    """A rule plus whether the operation must arrive under secure messaging."""

    rule: Rule
    secure_messaging: bool = False

    def describe(self) -> str:
        return self.rule.describe() + (" + SM" if self.secure_messaging else "")


OPEN = AccessRule(ALWAYS)
CLOSED = AccessRule(NEVER)


def check_access(access: AccessRule, state: SecurityState) -> None:
    """Raise ``69 82`` unless the channel's security state satisfies ``access`` (``69 87`` without SM)."""
    if access.secure_messaging and not state.secure_messaging:
        raise CardError(SW.SM_DATA_OBJECTS_MISSING, "operation requires secure messaging")
    if not access.rule.allows(state):
        raise CardError(SW.SECURITY_STATUS_NOT_SATISFIED, f"needs {access.describe()}")
