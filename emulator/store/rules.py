"""A profile's rule specs compiled into access rules (アクセス条件の組み立て).

Credential ids name credentials (or terminal keys) of the same applet, ``applet/credential`` one of
another (the residence card's DFs name the MF's card number). Verify-once (本人確認の一回化) is data: a
credential that ``satisfies`` another counts wherever the other is named, so ``"pin"`` compiles to
``pin OR sign_password`` when the signature password satisfies the PIN.
"""

from __future__ import annotations

from mynacard.emulator.security import (
    ALWAYS,
    NEVER,
    AccessRule,
    AllOf,
    AnyOf,
    CredentialRef,
    CredentialVerified,
    Rule,
)
from mynacard.profiles.schema import AppletSpec, RuleSpec


def compile_rule(applet: AppletSpec, spec: RuleSpec) -> AccessRule:
    """``spec`` as an access rule of ``applet``."""
    if isinstance(spec, str):
        return AccessRule(_compile(applet, spec))
    return AccessRule(_compile(applet, spec), spec.secure_messaging)


def _compile(applet: AppletSpec, spec: RuleSpec) -> Rule:
    if isinstance(spec, str):
        if spec == "always":
            return ALWAYS
        if spec == "never":
            return NEVER
        return _verified(applet, spec)
    if spec.credential is not None:
        return _verified(applet, spec.credential)
    if spec.any is not None:
        return AnyOf(tuple(_compile(applet, s) for s in spec.any))
    assert spec.all is not None
    return AllOf(tuple(_compile(applet, s) for s in spec.all))


def _verified(applet: AppletSpec, credential: str) -> Rule:
    """``credential`` verified, or any credential that satisfies it; ``applet/credential`` names one of
    another applet (the residence card's MF card number, which its DFs require)."""
    if "/" in credential:
        return CredentialVerified(CredentialRef.parse(credential))
    also = [c.id for c in applet.credentials if credential in c.satisfies]
    rule = CredentialVerified(CredentialRef(applet.id, credential))
    if not also:
        return rule
    return AnyOf((rule, *(CredentialVerified(CredentialRef(applet.id, other)) for other in also)))
