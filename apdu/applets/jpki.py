"""公的個人認証AP (JPKI-AP): AID, files, and the signing flows hosts run (spec current-card §3.1, §8).

Signing is ``80 2A 00 80`` over a host-built SHA-256 DigestInfo, after SELECT of the key EF.
"""

from __future__ import annotations

from mynacard.apdu.applets.session import Session
from mynacard.apdu.digestinfo import sha256_digest_info

JPKI_AID = bytes.fromhex("D3 92 F0 00 26 01 00 00 00 01")
"""公的個人認証AP"""

SIGN_CERTIFICATE = 0x0001
"""署名用電子証明書"""
SIGN_CA_CERTIFICATE = 0x0002
"""署名用認証局証明書"""
TOKEN_INFO = 0x0006
"""トークン情報 (CK_TOKEN_INFO, label JPKIAPICCTOKEN2)"""
CERTIFICATE_AVAILABILITY = 0x0008
"""証明書の有無 (8F 8F 00 / 00 8F 00)"""
AUTH_CERTIFICATE = 0x000A
"""利用者証明用電子証明書"""
AUTH_CA_CERTIFICATE = 0x000B
"""利用者証明用認証局証明書"""
AUTH_KEY = 0x0017
"""利用者証明用秘密鍵"""
AUTH_PIN = 0x0018
"""利用者証明用暗証番号 (4 digits, 3 tries)"""
SIGN_KEY = 0x001A
"""署名用秘密鍵"""
SIGN_PASSWORD = 0x001B
"""署名用パスワード (6–16 of [A-Z0-9], 5 tries)"""


class JpkiSession(Session):
    """What a terminal does with the JPKI-AP: certificates, PIN counters, VERIFY and signatures."""

    def select(self) -> None:
        self.select_applet(JPKI_AID)

    def sign_sha256(self, key_fid: int, message: bytes) -> bytes:
        """Sign SHA-256(message) with PKCS#1 v1.5: the host builds the DigestInfo, the card pads and signs."""
        self.select_ef(key_fid)
        info = sha256_digest_info(message)
        command = bytes((0x80, 0x2A, 0x00, 0x80, len(info))) + info + b"\x00"
        return self.expect_ok("COMPUTE DIGITAL SIGNATURE", command)
