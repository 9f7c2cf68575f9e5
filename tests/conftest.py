"""Fixtures every suite shares: personalised cards (made once per session, copied per test) and the
reader the conformance tests run on (``--reader virtual``, the default, or ``--reader pcsc:NAME``)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from apdu.reader import Reader
from apdu.virtual import VirtualReader
from emulator.card import Card
from emulator.personalise import load_card, open_card
from emulator.pki import TestPki
from emulator.state import StateStore

pytest_plugins = ["tests.pcsc_support"]

CardFactory = Callable[..., Card]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--reader",
        default="virtual",
        help="reader for the conformance suites: 'virtual' (in process) or 'pcsc:NAME' (a PC/SC reader)",
    )
    parser.addoption(
        "--allow-destructive",
        action="store_true",
        help="run tests that use up tries or change PINs on a real card (never needed for virtual or vpcd)",
    )


@pytest.fixture(scope="session")
def test_pki() -> TestPki:
    """One TEST PKI for the whole session (its six RSA keys take about half a second)."""
    return TestPki.create()


@pytest.fixture(scope="session")
def card_templates(tmp_path_factory: pytest.TempPathFactory, test_pki: TestPki) -> Callable[[str, str], Path]:
    """Personalise each (profile, persona) once; tests get copies of the state directory."""
    made: dict[tuple[str, str], Path] = {}

    def template(profile: str, persona: str) -> Path:
        if (profile, persona) not in made:
            directory = tmp_path_factory.mktemp("template") / "card"
            open_card(profile, persona, directory, pki=test_pki)
            made[(profile, persona)] = directory
        return made[(profile, persona)]

    return template


@pytest.fixture
def card_state_factory(card_templates: Callable[[str, str], Path], tmp_path: Path) -> Callable[..., Path]:
    """A fresh copy of a personalised card's state directory for this test."""
    counter = iter(range(1000))

    def make(profile: str = "legacy-2016", persona: str = "default") -> Path:
        target = tmp_path / f"card{next(counter)}"
        shutil.copytree(card_templates(profile, persona), target)
        return target

    return make


@pytest.fixture
def make_card(card_state_factory: Callable[..., Path]) -> CardFactory:
    """``make_card(profile=..., persona=...)``: a fresh, unpowered card of its own."""

    def make(profile: str = "legacy-2016", persona: str = "default") -> Card:
        return load_card(StateStore(card_state_factory(profile, persona)))

    return make


@pytest.fixture
def card(make_card: CardFactory) -> Card:
    """A fresh legacy-2016 card of the default TEST persona."""
    return make_card()


@pytest.fixture
def reader_for(request: pytest.FixtureRequest) -> Iterator[Callable[[Card], Reader]]:
    """``reader_for(card)``: that card in the reader chosen by ``--reader``, powered and connected."""
    option = str(request.config.getoption("--reader"))
    _refuse_destructive_on_real_cards(request, option)
    opened: list[Reader] = []

    def connect(card: Card) -> Reader:
        if option == "virtual":
            reader: Reader = VirtualReader(card)
            reader.power_on()
        elif option.startswith("pcsc:"):
            reader = request.getfixturevalue("pcsc_reader_for")(card)
        else:
            raise pytest.UsageError(f"--reader {option!r}: expected 'virtual' or 'pcsc:NAME'")
        opened.append(reader)
        return reader

    yield connect
    for reader in opened:
        reader.close()


def _refuse_destructive_on_real_cards(request: pytest.FixtureRequest, option: str) -> None:
    """A destructive test could block a real card's PIN for good: it runs there only when asked to."""
    from tests.pcsc_support import vpcd_slot_of

    real_card = option.startswith("pcsc:") and vpcd_slot_of(option.removeprefix("pcsc:")) is None
    destructive = request.node.get_closest_marker("destructive") is not None
    if real_card and destructive and not request.config.getoption("--allow-destructive"):
        pytest.skip(f"destructive test refused on the real card in {option}; pass --allow-destructive")


@pytest.fixture
def reader(reader_for: Callable[[Card], Reader], card: Card) -> Reader:
    """The default card in the reader chosen by ``--reader``."""
    return reader_for(card)
