"""Bad input to PACE: steps out of order or repeated, bad points, zero-length and oversized objects.

BSI TR-03110-3 §B.11.1/§B.14.1: ``69 85`` for a step out of order (or after the end, or after an abort),
``6A 80`` for bad data, ``6A 88`` for an unknown password reference. Every error aborts the run.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mynacard.apdu.sm import (
    BRAINPOOL_P256R1,
    ID_PACE_ECDH_GM_AES_CBC_CMAC_128,
    ID_PACE_ECDH_GM_AES_CBC_CMAC_256,
    NIST_P256,
    NIST_P384,
    FixedRandom,
    MseSetAt,
    PaceChip,
    PaceDataError,
    PaceError,
    PaceInfo,
    PacePassword,
    PaceReferenceError,
    PaceStateError,
    PaceTerminal,
    PasswordReference,
    decode_card_access,
    domain_parameters,
    encode_card_access,
    protocol_by_oid,
)
from mynacard.apdu.sm.curves import Point
from mynacard.apdu.sm.oid import decode_oid, encode_oid
from mynacard.apdu.status import SW
from mynacard.apdu.tlv import ber_encode

AES256 = "800A04007F00070202040204"  # 80 id-PACE-ECDH-GM-AES-CBC-CMAC-256
CAN = PacePassword.digits(PasswordReference.CAN, "123456")
PROTOCOL, CURVE = ID_PACE_ECDH_GM_AES_CBC_CMAC_256, NIST_P384


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def ga(tag: int | None, value: bytes = b"") -> bytes:
    return ber_encode(0x7C, b"" if tag is None else ber_encode(tag, value))


def started(steps: int) -> tuple[PaceTerminal, PaceChip]:
    """A terminal and a chip after ``steps`` completed steps."""
    terminal, chip = PaceTerminal(PROTOCOL, CURVE, CAN), PaceChip(PROTOCOL, CURVE, CAN)
    for _ in range(steps):
        terminal.process_response(chip.respond(terminal.command_data()))
    return terminal, chip


def some_point() -> bytes:
    return CURVE.encode_point(CURVE.multiply(7, CURVE.generator))


def refused(chip: PaceChip, data: bytes, sw: SW) -> None:
    with pytest.raises(PaceError) as raised:
        chip.respond(data)
    assert raised.value.sw == sw
    assert chip.failed
    with pytest.raises(PaceStateError):  # the run is over: a restart needs a new MSE:Set AT
        chip.respond(ga(None))


# -- order --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("done", "data"),
    [
        pytest.param(0, lambda: ga(0x81, some_point()), id="step2-first"),
        pytest.param(0, lambda: ga(0x83, some_point()), id="step3-first"),
        pytest.param(0, lambda: ga(0x85, bytes(8)), id="step4-first"),
        pytest.param(1, lambda: ga(None), id="step1-repeated"),
        pytest.param(1, lambda: ga(0x83, some_point()), id="step3-skips-step2"),
        pytest.param(2, lambda: ga(0x81, some_point()), id="step2-repeated"),
        pytest.param(2, lambda: ga(0x85, bytes(8)), id="step4-skips-step3"),
        pytest.param(3, lambda: ga(0x83, some_point()), id="step3-repeated"),
        pytest.param(3, lambda: ga(None), id="restart-without-mse"),
    ],
)
def test_steps_out_of_order_or_repeated(done: int, data: Callable[[], bytes]) -> None:
    _, chip = started(done)
    refused(chip, data(), SW.CONDITIONS_OF_USE_NOT_SATISFIED)


@pytest.mark.parametrize("data", [ga(None), ga(0x85, bytes(8))])
def test_nothing_after_the_end(data: bytes) -> None:
    _, chip = started(4)
    assert chip.established
    with pytest.raises(PaceStateError) as raised:
        chip.respond(data)
    assert raised.value.sw == SW.CONDITIONS_OF_USE_NOT_SATISFIED


def test_terminal_calls_out_of_order() -> None:
    terminal = PaceTerminal(PROTOCOL, CURVE, CAN)
    with pytest.raises(PaceStateError):
        terminal.process_response(h("7C12 8010") + bytes(16))
    assert terminal.failed
    terminal = PaceTerminal(PROTOCOL, CURVE, CAN)
    terminal.command_data()
    with pytest.raises(PaceStateError):
        terminal.command_data()
    terminal = PaceTerminal(PROTOCOL, CURVE, CAN)
    terminal.command_data()
    with pytest.raises(PaceStateError):
        terminal.process_response(ga(0x82, some_point()))  # the answer of step 2 to step 1


# -- bad data ------------------------------------------------------------------------------------------------


def off_curve() -> bytes:
    g = CURVE.generator
    return CURVE.encode_point(Point(g.x, g.y + 1))


BAD_POINTS = [
    pytest.param(off_curve, id="not-on-curve"),
    pytest.param(lambda: b"\x00", id="infinity"),
    pytest.param(lambda: some_point()[:-1], id="short"),
    pytest.param(lambda: some_point() + b"\x00", id="oversized"),
    pytest.param(lambda: b"\x02" + some_point()[1:49], id="compressed"),
    pytest.param(lambda: b"\x05" + some_point()[1:], id="bad-prefix"),
    pytest.param(lambda: b"\x04" + b"\xff" * 96, id="coordinates-above-p"),
    pytest.param(lambda: NIST_P256.encode_point(NIST_P256.generator), id="point-of-another-curve"),
]


@pytest.mark.parametrize("point", BAD_POINTS)
@pytest.mark.parametrize(("done", "tag"), [(1, 0x81), (2, 0x83)], ids=["mapping", "ephemeral"])
def test_a_bad_point_is_wrong_data(point: Callable[[], bytes], done: int, tag: int) -> None:
    _, chip = started(done)
    refused(chip, ga(tag, point()), SW.WRONG_DATA)


@pytest.mark.parametrize("point", BAD_POINTS)
def test_the_terminal_checks_the_chips_points(point: Callable[[], bytes]) -> None:
    terminal, _ = started(1)
    terminal.command_data()
    with pytest.raises(PaceDataError):
        terminal.process_response(ga(0x82, point()))


@pytest.mark.parametrize(
    ("done", "data"),
    [
        pytest.param(1, ga(0x81), id="zero-length-mapping"),
        pytest.param(2, ga(0x83), id="zero-length-ephemeral"),
        pytest.param(3, ga(0x85), id="zero-length-token"),
        pytest.param(3, ga(0x85, bytes(9)), id="oversized-token"),
        pytest.param(3, ga(0x85, bytes(7)), id="short-token"),
        pytest.param(0, ga(0x99, b"\x01"), id="unknown-tag"),
        pytest.param(0, h("7C 03 80 01 00"), id="a-response-tag"),
        pytest.param(1, ga(0x81, some_point()) + b"\x00", id="trailing-bytes"),
        pytest.param(1, h("7C 7F") + ber_encode(0x81, some_point()), id="7C-longer-than-data"),
        pytest.param(1, ber_encode(0x7D, ber_encode(0x81, some_point())), id="not-7C"),
        pytest.param(1, ber_encode(0x7C, ber_encode(0x81, some_point()) * 2), id="two-objects"),
        pytest.param(1, ga(0x81, bytes(2000)), id="oversized-data"),
        pytest.param(0, b"", id="empty-data-field"),
        pytest.param(0, h("7C 85 00 00 00 00 00"), id="bad-length-form"),
    ],
)
def test_malformed_dynamic_authentication_data_is_wrong_data(done: int, data: bytes) -> None:
    _, chip = started(done)
    refused(chip, data, SW.WRONG_DATA)


def test_the_terminal_must_not_send_the_chips_own_ephemeral_key() -> None:
    """TR-03110-3 §A.2.2: PK_DH,PCD ≠ PK_DH,IC (the chip's key injected, so the test knows it)."""
    chip_ephemeral = 0x1234567
    chip = PaceChip(PROTOCOL, CURVE, CAN, random=FixedRandom([5, chip_ephemeral], nonce=bytes(16)))
    terminal = PaceTerminal(PROTOCOL, CURVE, CAN, random=FixedRandom([9, 11]))
    for _ in range(2):
        terminal.process_response(chip.respond(terminal.command_data()))
    generator = terminal._generator  # Ĝ of this run
    own = CURVE.encode_point(CURVE.multiply(chip_ephemeral, generator))
    refused(chip, ga(0x83, own), SW.WRONG_DATA)


# -- MSE:Set AT, EF.CardAccess, OIDs -----------------------------------------------------------------------


def test_mse_set_at_round_trip() -> None:
    mse = MseSetAt(PROTOCOL, PasswordReference.CAN, 15)
    assert mse.to_command().to_bytes() == h("0022C1A412 800A04007F00070202040204 830102 84010F")
    assert MseSetAt.from_data(mse.to_data()) == mse
    short = MseSetAt(PROTOCOL, PasswordReference.VERIFICATION_CODE_A)
    assert short.to_data() == h("800A04007F00070202040204 830181")
    assert MseSetAt.from_data(short.to_data()) == short


@pytest.mark.parametrize(
    ("data", "error", "sw"),
    [
        pytest.param("830102", PaceDataError, SW.WRONG_DATA, id="no-protocol"),
        pytest.param("800A04007F00070202040204", PaceDataError, SW.WRONG_DATA, id="no-password"),
        pytest.param("830102 800A04007F00070202040204", PaceDataError, SW.WRONG_DATA, id="order"),
        pytest.param("800A04007F00070202040205 830102", PaceDataError, SW.WRONG_DATA, id="unknown-protocol"),
        pytest.param("800A04007F00070202040104 830102", PaceDataError, SW.WRONG_DATA, id="dh-protocol"),
        pytest.param("800A04007F00070202040204 830105", PaceReferenceError, SW.DATA_NOT_FOUND, id="ref-05"),
        pytest.param("800A04007F00070202040204 83020002", PaceDataError, SW.WRONG_DATA, id="ref-2-bytes"),
        pytest.param("800A04007F00070202040204 830102 84010E", PaceDataError, SW.WRONG_DATA, id="curve-14"),
        pytest.param(
            "800A04007F00070202040204 830102 8402000F", PaceDataError, SW.WRONG_DATA, id="id-2-bytes"
        ),
        pytest.param("800A04007F00070202040204 830102 7F4C00", PaceDataError, SW.WRONG_DATA, id="chat"),
        pytest.param("800B04007F00070202040204", PaceDataError, SW.WRONG_DATA, id="bad-tlv"),
        pytest.param("8001FF 830102", PaceDataError, SW.WRONG_DATA, id="bad-oid"),
    ],
)
def test_bad_mse_set_at(data: str, error: type[PaceError], sw: SW) -> None:
    with pytest.raises(error) as raised:
        MseSetAt.from_data(h(data))
    assert raised.value.sw == sw


def test_ef_card_access_keeps_supported_pace_infos_only() -> None:
    ca_info = "300F 060A 04007F00070202030202 020101"  # ChipAuthenticationInfo
    dh_gm = "3012 060A 04007F00070202040102 020102 020100"  # id-PACE-DH-GM-AES-128
    im = "3012 060A 04007F00070202040402 020102 02010D"  # id-PACE-ECDH-IM-AES-128
    v1 = "3012 060A 04007F00070202040202 020101 02010D"  # version 1
    p256 = "3012 060A 04007F00070202040202 020102 02010C"
    p384 = "3012 060A 04007F00070202040204 020102 02010F"
    bp384_3des = "3012 060A 04007F00070202040201 020102 020110"
    no_id = "300F 060A 04007F00070202040202 020102"  # proprietary domain parameters
    body = h(ca_info + dh_gm + im + v1 + p256 + p384 + bp384_3des + no_id)
    infos = decode_card_access(ber_encode(0x31, body))
    assert [(i.protocol.name, i.parameter_id) for i in infos] == [
        ("id-PACE-ECDH-GM-AES-CBC-CMAC-128", 12),
        ("id-PACE-ECDH-GM-AES-CBC-CMAC-256", 15),
        ("id-PACE-ECDH-GM-3DES-CBC-CBC", 16),
    ]
    assert infos[1].parameters is NIST_P384


@pytest.mark.parametrize(
    "data",
    [
        "",
        "30 00",
        "31 03 02 01 02",
        "31 05 30 03 02 01 02",
        "31 14 3012060A04007F0007020204020202010202",
        "31",
    ],
)
def test_malformed_ef_card_access(data: str) -> None:
    with pytest.raises(PaceDataError):
        decode_card_access(h(data))


def test_ef_card_access_with_several_pace_infos_is_der_sorted() -> None:
    infos = [PaceInfo(PROTOCOL, 15), PaceInfo(ID_PACE_ECDH_GM_AES_CBC_CMAC_128, 13)]
    encoded = encode_card_access(infos)
    assert decode_card_access(encoded) == sorted(infos, key=lambda i: i.encode())
    assert PaceTerminal.from_card_access(encoded, CAN).parameters is BRAINPOOL_P256R1


@pytest.mark.parametrize(
    ("dotted", "der"),
    [
        ("0.4.0.127.0.7.2.2.4.2.2", "04007F00070202040202"),
        ("1.2.840.10045.2.1", "2A8648CE3D0201"),
        ("2.999.3", "883703"),
        ("1.3.6.1.4.1.311.21.20", "2B0601040182371514"),
    ],
)
def test_oid_codec(dotted: str, der: str) -> None:
    assert encode_oid(dotted) == h(der)
    assert decode_oid(h(der)) == dotted


@pytest.mark.parametrize("der", ["", "2B8F", "2B80 01", "2B 8F FF"])
def test_bad_oids(der: str) -> None:
    with pytest.raises(ValueError):
        decode_oid(h(der))


def test_unsupported_ids_and_oids() -> None:
    with pytest.raises(PaceDataError):
        domain_parameters(18)
    with pytest.raises(PaceDataError):
        protocol_by_oid(h("04007F00070202040302"))  # id-PACE-ECDH-CAM
