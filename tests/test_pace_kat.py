"""PACE known-answer test: ICAO Doc 9303-11 Appendix G.1 (ECDH-GM, brainpoolP256r1, AES-128, MRZ password).

Every value of ``../shared/spec/pace-kat-icao-g1.md`` byte for byte: password key, nonce, mapping, shared
secret, session keys, token inputs, tokens and the exact command and response of each step, on both sides
(the chip's nonce and every private key injected).
"""

from __future__ import annotations

from mynacard.apdu.command import CommandApdu
from mynacard.apdu.sm import (
    AES_128,
    BRAINPOOL_P256R1,
    ID_PACE_ECDH_GM_AES_CBC_CMAC_128,
    FixedRandom,
    MseSetAt,
    PaceChip,
    PaceInfo,
    PacePassword,
    PaceTerminal,
    PasswordReference,
    decode_card_access,
    encode_card_access,
    kdf,
)
from mynacard.apdu.sm.curves import Point
from mynacard.apdu.sm.mapping import KeyPair, map_generator, shared_secret
from mynacard.apdu.sm.tokens import authentication_token, public_key_data_object


def h(text: str) -> bytes:
    return bytes.fromhex(text)


def point(x: str, y: str) -> Point:
    return Point(int(x, 16), int(y, 16))


EF_CARD_ACCESS = h("31 14 30 12 06 0A 04 00 7F 00 07 02 02 04 02 02 02 01 02 02 01 0D")
MRZ_INFORMATION = "T22000129364081251010318"
K_PI = h("89DED1B26624EC1E634C1989302849DD")
MRZ_SHA1 = h("7E2D2A41C74EA0B38CD36F863939BFA8E9032AAD")  # f(π) of the appendix

Z = h("95A3A016522EE98D01E76CB6B98B42C3")
S = h("3F00C4D39D153F2B2A214A078D899B22")
TERMINAL_MAPPING_SK = 0x7F4EF07B9EA82FD78AD689B38D0BC78CF21F249D953BC46F4C6E19259C010F99
TERMINAL_MAPPING_PK = point(
    "7ACF3EFC982EC45565A4B155129EFBC74650DCBFA6362D896FC70262E0C2CC5E",
    "544552DCB6725218799115B55C9BAA6D9F6BC3A9618E70C25AF71777A9C4922D",
)
CHIP_MAPPING_SK = 0x498FF49756F2DC1587840041839A85982BE7761D14715FB091EFA7BCE9058560
CHIP_MAPPING_PK = point(
    "824FBA91C9CBE26BEF53A0EBE7342A3BF178CEA9F45DE0B70AA601651FBA3F57",
    "30D8C879AAA9C9F73991E61B58F4D52EB87A0A0C709A49DC63719363CCD13C54",
)
H_POINT = point(
    "60332EF2450B5D247EF6D3868397D398852ED6E8CAF6FFEEF6BF85CA57057FD5",
    "0840CA7415BAF3E43BD414D35AA4608B93A2CAF3A4E3EA4E82C9C13D03EB7181",
)
MAPPED_G = point(
    "8CED63C91426D4F0EB1435E7CB1D74A46723A0AF21C89634F65A9AE87A9265E2",
    "8C879506743F8611AC33645C5B985C80B5F09A0B83407C1B6A4D857AE76FE522",
)
TERMINAL_EPHEMERAL_SK = 0xA73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595
TERMINAL_EPHEMERAL_PK = point(
    "2DB7A64C0355044EC9DF190514C625CBA2CEA48754887122F3A5EF0D5EDD301C",
    "3556F3B3B186DF10B857B58F6A7EB80F20BA5DC7BE1D43D9BF850149FBB36462",
)
CHIP_EPHEMERAL_SK = 0x107CF58696EF6155053340FD633392BA81909DF7B9706F226F32086C7AFF974A
CHIP_EPHEMERAL_PK = point(
    "9E880F842905B8B3181F7AF7CAA9F0EFB743847F44A306D2D28C1D9EC65DF6DB",
    "7764B22277A2EDDC3C265A9F018F9CB852E111B768B326904B59A0193776F094",
)
K = h("28768D20701247DAE81804C9E780EDE582A9996DB4A315020B2733197DB84925")
KS_ENC = h("F5F0E35C0D7161EE6724EE513A0D9A7F")
KS_MAC = h("FE251C7858B356B24514B3BD5F4297D1")
T_IFD_INPUT = h(
    "7F494F060A04007F000702020402028641049E880F842905B8B3181F7AF7CAA9F0EFB743847F44A306D2D28C1D9EC65DF6DB"
    "7764B22277A2EDDC3C265A9F018F9CB852E111B768B326904B59A0193776F094"
)
T_IC_INPUT = h(
    "7F494F060A04007F000702020402028641042DB7A64C0355044EC9DF190514C625CBA2CEA48754887122F3A5EF0D5EDD301C"
    "3556F3B3B186DF10B857B58F6A7EB80F20BA5DC7BE1D43D9BF850149FBB36462"
)
T_IFD = h("C2B0BD78D94BA866")
T_IC = h("3ABB9674BCE93C08")

