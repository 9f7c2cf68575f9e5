"""The seed corpus: valid APDU sequences for every INS a profile knows, generated, never hand-copied.

Applets, files, credentials, keys, data objects and status commands come from the profile
(``mynacard.profiles.schema``); credential values from the persona; further AIDs and FIDs from the host-side
constants of ``mynacard.apdu.applets`` (including other card generations', which this card answers with
``6A 82``). Each command appears in the forms hosts send: short and extended Le and Lc, by FID and by SFI,
with and without response data, right and wrong values, and the empty VERIFY.

A seed whose last answer follows from the profile alone carries it (``expect``): the CI test checks those,
so a corpus that drifted away from the card (a renamed credential, a changed AID) fails loudly.
"""

from __future__ import annotations

import hashlib
import importlib
import pkgutil
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import mynacard.apdu.applets
from mynacard.apdu.command import CommandApdu
from mynacard.apdu.digestinfo import sha256_digest_info
from mynacard.apdu.sm import MseSetAt, PasswordReference, protocol_by_name
from mynacard.apdu.status import SW, counter_sw
from mynacard.emulator.issuance.personas import Persona, load_persona
from mynacard.profiles.schema import (
    AppletSpec,
    CredentialSpec,
    FileSpec,
    FormatSpec,
    KeySpec,
    Profile,
    RuleSpec,
    parse_profile,
    profile_text,
    resolve_sfi,
    rule_credentials,
)

from .harness import DEFAULT_PERSONA, DEFAULT_PROFILE, Event, Step, encode

OK = int(SW.OK)
MANAGE_CHANNEL = 0x70
"""MANAGE CHANNEL: in the corpus for every profile (a card with one channel answers ``6D 00``)."""
MESSAGE = b"mynacard fuzz seed"
TOO_SHORT = b"\x00\xa4\x04"
"""Fewer bytes than a header: ``67 00``."""


@dataclass(frozen=True, slots=True)
class Seed:
    name: str
    steps: list[Step]
    expect: int | None = None
    """The status word of the last step, where the profile alone decides it."""

    def encode(self) -> bytes:
        return encode(self.steps)


def apdu(
    cla: int, ins: int, p1: int, p2: int, data: bytes = b"", ne: int = 0, *, extended: bool = False
) -> bytes:
    return CommandApdu(cla, ins, p1, p2, data, ne, extended=extended or None).to_bytes()


def select_aid(aid: bytes, p2: int = 0x0C, *, extended: bool = False) -> bytes:
    """SELECT by DF name: P2 = 0C no data, 00 FCI, 04 FCP (with Le), 02 next occurrence."""
    ne = 0 if p2 & 0x0C == 0x0C else (65536 if extended else 256)
    return apdu(0x00, 0xA4, 0x04, p2, aid, ne, extended=extended)


def select_fid(fid: int, p2: int = 0x0C) -> bytes:
    ne = 0 if p2 == 0x0C else 256
    return apdu(0x00, 0xA4, 0x02, p2, fid.to_bytes(2, "big"), ne)


