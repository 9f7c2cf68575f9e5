"""OpenSC 0.23 against the emulator through pcscd and vpcd: detection, PKCS#15 objects, PINs, signing.

The card is a fresh ``legacy-2016`` card of the default TEST persona, put in the bridged vpcd slot for
each test; the OpenSC tools run as separate processes, as any PC/SC application would.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sysconfig
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from mynacard.apdu.applets.jpki import JPKI_AID
from mynacard.apdu.applets.session import select_df_name
from mynacard.apdu.readers.base import SoftCard
from mynacard.apdu.readers.pcsc import PcscReader
from mynacard.apdu.response import ResponseApdu
from mynacard.apdu.trace import Exchange
from mynacard.emulator.issuance.personas import load_persona
from mynacard.tools.harness.pcsc import PcscStack
from mynacard.tools.harness.plugin import require_tools, unavailable

pytestmark = [pytest.mark.pcsc, pytest.mark.opensc]

SELECT_JPKI_AP = select_df_name(JPKI_AID)
AUTH_PIN_EF = 0x0018
SIGN_PASSWORD_EF = 0x001B
SIGN_CERT_EF = 0x0001
AUTH_TOKEN = "JPKI (User Authentication PIN)"
TOOL_SECONDS = 60

# No file cache: every JPKI token has serial 00000000, so cached files would leak between test cards.
OPENSC_CONF = "app default {\n  framework pkcs15 {\n    use_file_caching = no;\n  }\n}\n"


def pkcs11_module() -> str:
    """Where this machine's opensc-pkcs11.so is: asked of dpkg, else looked up in the library dirs."""
    dpkg = shutil.which("dpkg")
    if dpkg is not None:
        listed = subprocess.run([dpkg, "-L", "opensc-pkcs11"], capture_output=True, text=True, check=False)
        for line in listed.stdout.splitlines():
            if line.endswith("/opensc-pkcs11.so") and Path(line).exists():
                return line
    multiarch = sysconfig.get_config_var("MULTIARCH") or ""
    for libdir in ("/usr/lib", f"/usr/lib/{multiarch}", "/usr/lib64", "/usr/local/lib"):
        for found in sorted(glob.glob(f"{libdir}/**/opensc-pkcs11.so", recursive=True)):
            return found
    unavailable("opensc-pkcs11.so not found (Debian package opensc-pkcs11)")


class OpenSC:
    """Runs OpenSC's tools on the bridged reader with a private configuration."""

    def __init__(self, stack: PcscStack, conf: Path) -> None:
        self.tools = require_tools("opensc-tool", "pkcs15-tool", "pkcs11-tool")
        self.reader = stack.reader_name
        self.env = {**os.environ, "OPENSC_CONF": str(conf)}

    def run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        command = [self.tools[tool], *args]
        if tool != "pkcs11-tool":
            command[1:1] = ["--reader", self.reader]
        return subprocess.run(
            command, capture_output=True, text=True, env=self.env, timeout=TOOL_SECONDS, check=False
        )

    def ok(self, tool: str, *args: str) -> str:
        result = self.run(tool, *args)
        assert result.returncode == 0, f"{tool} {args} failed ({result.returncode}):\n{result.stderr}"
        return result.stdout


@pytest.fixture
def jpki(pcsc_stack: PcscStack, card: SoftCard) -> SoftCard:
    pcsc_stack.insert(card)
    return card


@pytest.fixture
def opensc(pcsc_stack: PcscStack, tmp_path: Path, jpki: SoftCard) -> OpenSC:
    conf = tmp_path / "opensc.conf"
    conf.write_text(OPENSC_CONF)
    return OpenSC(pcsc_stack, conf)


@pytest.fixture
def traffic(pcsc_stack: PcscStack) -> Iterator[list[Exchange]]:
    """Every exchange the card sees during the test (PIN data masked)."""
    seen: list[Exchange] = []
    pcsc_stack.bridge.add_observer(seen.append)
    yield seen
    pcsc_stack.bridge.remove_observer(seen.append)