MSE_SET_AT = h("0022C1A412800A04007F0007020204020283010184010D")
EXCHANGE = [  # (command APDU, response data without the 90 00 of the appendix)
    ("10860000027C0000", "7C12801095A3A016522EE98D01E76CB6B98B42C3"),
    (
        "10860000457C438141047ACF3EFC982EC45565A4B155129EFBC74650DCBFA6362D896FC70262E0C2CC5E544552DCB672"
        "5218799115B55C9BAA6D9F6BC3A9618E70C25AF71777A9C4922D00",
        "7C43824104824FBA91C9CBE26BEF53A0EBE7342A3BF178CEA9F45DE0B70AA601651FBA3F5730D8C879AAA9C9F73991E6"
        "1B58F4D52EB87A0A0C709A49DC63719363CCD13C54",
    ),
    (
        "10860000457C438341042DB7A64C0355044EC9DF190514C625CBA2CEA48754887122F3A5EF0D5EDD301C3556F3B3B186"
        "DF10B857B58F6A7EB80F20BA5DC7BE1D43D9BF850149FBB3646200",
        "7C438441049E880F842905B8B3181F7AF7CAA9F0EFB743847F44A306D2D28C1D9EC65DF6DB7764B22277A2EDDC3C265A"
        "9F018F9CB852E111B768B326904B59A0193776F094",
    ),
    ("008600000C7C0A8508C2B0BD78D94BA86600", "7C0A86083ABB9674BCE93C08"),
]

PROTOCOL = ID_PACE_ECDH_GM_AES_CBC_CMAC_128
CURVE = BRAINPOOL_P256R1


def password() -> PacePassword:
    return PacePassword.mrz(MRZ_INFORMATION)


def terminal() -> PaceTerminal:
    keys = FixedRandom([TERMINAL_MAPPING_SK, TERMINAL_EPHEMERAL_SK])
    return PaceTerminal.from_card_access(EF_CARD_ACCESS, password(), random=keys)


def chip() -> PaceChip:
    keys = FixedRandom([CHIP_MAPPING_SK, CHIP_EPHEMERAL_SK], nonce=S)
    return PaceChip(PROTOCOL, CURVE, password(), random=keys)


def test_ef_card_access_is_the_appendix_pace_info() -> None:
    assert decode_card_access(EF_CARD_ACCESS) == [PaceInfo(PROTOCOL, 13)]
    assert encode_card_access([PaceInfo(PROTOCOL, 13)]) == EF_CARD_ACCESS


def test_password_key_from_the_mrz() -> None:
    assert password().encoded() == MRZ_SHA1
    assert password().key(AES_128) == K_PI


def test_nonce_encryption_and_decryption() -> None:
    assert AES_128.decrypt_nonce(K_PI, Z) == S
    assert AES_128.encrypt_nonce(K_PI, S) == Z


