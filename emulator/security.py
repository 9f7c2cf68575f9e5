"""Access rules as data and the one function that decides them (アクセス条件).

A rule is ``always``, ``never``, a credential reference, or AND/OR of rules, optionally requiring
secure messaging. ``check_access`` is the only place where a handler's operation meets the security
state of the channel.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass

from mynacard.apdu.status import SW
from mynacard.emulator.errors import CardError


@dataclass(frozen=True, slots=True)
class Always:
    def allows(self, verified: Set[str]) -> bool:
        return True

    def describe(self) -> str:
        return "always"


@dataclass(frozen=True, slots=True)
class Never:
    def allows(self, verified: Set[str]) -> bool:
        return False

    def describe(self) -> str:
        return "never"


@dataclass(frozen=True, slots=True)
class CredentialVerified:
    """Satisfied once the credential ``key`` (``applet/credential-id``) was verified on the channel."""

    key: str

    def allows(self, verified: Set[str]) -> bool:
        return self.key in verified

    def describe(self) -> str:
        return self.key


@dataclass(frozen=True, slots=True)
class AllOf:
    rules: tuple[Rule, ...]

    def allows(self, verified: Set[str]) -> bool:
        return all(r.allows(verified) for r in self.rules)

    def describe(self) -> str:
        return "(" + " AND ".join(r.describe() for r in self.rules) + ")"


@dataclass(frozen=True, slots=True)
class AnyOf:
    rules: tuple[Rule, ...]

    def allows(self, verified: Set[str]) -> bool:
        return any(r.allows(verified) for r in self.rules)

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


def check_access(access: AccessRule, verified: Set[str], secure_messaging: bool) -> None:
    """Raise ``69 82`` unless the channel's security state satisfies ``access`` (or ``69 88`` for SM)."""
    if access.secure_messaging and not secure_messaging:
        raise CardError(SW.SM_DATA_OBJECTS_MISSING, "operation requires secure messaging")
    if not access.rule.allows(verified):
        raise CardError(SW.SECURITY_STATUS_NOT_SATISFIED, f"needs {access.describe()}")