@pytest.fixture
def persona_secrets() -> tuple[str, str]:
    persona = load_persona("default")
    return persona.auth_pin, persona.sign_password


# -- the card as the tests see it directly -------------------------------------------------------------


def select_ef(reader: PcscReader, fid: int) -> None:
    assert reader.transmit(bytes.fromhex("00 A4 02 0C 02") + fid.to_bytes(2, "big")).sw == 0x9000


def tries_left(stack: PcscStack, pin_ef: int) -> ResponseApdu:
    """The empty VERIFY on a PIN EF: ``63 Cx`` with x tries left."""
    with PcscReader(stack.reader_name) as reader:
        assert reader.transmit(SELECT_JPKI_AP).sw == 0x9000
        select_ef(reader, pin_ef)
        return reader.transmit(bytes.fromhex("00 20 00 80"))


def read_sign_certificate(stack: PcscStack, password: str) -> bytes:
    """EF 0001 (署名用電子証明書) after verifying the signature password, in 256-byte reads."""
    with PcscReader(stack.reader_name) as reader:
        assert reader.transmit(SELECT_JPKI_AP).sw == 0x9000
        select_ef(reader, SIGN_PASSWORD_EF)
        secret = password.encode("ascii")
        assert reader.transmit(bytes.fromhex("00 20 00 80") + bytes((len(secret),)) + secret).sw == 0x9000
        select_ef(reader, SIGN_CERT_EF)
        head = reader.transmit(bytes.fromhex("00 B0 00 00 04")).data
        total = 4 + int.from_bytes(head[2:4], "big")
        data = b""
        while len(data) < total:
            chunk = min(256, total - len(data))
            command = bytes((0x00, 0xB0, len(data) >> 8, len(data) & 0xFF, chunk & 0xFF))
            data += reader.transmit(command).data
        return data


# -- the checks of issue 4 ------------------------------------------------------------------------------


def test_opensc_tool_names_the_jpki_driver(opensc: OpenSC) -> None:
    assert opensc.ok("opensc-tool", "-n").split() == ["jpki"]


def test_other_drivers_probes_all_get_error_status_words(opensc: OpenSC, traffic: list[Exchange]) -> None:
    opensc.ok("opensc-tool", "-n")
    answers = {e.command: e.response for e in traffic}
    assert bytes.fromhex("00 A4 04 00 06 A0 00 00 00 01 01") in answers  # MUSCLE
    assert bytes.fromhex("00 A4 04 00 06 D2 76 00 01 24 01 00") in answers  # OpenPGP
    assert answers[bytes.fromhex("00 CA DF 30 05")] == bytes.fromhex("6A 88")  # setcos
    assert SELECT_JPKI_AP not in answers, "jpki matched on the ATR, before any SELECT of its own"
    for exchange in traffic:
        sw1 = exchange.response[-2]
        assert len(exchange.response) == 2 and sw1 in (0x67, 0x68, 0x69, 0x6A, 0x6B, 0x6D, 0x6E), (
            exchange.format()
        )


@pytest.mark.parametrize("profile", ["legacy-2016-atr-da", "legacy-2016-atr-c5", "legacy-2016-atr-f5"])
def test_opensc_finds_a_card_whose_atr_is_not_in_its_table_by_selecting_the_jpki_ap(
    pcsc_stack: PcscStack,
    make_card: Callable[..., SoftCard],
    tmp_path: Path,
    traffic: list[Exchange],
    profile: str,
) -> None:
    """Issue 12 item 1: OpenSC's JPKI table names only 3B E0 00 FF 81 31 FE 45 14 (current-card §7.1); a
    card of another chip maker's ATR is still detected, by the driver's SELECT of the JPKI-AP."""
    pcsc_stack.insert(make_card(profile=profile))
    conf = tmp_path / "opensc.conf"
    conf.write_text(OPENSC_CONF)
    assert OpenSC(pcsc_stack, conf).ok("opensc-tool", "-n").split() == ["jpki"]
    answers = {e.command: e.response for e in traffic}
    assert answers.get(SELECT_JPKI_AP) == bytes.fromhex("90 00")