@dataclass
class _Corpus:
    profile: Profile
    persona: Persona | None
    seeds: list[Seed] = field(default_factory=list)

    def add(self, name: str, steps: list[Step], expect: int | None = None) -> None:
        entered = [i for i, step in enumerate(steps) if self.enters_sm_only_applet(step)]
        if entered and expect is not None and entered[-1] < len(steps) - 1:
            expect = int(SW.SECURITY_STATUS_NOT_SATISFIED)  # a plain command in an SM-only applet
        self.seeds.append(Seed(name, steps, expect))

    def enters_sm_only_applet(self, step: Step) -> bool:
        return isinstance(step, bytes) and any(
            a.requires_secure_messaging and step[:4] == b"\x00\xa4\x04\x0c" and step[5:] == a.aid
            for a in self.profile.applets
        )

    # --- values ------------------------------------------------------------------------------------------

    def value(self, credential: CredentialSpec) -> bytes | None:
        """The personalised value, None when it is not set (or blocked: no value opens it)."""
        spec = credential.value
        if spec.unset or credential.initial_state == "blocked":
            return None
        if spec.text is not None:
            return spec.text.encode("ascii")
        value = getattr(self.persona, spec.persona or "", None)
        return value.encode("ascii") if isinstance(value, str) else None

    def verifications(self, applet: AppletSpec, rule: RuleSpec | None) -> list[Step]:
        """SELECT and VERIFY of every credential the rule names that has a value (for ``any``, all)."""
        steps: list[Step] = []
        credentials = {c.id: c for c in applet.credentials}
        for credential_id in sorted(rule_credentials(rule) if rule is not None else set()):
            credential = credentials.get(credential_id)
            value = self.value(credential) if credential is not None else None
            if credential is not None and value is not None:
                steps += [select_fid(credential.fid), verify(value)]
        return steps

    # --- the corpus ------------------------------------------------------------------------------------

    def build(self) -> list[Seed]:
        self.selections()
        for applet in self.profile.applets:
            for spec in applet.files:
                self.file(applet, spec)
            for credential in applet.credentials:
                self.credential(applet, credential)
            for key in applet.keys:
                self.key(applet, key)
            self.terminal_keys(applet)
            self.aliases(applet)
        self.pace()
        self.residence()
        self.security_domains()
        self.chaining()
        self.data_objects()
        self.status_commands()
        self.responses_and_channels()
        self.resets()
        self.malformed()
        return self.seeds

    def selections(self) -> None:
        aids = [a.aid for a in self.profile.applets] + sorted(
            set(host_aids()) - {a.aid for a in self.profile.applets}
        )
        for aid in aids:
            hexed = aid.hex().upper()
            aliases = (
                [x.aid for a in self.profile.applets for x in a.aliases]
                if self.profile.behaviour.legacy_aliases
                else []
            )
            known = any(a.aid == aid for a in self.profile.applets) or aid in aliases
            self.add(f"select-{hexed}", [select_aid(aid)], OK if known else int(SW.FILE_NOT_FOUND))
            self.add(f"select-fci-{hexed}", [select_aid(aid, 0x00)], OK if known else None)
            self.add(f"select-fcp-{hexed}", [select_aid(aid, 0x04)])
            self.add(f"select-fci-extended-{hexed}", [select_aid(aid, 0x00, extended=True)])
            self.add(f"select-partial-next-{hexed}", [select_aid(aid[:5]), select_aid(aid[:5], 0x0E)])
        self.add("select-mf", [apdu(0x00, 0xA4, 0x00, 0x00, b"\x3f\x00", 256)])
        self.add(
            "select-p1-00-nodata", [select_aid(self.profile.applets[-1].aid), apdu(0x00, 0xA4, 0x00, 0x0C)]
        )
        # Every host-side FID in every applet: most answer 6A 82, which is a path too.
        fids = sorted(host_fids())
        for applet in self.profile.applets:
            steps: list[Step] = [select_aid(applet.aid)]
            steps += [select_fid(fid) for fid in fids[: MAX_SWEEP - 1]]
            self.add(f"sweep-{applet.id}", steps)

    def file(self, applet: AppletSpec, spec: FileSpec) -> None:
        name = f"{applet.id}-{spec.fid:04X}"
        opened = [select_aid(applet.aid), *self.verifications(applet, spec.read)]
        sfi = resolve_sfi(spec.sfi, spec.fid)
        self.add(f"{name}-select-fcp", [select_aid(applet.aid), select_fid(spec.fid, 0x04)])
        self.add(
            f"{name}-select-p1-00",
            [select_aid(applet.aid), apdu(0x00, 0xA4, 0x00, 0x00, spec.fid.to_bytes(2, "big"), 256)],
        )
        if spec.kind == "record":
            read = [apdu(0x00, 0xB2, 0x01, 0x04, ne=256)]
            expect = OK if self.readable(applet, spec.read) else None
            self.add(f"{name}-read-record", [*opened, select_fid(spec.fid), *read], expect)
            if sfi is not None:
                self.add(
                    f"{name}-read-record-sfi",
                    [*opened, apdu(0x00, 0xB2, 0x01, sfi << 3 | 0x04, ne=256)],
                    expect,
                )
                self.add(
                    f"{name}-read-records-sfi", [*opened, apdu(0x00, 0xB2, 0x01, sfi << 3 | 0x05, ne=256)]
                )
            self.add(
                f"{name}-read-record-2", [*opened, select_fid(spec.fid), apdu(0x00, 0xB2, 0x02, 0x04, ne=256)]
            )
            self.add(
                f"{name}-read-binary", [*opened, select_fid(spec.fid), apdu(0x00, 0xB0, 0x00, 0x00, ne=256)]
            )
            return
        if spec.kind == "internal":
            self.add(
                f"{name}-read",
                [select_aid(applet.aid), select_fid(spec.fid), apdu(0x00, 0xB0, 0x00, 0x00, ne=256)],
                int(SW.COMMAND_INCOMPATIBLE_WITH_FILE),
            )
            return
        expect = OK if self.readable(applet, spec.read) else None
        selected = [*opened, select_fid(spec.fid)]
        self.add(f"{name}-read", [*selected, apdu(0x00, 0xB0, 0x00, 0x00, ne=256)], expect)
        self.add(f"{name}-read-header", [*selected, apdu(0x00, 0xB0, 0x00, 0x00, ne=4)], expect)
        self.add(f"{name}-read-offset", [*selected, apdu(0x00, 0xB0, 0x01, 0x00, ne=256)])
        self.add(
            f"{name}-read-extended",
            [*selected, apdu(0x00, 0xB0, 0x00, 0x00, ne=65536, extended=True)],
            expect,
        )
        self.add(f"{name}-read-record", [*selected, apdu(0x00, 0xB2, 0x01, 0x04, ne=256)])
        if sfi is not None:
            self.add(f"{name}-read-sfi", [*opened, apdu(0x00, 0xB0, 0x80 | sfi, 0x00, ne=256)], expect)
            self.add(
                f"{name}-read-sfi-extended",
                [*opened, apdu(0x00, 0xB0, 0x80 | sfi, 0x00, ne=65536, extended=True)],
            )
        if rule_credentials(spec.read):
            self.add(
                f"{name}-read-unverified",
                [select_aid(applet.aid), select_fid(spec.fid), apdu(0x00, 0xB0, 0x00, 0x00, ne=256)],
                int(SW.SECURITY_STATUS_NOT_SATISFIED),
            )

    def readable(self, applet: AppletSpec, rule: RuleSpec) -> bool:
        """Whether verifying every credential the rule names with a value opens it (never: no)."""
        if rule == "never":
            return False
        credentials = {c.id: c for c in applet.credentials}
        needed = rule_credentials(rule)
        return all(c in credentials and self.value(credentials[c]) is not None for c in needed) and not (
            {t.id for t in applet.terminal_keys} & needed
        )

    def credential(self, applet: AppletSpec, credential: CredentialSpec) -> None:
        residence = self.profile.residence
        if residence is not None and residence.credential == f"{applet.id}/{credential.id}":
            return  # the card number is verified under SM only: residence()
        name = f"{applet.id}-{credential.id}"
        value = self.value(credential)
        sfi = resolve_sfi(credential.sfi, credential.fid)
        selected: list[Step] = [select_aid(applet.aid), select_fid(credential.fid)]
        full = (
            counter_sw(credential.max_tries) if credential.max_tries is not None else int(SW.NO_RETRY_LIMIT)
        )
        self.add(
            f"{name}-verify-empty",
            [*selected, apdu(0x00, 0x20, 0x00, 0x80)],
            full if value is not None else None,
        )
        if sfi is not None:
            self.add(f"{name}-verify-empty-sfi", [select_aid(applet.aid), apdu(0x00, 0x20, 0x00, 0x80 | sfi)])
        fmt = credential.format
        if value is None:
            self.add(f"{name}-verify-blocked", [*selected, verify(other_value(fmt, b""))])
            new = other_value(fmt, b"")
            rule = [*self.verifications(applet, credential.change), *selected]
            self.add(f"{name}-set", [select_aid(applet.aid), *rule, apdu(0x00, 0x24, 0x01, 0x80, new)])
            return
        wrong = other_value(fmt, value)
        new = other_value(fmt, wrong)
        self.add(f"{name}-verify", [*selected, verify(value)], OK)
        if sfi is not None:
            self.add(
                f"{name}-verify-sfi", [select_aid(applet.aid), apdu(0x00, 0x20, 0x00, 0x80 | sfi, value)], OK
            )
        wrong_sw = counter_sw(credential.max_tries - 1) if credential.max_tries is not None else None
        self.add(f"{name}-verify-wrong", [*selected, verify(wrong)], wrong_sw)
        self.add(f"{name}-verify-then-empty", [*selected, verify(value), apdu(0x00, 0x20, 0x00, 0x80)])
        self.add(f"{name}-verify-wrong-format", [*selected, verify(value.lower() + b"!")])
        if credential.max_tries is not None:
            block = [verify(wrong)] * credential.max_tries
            self.add(f"{name}-block", [*selected, *block, verify(value)], int(SW.REFERENCE_DATA_NOT_USABLE))
        self.add(
            f"{name}-change-old-new", [*selected, apdu(0x00, 0x24, 0x00, 0x80, value + new), verify(new)]
        )
        self.add(
            f"{name}-change-new", [*selected, verify(value), apdu(0x00, 0x24, 0x01, 0x80, new), verify(new)]
        )
        self.add(
            f"{name}-change-key", [*selected, verify(value), apdu(0x80, 0x32, 0x00, 0x80, new), verify(new)]
        )
        self.add(f"{name}-change-key-unverified", [*selected, apdu(0x80, 0x32, 0x00, 0x80, new)])
        if credential.reset_by is not None:
            self.reset_retry_counter(applet, credential, wrong, new)

    def reset_retry_counter(
        self, applet: AppletSpec, target: CredentialSpec, wrong: bytes, new: bytes
    ) -> None:
        puk = next((c for c in applet.credentials if c.id == target.reset_by), None)
        if puk is None:
            return
        puk_value = self.value(puk)
        steps: list[Step] = [select_aid(applet.aid)]
        if puk_value is None:  # a PUK the holder sets first, under its change rule
            puk_value = other_value(puk.format, b"")
            steps += [
                *self.verifications(applet, puk.change),
                select_fid(puk.fid),
                apdu(0x00, 0x24, 0x01, 0x80, puk_value),
            ]
        steps += [select_fid(target.fid), *[verify(wrong)] * (target.max_tries or 1)]
        name = f"{applet.id}-{target.id}-reset"
        self.add(f"{name}-counter", [*steps, apdu(0x00, 0x2C, 0x01, 0x80, puk_value)])
        self.add(f"{name}-new-value", [*steps, apdu(0x00, 0x2C, 0x00, 0x80, puk_value + new), verify(new)])
        self.add(
            f"{name}-wrong-puk", [*steps, apdu(0x00, 0x2C, 0x01, 0x80, other_value(puk.format, puk_value))]
        )

    def key(self, applet: AppletSpec, key: KeySpec) -> None:
        name = f"{applet.id}-{key.id}"
        opened = [select_aid(applet.aid), *self.verifications(applet, key.sign)]
        sfi = resolve_sfi(key.sfi, key.fid)
        if key.sign is not None:
            for scheme in key.sign_schemes:
                data = to_be_signed(key, scheme)
                expect = OK if self.readable(applet, key.sign) and key.algorithm == "rsa-2048" else None
                sign = apdu(0x80, 0x2A, scheme, 0x80, data, 256)
                self.add(f"{name}-sign-{scheme:02X}", [*opened, select_fid(key.fid), sign], expect)
            data = to_be_signed(key, key.sign_schemes[0])
            scheme = key.sign_schemes[0]
            self.add(
                f"{name}-sign-extended",
                [*opened, select_fid(key.fid), apdu(0x80, 0x2A, scheme, 0x80, data, 65536, extended=True)],
            )
            self.add(
                f"{name}-sign-get-response",
                [
                    *opened,
                    select_fid(key.fid),
                    apdu(0x80, 0x2A, scheme, 0x80, data),
                    apdu(0x00, 0xC0, 0x00, 0x00, ne=16),
                    apdu(0x00, 0xC0, 0x00, 0x00, ne=256),
                ],
            )
            if sfi is not None:
                self.add(f"{name}-sign-sfi", [*opened, apdu(0x80, 0x2A, scheme, 0x80 | sfi, data, 256)])
            if key.default:
                self.add(f"{name}-sign-default", [*opened, apdu(0x80, 0x2A, scheme, 0x00, data, 256)])
            if rule_credentials(key.sign):
                self.add(
                    f"{name}-sign-unverified",
                    [select_aid(applet.aid), select_fid(key.fid), apdu(0x80, 0x2A, scheme, 0x80, data, 256)],
                    int(SW.SECURITY_STATUS_NOT_SATISFIED),
                )
            self.add(
                f"{name}-sign-interindustry",
                [*opened, select_fid(key.fid), apdu(0x00, 0x2A, 0x9E, 0x9A, data, 256)],
            )
            self.add(
                f"{name}-sign-nothing", [*opened, select_fid(key.fid), apdu(0x80, 0x2A, scheme, 0x80, ne=256)]
            )
        else:
            refused = apdu(0x80, 0x2A, 0x00, 0x80, sha256_digest_info(MESSAGE), 256)
            expect = int(SW.CONDITIONS_OF_USE_NOT_SATISFIED)
            self.add(f"{name}-sign-refused", [select_aid(applet.aid), select_fid(key.fid), refused], expect)
        challenge = bytes(range(max(key.challenge_length.min, min(8, key.challenge_length.max))))
        authenticate = [
            select_aid(applet.aid),
            *self.verifications(applet, key.internal_authenticate),
            select_fid(key.fid),
        ]
        expect = OK if key.internal_authenticate == "always" else None
        self.add(
            f"{name}-internal-authenticate",
            [*authenticate, apdu(0x00, 0x88, 0x00, 0x80, challenge, 256)],
            expect,
        )
        self.add(
            f"{name}-internal-authenticate-extended",
            [*authenticate, apdu(0x00, 0x88, 0x00, 0x80, challenge, 65536, extended=True)],
        )
        if sfi is not None:
            self.add(
                f"{name}-internal-authenticate-sfi",
                [select_aid(applet.aid), apdu(0x00, 0x88, 0x00, 0x80 | sfi, challenge, 256)],
            )
        self.add(f"{name}-get-challenge", [select_aid(applet.aid), apdu(0x00, 0x84, 0x00, 0x00, ne=8)], OK)
        self.add(
            f"{name}-get-challenge-extended",
            [select_aid(applet.aid), apdu(0x00, 0x84, 0x00, 0x00, ne=8, extended=True)],
        )

    def terminal_keys(self, applet: AppletSpec) -> None:
        for terminal in applet.terminal_keys:
            name = f"{applet.id}-{terminal.id}"
            signature = bytes(96)
            authenticate = apdu(0x00, 0x82, 0x00, terminal.reference, signature)
            self.add(
                f"{name}-external-authenticate",
                [select_aid(applet.aid), apdu(0x00, 0x84, 0x00, 0x00, ne=48), authenticate],
            )
            self.add(f"{name}-external-authenticate-no-challenge", [select_aid(applet.aid), authenticate])

    def pace(self) -> None:
        """MSE:Set AT for each password, the first PACE steps, and protected commands with bad objects:
        the nonce is the card's own, so a whole run cannot be a fixed seed."""
        if self.profile.pace is None:
            return
        protocol = self.profile.pace.protocols[0]
        oid = MseSetAt(protocol_by_name(protocol.protocol), PasswordReference.CAN).to_data()[:12]
        for applet in self.profile.applets:
            for credential in applet.credentials:
                if credential.pace_reference is None:
                    continue
                mse = apdu(0x00, 0x22, 0xC1, 0xA4, oid + bytes((0x83, 1, credential.pace_reference)))
                step1 = apdu(0x10, 0x86, 0x00, 0x00, bytes.fromhex("7C 00"), ne=256)
                step2 = apdu(0x10, 0x86, 0x00, 0x00, bytes.fromhex("7C 03 81 01 04"), ne=256)
                self.add(f"pace-{applet.id}-{credential.id}", [select_aid(applet.aid), mse, step1, step2])
        protected = bytes.fromhex("97 01 00 8E 08") + bytes(8)
        self.add("sm-without-session", [apdu(0x0C, 0xB0, 0x00, 0x00, protected, ne=256)])

    def residence(self) -> None:
        """The residence card: GET CHALLENGE, a MUTUAL AUTHENTICATE that cannot verify (the challenge is
        the card's own), protected commands without a session, and the ISO key commands it lacks."""
        spec = self.profile.residence
        if spec is None:
            return
        if spec.access == "session_key_delivery":
            self.specified_residence(spec.applets)
            return
        challenge = apdu(0x00, 0x84, 0x00, 0x00, ne=8)
        self.add("residence-get-challenge", [challenge], OK)
        authenticate = apdu(0x00, 0x82, 0x00, 0x00, bytes(40), ne=256)
        self.add("residence-mutual-authenticate", [challenge, authenticate], int(SW.NO_RETRY_LIMIT))
        self.add("residence-mutual-authenticate-short", [challenge, apdu(0x00, 0x82, 0x00, 0x00, bytes(32))])
        self.add("residence-mutual-authenticate-alone", [authenticate])
        verify_sm = apdu(0x08, 0x20, 0x00, 0x86, bytes.fromhex("86 11 01") + bytes(16))
        self.add("residence-verify-without-session", [verify_sm], int(SW.SM_DATA_OBJECTS_INCORRECT))
        read_sm = apdu(0x08, 0xB0, 0x81, 0x00, bytes.fromhex("96 02 00 00"), ne=65536)
        self.add("residence-sm-read-without-session", [read_sm], int(SW.SM_DATA_OBJECTS_INCORRECT))
        self.add("residence-plain-verify", [apdu(0x00, 0x20, 0x00, 0x86, b"AA12345678BB")])
        self.add("residence-internal-authenticate", [apdu(0x00, 0x88, 0x00, 0x00, bytes(8), ne=256)])
        self.add("residence-compute-signature", [apdu(0x80, 0x2A, 0x00, 0x80, bytes(32), ne=256)])
        self.add("residence-change-reference-data", [apdu(0x00, 0x24, 0x01, 0x86, b"AA12345678BB")])
        self.add("residence-change-key", [apdu(0x80, 0x32, 0x00, 0x86, b"AA12345678BB")])
        mf = apdu(0x00, 0xA4, 0x00, 0x00, b"\x3f\x00")
        self.add("residence-select-mf", [mf], OK)
        for applet in self.profile.applets:
            for spec in applet.files:
                sfi = resolve_sfi(spec.sfi, spec.fid)
                if spec.read == "always" or sfi is None:
                    continue
                read = apdu(0x00, 0xB0, 0x80 | sfi, 0x00, ne=65536)
                enter = mf if applet.default else select_aid(applet.aid)
                self.add(
                    f"residence-{applet.id}-{spec.fid:04X}-unverified",
                    [enter, read],
                    int(SW.SECURITY_STATUS_NOT_SATISFIED),
                )

    def security_domains(self) -> None:
        """GET STATUS in the ISD: every subset, the next occurrence, bad criteria."""
        gp = self.profile.global_platform
        if gp is None:
            return
        isd = next(d for d in gp.domains if d.parent is None)
        enter = select_aid(next(a.aid for a in self.profile.applets if a.id == isd.applet))
        expect = OK if gp.get_status == "open" else int(SW.SECURITY_STATUS_NOT_SATISFIED)
        self.add(
            "gp-get-status-isd", [enter, apdu(0x80, 0xF2, 0x80, 0x02, bytes.fromhex("4F 00"), ne=256)], expect
        )
        for p1, p2 in ((0x40, 0x02), (0x40, 0x03), (0x20, 0x02), (0x10, 0x02), (0x40, 0x00)):
            self.add(
                f"gp-get-status-{p1:02X}-{p2:02X}",
                [enter, apdu(0x80, 0xF2, p1, p2, bytes.fromhex("4F 00"), ne=256)],
            )
        self.add(
            "gp-get-status-bad-criteria",
            [enter, apdu(0x80, 0xF2, 0x40, 0x02, bytes.fromhex("4E 00"), ne=256)],
        )

    def specified_residence(self, applets: list[str]) -> None:
        """The 在留AP of a 特定在留カード: SET SESSION KEY that cannot unwrap, protected commands without a
        session, and reads before VERIFY."""
        zairyu = [a for a in self.profile.applets if a.id in applets]
        enter = select_aid(zairyu[0].aid)
        garbage = apdu(0x80, 0xAE, 0x00, 0x00, bytes(256), extended=True)
        self.add("zairyu-set-session-key-garbage", [enter, garbage], int(SW.WRONG_DATA))
        self.add(
            "zairyu-set-session-key-short",
            [enter, apdu(0x80, 0xAE, 0x00, 0x00, bytes(16))],
            int(SW.WRONG_DATA),
        )
        protected = bytes.fromhex("97 01 00 8E 08") + bytes(8)
        self.add("zairyu-sm-without-session", [enter, apdu(0x0C, 0xB0, 0x81, 0x00, protected, ne=256)])
        for applet in zairyu:
            for spec in applet.files:
                sfi = resolve_sfi(spec.sfi, spec.fid)
                if spec.read == "always" or sfi is None:
                    continue
                read = apdu(0x00, 0xB0, 0x80 | sfi, 0x00, ne=65536)
                expect = int(SW.SECURITY_STATUS_NOT_SATISFIED)
                self.add(
                    f"zairyu-{applet.id}-{spec.fid:04X}-unverified", [select_aid(applet.aid), read], expect
                )

    def chaining(self) -> None:
        aid = self.profile.applets[-1].aid
        head, tail = aid[: len(aid) // 2], aid[len(aid) // 2 :]
        self.add("chained-select", [apdu(0x10, 0xA4, 0x04, 0x0C, head), apdu(0x00, 0xA4, 0x04, 0x0C, tail)])

    def aliases(self, applet: AppletSpec) -> None:
        for alias in applet.aliases:
            steps: list[Step] = [select_aid(alias.aid)]
            for old in sorted(alias.fid_map()):
                steps += [select_fid(old), apdu(0x00, 0xB0, 0x00, 0x00, ne=4)]
            self.add(f"alias-{alias.aid.hex().upper()}", steps[:MAX_SWEEP])

    def data_objects(self) -> None:
        inside = next((a for a in self.profile.applets if not a.default), self.profile.applets[0])
        for obj in self.profile.data_objects:
            p1, p2 = obj.tag.rjust(2, b"\x00")[-2:]
            name = f"get-data-{obj.tag.hex().upper()}"
            self.add(name, [apdu(0x00, 0xCA, p1, p2, ne=256)])
            self.add(f"{name}-extended", [apdu(0x00, 0xCA, p1, p2, ne=65536, extended=True)], OK)
            self.add(
                f"{name}-in-{inside.id}",
                [select_aid(inside.aid), apdu(0x00, 0xCA, p1, p2, ne=65536, extended=True)],
                OK if obj.scope == "any" else int(SW.DATA_NOT_FOUND),
            )
            self.add(f"{name}-short-le", [apdu(0x00, 0xCA, p1, p2, ne=0x33)])
        self.add("get-data-absent", [apdu(0x00, 0xCA, 0x7F, 0x21, ne=256)], int(SW.DATA_NOT_FOUND))

    def status_commands(self) -> None:
        for command in self.profile.status_commands:
            places: list[AppletSpec | None] = [a for a in self.profile.applets if a.id in command.applets]
            sw = int.from_bytes(command.sw, "big")
            for applet in places or [None]:
                where = applet.id if applet is not None else "mf"
                prefix: list[Step] = [select_aid(applet.aid)] if applet is not None else []
                name = f"status-{command.cla:02X}{command.ins:02X}-{where}"
                self.add(name, [*prefix, apdu(command.cla, command.ins, 0x00, 0x00)], sw)
                self.add(f"{name}-le", [*prefix, apdu(command.cla, command.ins, 0x00, 0x00, ne=256)])
                self.add(
                    f"{name}-data", [*prefix, apdu(command.cla, command.ins, 0x00, 0x00, bytes(16), 256)]
                )
                self.add(
                    f"{name}-interindustry", [*prefix, apdu(command.cla & 0x7F, command.ins, 0x00, 0x00)]
                )

    def responses_and_channels(self) -> None:
        applet = self.profile.applets[-1]
        fci = apdu(0x00, 0xA4, 0x04, 0x00, applet.aid)  # case 3: the FCI waits behind 61 xx
        self.add("get-response", [fci, apdu(0x00, 0xC0, 0x00, 0x00, ne=256)], OK)
        self.add(
            "get-response-partial",
            [fci, apdu(0x00, 0xC0, 0x00, 0x00, ne=2), apdu(0x00, 0xC0, 0x00, 0x00, ne=256)],
        )
        self.add(
            "get-response-nothing",
            [apdu(0x00, 0xC0, 0x00, 0x00, ne=256)],
            int(SW.CONDITIONS_OF_USE_NOT_SATISFIED),
        )
        self.add("get-response-extended", [fci, apdu(0x00, 0xC0, 0x00, 0x00, ne=65536, extended=True)])
        self.add(
            "get-response-interrupted", [fci, select_aid(applet.aid), apdu(0x00, 0xC0, 0x00, 0x00, ne=256)]
        )
        open_channel = apdu(0x00, MANAGE_CHANNEL, 0x00, 0x00, ne=1)
        self.add("manage-channel-open", [open_channel])
        self.add("manage-channel-open-1", [apdu(0x00, MANAGE_CHANNEL, 0x00, 0x01)])
        self.add("manage-channel-close", [open_channel, apdu(0x00, MANAGE_CHANNEL, 0x80, 0x01)])
        on_channel_1 = apdu(0x01, 0xA4, 0x04, 0x0C, applet.aid)
        self.add("channel-1-select", [open_channel, on_channel_1, apdu(0x01, 0xB0, 0x00, 0x00, ne=4)])
        self.add("channel-4-select", [apdu(0x40, 0xA4, 0x04, 0x0C, applet.aid)])
        for cla, label in (
            (0x0C, "sm"),
            (0x10, "chaining"),
            (0x84, "proprietary-sm"),
            (0xFF, "pps"),
            (0x20, "rfu"),
        ):
            self.add(f"cla-{label}", [apdu(cla, 0xA4, 0x04, 0x0C, applet.aid)])
        for ins in (0xD6, 0xE2, 0x21, 0x25, 0x2D, 0x87):
            self.add(f"unsupported-{ins:02X}", [apdu(0x00, ins, 0x00, 0x80, b"1234")])

    def resets(self) -> None:
        for applet in self.profile.applets:
            for spec in applet.files:
                if (
                    spec.kind == "transparent"
                    and rule_credentials(spec.read)
                    and self.readable(applet, spec.read)
                ):
                    opened = [select_aid(applet.aid), *self.verifications(applet, spec.read)]
                    read: list[Step] = [
                        select_aid(applet.aid),
                        select_fid(spec.fid),
                        apdu(0x00, 0xB0, 0x00, 0x00, ne=4),
                    ]
                    self.add(f"warm-reset-{applet.id}-{spec.fid:04X}", [*opened, Event.WARM_RESET, *read])
                    self.add(f"power-cycle-{applet.id}-{spec.fid:04X}", [*opened, Event.POWER_CYCLE, *read])
                    return

    def malformed(self) -> None:
        aid = self.profile.applets[-1].aid
        select = select_aid(aid)
        self.add("too-short", [TOO_SHORT], int(SW.WRONG_LENGTH))
        self.add("empty", [b""], int(SW.WRONG_LENGTH))
        self.add("lc-too-long", [select[:-1]], int(SW.WRONG_LENGTH))
        self.add("lc-too-short", [select + b"\x00\x00"], int(SW.WRONG_LENGTH))
        self.add("extended-lc-zero", [bytes.fromhex("00A4040C00000001")], int(SW.WRONG_LENGTH))
        self.add("extended-select", [apdu(0x00, 0xA4, 0x04, 0x0C, aid, extended=True)], OK)


MAX_SWEEP = 48
"""Steps of a FID sweep seed (below ``harness.MAX_STEPS``)."""


def verify(value: bytes) -> bytes:
    return apdu(0x00, 0x20, 0x00, 0x80, value)


def to_be_signed(key: KeySpec, scheme: int) -> bytes:
    """What a host sends to ``80 2A`` with P1 = ``scheme``: a DigestInfo, a bare hash, or the message."""
    if key.algorithm == "rsa-2048":
        if scheme == 0x00:
            return sha256_digest_info(MESSAGE)
        if scheme in (0x02, 0x04):
            return hashlib.sha256(MESSAGE).digest()
        return MESSAGE
    if scheme == 0x00:
        size = next(iter(key.prehashed_lengths), 48)
        return hashlib.sha512(MESSAGE).digest()[:size].ljust(size, b"\x00")
    return MESSAGE


def other_value(fmt: FormatSpec, avoid: bytes) -> bytes:
    """A value inside ``fmt`` that differs from ``avoid`` (a wrong value, or a new one)."""
    allowed = [
        c
        for c in string.digits + string.ascii_uppercase + string.ascii_lowercase
        if re.fullmatch(f"[{fmt.charset}]", c)
    ]
    letters = [c for c in allowed if c.isalpha()] or allowed
    digits = [c for c in allowed if c.isdigit()] or allowed
    length = max(fmt.min, min(fmt.max, len(avoid) or fmt.min))
    for shift in range(len(allowed)):
        chars = [allowed[(i * 7 + shift) % len(allowed)] for i in range(length)]
        if fmt.require_letter:
            chars[0] = letters[shift % len(letters)]
        if fmt.require_digit:
            chars[-1] = digits[shift % len(digits)]
        candidate = "".join(chars).encode("ascii")
        if candidate != avoid:
            return candidate
    raise ValueError(f"format [{fmt.charset}]{{{fmt.min},{fmt.max}}} has a single value")


def host_aids() -> Iterator[bytes]:
    """Every ``*_AID`` of the host-side applet modules."""
    for name, value in _host_constants():
        if name.endswith("_AID") and isinstance(value, bytes):
            yield value


def host_fids() -> set[int]:
    """Every upper-case integer constant of the host-side applet modules that can be a FID."""
    return {
        v for n, v in _host_constants() if isinstance(v, int) and not isinstance(v, bool) and 0 < v <= 0xFFFF
    }


def _host_constants() -> Iterator[tuple[str, object]]:
    package = mynacard.apdu.applets
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for name, value in vars(module).items():
            if name.isupper():
                yield name, value


def build_seeds(profile: str = DEFAULT_PROFILE, persona: str | None = DEFAULT_PERSONA) -> list[Seed]:
    """The seed corpus of a shipped profile (or a profile file) and a persona."""
    loaded = parse_profile(*profile_text(profile))
    holder = load_persona(persona) if persona is not None else None
    return _Corpus(loaded, holder).build()


def write_seeds(
    directory: Path, profile: str = DEFAULT_PROFILE, persona: str | None = DEFAULT_PERSONA
) -> int:
    """Write the corpus as one file per seed (named after it); returns how many."""
    directory.mkdir(parents=True, exist_ok=True)
    seeds = build_seeds(profile, persona)
    for seed in seeds:
        (directory / f"{seed.name}.bin").write_bytes(seed.encode())
    return len(seeds)
