"""Compile a profile's rule specs into access rules (credential ids become ``applet/id`` keys)."""

from __future__ import annotations

from mynacard.emulator.security import ALWAYS, NEVER, AccessRule, AllOf, AnyOf, CredentialVerified, Rule
from mynacard.profiles.schema import RuleSpec


def compile_rule(applet_id: str, spec: RuleSpec) -> AccessRule:
    if isinstance(spec, str):
        return AccessRule(_compile(applet_id, spec))
    return AccessRule(_compile(applet_id, spec), spec.secure_messaging)


def _compile(applet_id: str, spec: RuleSpec) -> Rule:
    if isinstance(spec, str):
        if spec == "always":
            return ALWAYS
        if spec == "never":
            return NEVER
        return CredentialVerified(f"{applet_id}/{spec}")
    if spec.credential is not None:
        return CredentialVerified(f"{applet_id}/{spec.credential}")
    if spec.any is not None:
        return AnyOf(tuple(_compile(applet_id, s) for s in spec.any))
    assert spec.all is not None
    return AllOf(tuple(_compile(applet_id, s) for s in spec.all))