def test_public_mapping_keys_of_the_injected_private_keys() -> None:
    assert CURVE.multiply(TERMINAL_MAPPING_SK, CURVE.generator) == TERMINAL_MAPPING_PK
    assert CURVE.multiply(CHIP_MAPPING_SK, CURVE.generator) == CHIP_MAPPING_PK


def test_shared_point_h_and_mapped_generator_on_both_sides() -> None:
    assert CURVE.multiply(TERMINAL_MAPPING_SK, CHIP_MAPPING_PK) == H_POINT
    assert CURVE.multiply(CHIP_MAPPING_SK, TERMINAL_MAPPING_PK) == H_POINT
    assert (
        map_generator(CURVE, S, KeyPair(TERMINAL_MAPPING_SK, TERMINAL_MAPPING_PK), CHIP_MAPPING_PK)
        == MAPPED_G
    )
    assert map_generator(CURVE, S, KeyPair(CHIP_MAPPING_SK, CHIP_MAPPING_PK), TERMINAL_MAPPING_PK) == MAPPED_G


def test_ephemeral_public_keys_on_the_mapped_generator() -> None:
    assert CURVE.multiply(TERMINAL_EPHEMERAL_SK, MAPPED_G) == TERMINAL_EPHEMERAL_PK
    assert CURVE.multiply(CHIP_EPHEMERAL_SK, MAPPED_G) == CHIP_EPHEMERAL_PK


def test_shared_secret_on_both_sides() -> None:
    terminal_keys = KeyPair(TERMINAL_EPHEMERAL_SK, TERMINAL_EPHEMERAL_PK)
    chip_keys = KeyPair(CHIP_EPHEMERAL_SK, CHIP_EPHEMERAL_PK)
    assert shared_secret(CURVE, terminal_keys, CHIP_EPHEMERAL_PK) == K
    assert shared_secret(CURVE, chip_keys, TERMINAL_EPHEMERAL_PK) == K


def test_session_keys() -> None:
    assert kdf(K, 1, AES_128) == KS_ENC
    assert kdf(K, 2, AES_128) == KS_MAC


def test_token_inputs_and_tokens() -> None:
    chip_key, terminal_key = CURVE.encode_point(CHIP_EPHEMERAL_PK), CURVE.encode_point(TERMINAL_EPHEMERAL_PK)
    assert public_key_data_object(PROTOCOL, chip_key) == T_IFD_INPUT
    assert public_key_data_object(PROTOCOL, terminal_key) == T_IC_INPUT
    assert authentication_token(PROTOCOL, KS_MAC, chip_key) == T_IFD
    assert authentication_token(PROTOCOL, KS_MAC, terminal_key) == T_IC


def test_mse_set_at_command() -> None:
    assert terminal().mse_set_at().to_bytes() == MSE_SET_AT
    parsed = MseSetAt.from_data(CommandApdu.from_bytes(MSE_SET_AT).data)
    assert parsed == MseSetAt(PROTOCOL, PasswordReference.MRZ, 13)


def test_terminal_sends_the_appendix_commands() -> None:
    side = terminal()
    for command, response in EXCHANGE:
        assert side.command().to_bytes() == h(command)
        side.process_response(h(response))
    assert side.established
    keys = side.session_keys()
    assert (keys.k_enc, keys.k_mac) == (KS_ENC, KS_MAC)


def test_chip_gives_the_appendix_responses() -> None:
    side = chip()
    for command, response in EXCHANGE:
        assert side.respond(CommandApdu.from_bytes(h(command)).data) == h(response)
    assert side.established
    keys = side.session_keys()
    assert (keys.k_enc, keys.k_mac) == (KS_ENC, KS_MAC)


def test_ssc_after_pace_is_16_zero_bytes() -> None:
    pcd, picc = terminal(), chip()
    for _ in EXCHANGE:
        pcd.process_response(picc.respond(pcd.command_data()))
    for side in (pcd, picc):
        session = side.secure_messaging()
        assert session.ssc == 0
        assert session.suite.ssc_length == 16