def test_pkcs15_tool_lists_the_four_certificates(opensc: OpenSC) -> None:
    out = opensc.ok("pkcs15-tool", "-c")
    certificates = re.findall(r"X\.509 Certificate \[(.+?)\].*?Path\s+: (\w+)\s+ID\s+: (\w+)", out, re.S)
    assert certificates == [
        ("User Authentication Certificate", "000a", "01"),
        ("Digital Signature Certificate", "0001", "02"),
        ("User Authentication Certificate CA", "000b", "03"),
        ("Digital Signature Certificate CA", "0002", "04"),
    ]


def test_pkcs15_tool_lists_two_pins_with_3_and_5_tries(opensc: OpenSC) -> None:
    out = opensc.ok("pkcs15-tool", "--list-pins")
    pins = re.findall(r"PIN \[(.+?)\].*?ID\s+: (\w+).*?Tries left\s+: (\d+)", out, re.S)
    assert pins == [("User Authentication PIN", "01", "3"), ("Digital Signature PIN", "02", "5")]


def test_sign_certificate_reads_after_the_signature_password(
    opensc: OpenSC, pcsc_stack: PcscStack, persona_secrets: tuple[str, str]
) -> None:
    _, password = persona_secrets
    refused = opensc.run("pkcs15-tool", "--read-certificate", "02")
    assert "BEGIN CERTIFICATE" not in refused.stdout
    pem = opensc.ok(
        "pkcs15-tool", "--verify-pin", "--auth-id", "02", "--pin", password, "--read-certificate", "02"
    )
    certificate = x509.load_pem_x509_certificate(pem[pem.index("-----BEGIN") :].encode())
    assert certificate.public_bytes(Encoding.DER) == read_sign_certificate(pcsc_stack, password)


def test_pkcs11_signature_verifies_with_the_card_certificate(
    opensc: OpenSC, tmp_path: Path, persona_secrets: tuple[str, str]
) -> None:
    pin, _ = persona_secrets
    message = tmp_path / "message"
    message.write_bytes(b"mynacard: TEST signature over PC/SC")
    signature = tmp_path / "signature"
    opensc.ok(
        "pkcs11-tool",
        *("--module", pkcs11_module(), "--token-label", AUTH_TOKEN, "--login", "--pin", pin),
        *("--sign", "--id", "01", "-m", "SHA256-RSA-PKCS", "-i", str(message), "-o", str(signature)),
    )
    pem = opensc.ok("pkcs15-tool", "--read-certificate", "01")
    public_key = x509.load_pem_x509_certificate(pem[pem.index("-----BEGIN") :].encode()).public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    assert len(signature.read_bytes()) == 256
    public_key.verify(signature.read_bytes(), message.read_bytes(), padding.PKCS1v15(), hashes.SHA256())


@pytest.mark.destructive
def test_wrong_pin_through_pkcs11_costs_exactly_one_try(
    opensc: OpenSC, pcsc_stack: PcscStack, tmp_path: Path, persona_secrets: tuple[str, str]
) -> None:
    pin, _ = persona_secrets
    wrong = "0000" if pin != "0000" else "9999"
    assert tries_left(pcsc_stack, AUTH_PIN_EF).sw == 0x63C3
    message = tmp_path / "message"
    message.write_bytes(b"never signed")
    result = opensc.run(
        "pkcs11-tool",
        *("--module", pkcs11_module(), "--token-label", AUTH_TOKEN, "--login", "--pin", wrong),
        *("--sign", "--id", "01", "-m", "SHA256-RSA-PKCS", "-i", str(message), "-o", str(tmp_path / "sig")),
    )
    assert result.returncode != 0
    assert "CKR_PIN_INCORRECT" in result.stdout + result.stderr
    assert tries_left(pcsc_stack, AUTH_PIN_EF).sw == 0x63C2
