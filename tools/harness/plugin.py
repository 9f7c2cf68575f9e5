"""The ``mynacard`` pytest plugin: ``--reader``, ``--allow-destructive`` and the fixtures the suites use.

Registered through the ``pytest11`` entry point, so any project with mynacard installed gets it:

* ``--reader virtual`` (default: the in-process ``VirtualReader``) or ``--reader pcsc:NAME`` (a PC/SC
  reader by name or unique prefix: a real one, or a vpcd slot such as ``Virtual PCD 00 00``, which the
  plugin serves itself through pcscd + vpcd);
* ``--allow-destructive``: tests marked ``destructive`` (they use up tries or change PINs) run on a real
  card only with it; on the virtual reader and on vpcd slots every test gets a fresh card anyway;
* fixtures: ``reader`` (the default card in the chosen reader), ``reader_for(card)``, ``card``,
  ``make_card(profile=..., persona=...)``, ``card_state_factory``, ``card_templates``, ``test_pki``,
  ``shared_reader`` (a module-wide card for read-only tests), ``pcsc_stack`` and ``pcsc_reader_for``.

A missing pcscd, vpcd, pyscard or OpenSC skips the test with the reason, except in CI (``CI=true``), where it
fails: CI must run the PC/SC tests.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import NoReturn

import pytest

from mynacard.apdu.readers.base import Reader, ReaderError, SoftCard
from mynacard.apdu.readers.processors import ProcessedReader
from mynacard.apdu.readers.virtual import VirtualReader
from mynacard.apdu.trace import Exchange
from mynacard.emulator.card import Card
from mynacard.emulator.issuance.personalise import open_card
from mynacard.emulator.issuance.pki import TestPki
from mynacard.emulator.issuance.profiles import load_profile
from mynacard.emulator.store.loading import load_card
from mynacard.emulator.store.state import StateStore
from mynacard.emulator.timing import with_timing
from mynacard.profiles.schema import Profile
from mynacard.tools.harness.html_report import HtmlReport
from mynacard.tools.harness.pcsc import PcscSetupError, PcscStack, vpcd_slot_of
from mynacard.tools.harness.safety import CounterFloor, CounterFloorError, card_identity

pytest.register_assert_rewrite("mynacard.tools.harness.suites.helpers")

CardFactory = Callable[..., Card]
PcscReaderFactory = Callable[[SoftCard], Reader]

MARKERS = (
    "applies_to(*families): the suite checks behaviour of these profile families; elsewhere not applicable",
    "client_sequences: a public client's exact APDUs (legacy-2016; any profile with --compatibility)",
    "destructive: uses up tries or changes reference data (refused on real cards unless allowed)",
    "pcsc: needs pcscd, vpcd and pyscard",
    "opensc: needs OpenSC tools talking to the emulator through pcscd",
    "capability(name): the capability group a suite checks (see CAPABILITIES; --suite selects groups)",
    "clause(text): the spec clause a test checks, shown in reports",
    "raw_transport: on PC/SC, the reader does not follow 61xx/6Cxx (the test checks them itself)",
)

CAPABILITIES = {
    "transport": "transport and APDU cases: lengths, 61xx/6Cxx, chaining, ATR",
    "selection": "SELECT by AID, FID and SFI",
    "reading": "READ BINARY and READ RECORD, contents and layouts",
    "pins": "PINs, passwords and PUK: VERIFY, CHANGE, counters, blocking",
    "access": "access control: every EF under every credential state",
    "signatures": "signatures, internal authentication and certificates",
    "secure-messaging": "PACE and secure messaging",
    "clients": "public clients' exact APDU sequences",
}
"""The capability groups of ``--suite`` and of the reports' summary table."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mynacard", "mynacard reader test harness")
    group.addoption(
        "--reader",
        default="virtual",
        help="reader for the conformance suites: 'virtual' (in process) or 'pcsc:NAME' (a PC/SC reader)",
    )
    group.addoption(
        "--profile",
        default="legacy-2016",
        help="card profile the suites run against: a shipped name or a TOML path (default: legacy-2016); "
        "suites written for another profile family are reported as not applicable",
    )
    group.addoption(
        "--compatibility",
        action="store_true",
        help="run today's client sequences against --profile whatever its family (a compatibility "
        "measurement: a failure says where that client stops on that card)",
    )
    group.addoption(
        "--allow-destructive",
        action="store_true",
        help="run tests that use up tries or change PINs on a real card (never needed for virtual or vpcd); "
        "needs --confirm-card with the fingerprint of the card's identity, which a first run prints",
    )
    group.addoption(
        "--confirm-card",
        metavar="FINGERPRINT",
        help="the identity fingerprint of the real card destructive tests may use (printed when missing)",
    )
    group.addoption(
        "--assume-real-card",
        action="store_true",
        help="treat a vpcd reader as a real card (rehearse a bench run: counter floor, refusals, identity)",
    )
    group.addoption(
        "--max-apdu-length",
        type=int,
        metavar="N",
        help="the longest command or response APDU the reader carries, in bytes (extended lengths are tested "
        "up to it); default: 65535 for virtual and vpcd readers (vpcd's frame), 261 (short APDUs) for others",
    )
    group.addoption(
        "--timing",
        action="store_true",
        help="emulated cards answer at the pace of the profile's [timing] class (exercise time-outs)",
    )
    group.addoption(
        "--suite",
        action="append",
        choices=sorted(CAPABILITIES),
        help="run only these capability groups (repeatable); default: all",
    )


def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    option = reader_option(config)
    if option != "virtual" and not option.startswith("pcsc:"):
        raise pytest.UsageError(f"--reader {option!r}: expected 'virtual' or 'pcsc:NAME'")
    if config.pluginmanager.hasplugin("html"):
        config.pluginmanager.register(HtmlReport(reader_option(config), config.getoption("--profile")))


def pytest_sessionstart(session: pytest.Session) -> None:
    """A real reader that is not there is one usage error, not an error in every test."""
    target = pcsc_target(session.config)
    if target is None or vpcd_slot_of(target) is not None:
        return
    problem = missing_reader(target)
    if problem:
        raise pytest.UsageError(f"--reader pcsc:{target}: {problem}")


def missing_reader(name: str) -> str | None:
    """Why the PC/SC reader ``name`` (exact or unique prefix) cannot be used, or None when it is there."""
    try:
        from mynacard.apdu.readers.pcsc import list_readers, resolve_reader_name
    except ImportError:
        return "PC/SC readers need pyscard (pip install 'mynacard[pcsc]')"
    try:
        resolve_reader_name(name, list_readers())
    except ReaderError as exc:
        return str(exc)
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--suite``: keep the tests of the chosen capability groups, deselect the rest."""
    chosen = config.getoption("--suite", default=None)
    if not chosen:
        return
    kept = [item for item in items if capability_of(item) in chosen]
    config.hook.pytest_deselected(items=[item for item in items if item not in kept])
    items[:] = kept


def capability_of(item: pytest.Item) -> str:
    marker = item.get_closest_marker("capability")
    return str(marker.args[0]) if marker else "other"


def clause_of(item: pytest.Item) -> str:
    marker = item.get_closest_marker("clause")
    return str(marker.args[0]) if marker else ""


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Suites of another profile family are not applicable to the card under test: skipped, said so. Every
    report carries the test's capability group and spec clause (JUnit properties, the HTML report)."""
    item.user_properties.append(("capability", capability_of(item)))
    if clause := clause_of(item):
        item.user_properties.append(("clause", clause))
    family = _profile_under_test(item.config).profile.family
    marker = item.get_closest_marker("applies_to")
    if marker is not None and family not in marker.args:
        pytest.skip(f"not applicable: checks {'/'.join(marker.args)} behaviour; the card is {family}")
    clients = item.get_closest_marker("client_sequences")
    if clients is not None and family != "legacy-2016" and not item.config.getoption("--compatibility"):
        pytest.skip(f"not applicable: today's client sequences on a {family} card (use --compatibility)")


def _profile_under_test(config: pytest.Config) -> Profile:
    cached = config.stash.get(_PROFILE_KEY, None)
    if cached is None:
        cached = load_profile(str(config.getoption("--profile", default="legacy-2016")))
        config.stash[_PROFILE_KEY] = cached
    return cached


_PROFILE_KEY = pytest.StashKey[Profile]()


@pytest.fixture(scope="session")
def profile_under_test(pytestconfig: pytest.Config) -> Profile:
    """The profile of ``--profile`` (validated)."""
    return _profile_under_test(pytestconfig)


@pytest.fixture(scope="session")
def profile_name(pytestconfig: pytest.Config) -> str:
    """``--profile`` as given: what ``make_card()`` and ``card`` personalise by default."""
    return str(pytestconfig.getoption("--profile"))


def reader_option(config: pytest.Config) -> str:
    return str(config.getoption("--reader", default="virtual"))


def pcsc_target(config: pytest.Config) -> str | None:
    """The reader name of ``--reader pcsc:NAME``, or None for other readers."""
    option = reader_option(config)
    return option.removeprefix("pcsc:") if option.startswith("pcsc:") else None


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


def unavailable(reason: str) -> NoReturn:
    """Skip with ``reason``; in CI fail instead, because CI must run the PC/SC tests."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: PC/SC tests must run)", pytrace=False)
    pytest.skip(reason)


def require_tools(*names: str) -> dict[str, str]:
    """Paths of command-line tools (e.g. OpenSC's); skip, or fail in CI, when one is missing."""
    found = {name: shutil.which(name) for name in names}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        unavailable(f"missing tools: {', '.join(missing)} (Debian package opensc)")
    return {name: path for name, path in found.items() if path is not None}


# -- cards --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def test_pki() -> TestPki:
    """One legacy-2016 TEST PKI for the whole session (its six RSA keys take about half a second)."""
    return TestPki.create()


@pytest.fixture(scope="session")
def test_pkis(test_pki: TestPki) -> Callable[[str], TestPki]:
    """``test_pkis(generation)``: one TEST PKI per hierarchy (``legacy-2016``, ``nextgen-2026``)."""
    made = {test_pki.generation: test_pki}

    def pki(generation: str) -> TestPki:
        if generation not in made:
            made[generation] = TestPki.create(generation=generation)
        return made[generation]

    return pki


@pytest.fixture(scope="session")
def card_templates(
    tmp_path_factory: pytest.TempPathFactory, test_pkis: Callable[[str], TestPki]
) -> Callable[[str, str], Path]:
    """Personalise each (profile, persona) once; tests get copies of the state directory."""
    made: dict[tuple[str, str], Path] = {}

    def template(profile: str, persona: str) -> Path:
        if (profile, persona) not in made:
            directory = tmp_path_factory.mktemp("template") / "card"
            generation = load_profile(profile).personalisation.pki
            open_card(profile, persona, directory, pki=test_pkis(generation))
            made[(profile, persona)] = directory
        return made[(profile, persona)]

    return template


@pytest.fixture
def card_state_factory(
    card_templates: Callable[[str, str], Path], tmp_path: Path, profile_name: str
) -> Callable[..., Path]:
    """A fresh copy of a personalised card's state directory for this test (default: ``--profile``'s)."""
    counter = iter(range(1000))

    def make(profile: str | None = None, persona: str = "default") -> Path:
        target = tmp_path / f"card{next(counter)}"
        shutil.copytree(card_templates(profile or profile_name, persona), target)
        return target

    return make


@pytest.fixture
def make_card(card_state_factory: Callable[..., Path]) -> CardFactory:
    """``make_card(profile=..., persona=...)``: a fresh, unpowered card of its own."""

    def make(profile: str | None = None, persona: str = "default") -> Card:
        return load_card(StateStore(card_state_factory(profile, persona)))

    return make


@pytest.fixture
def card(make_card: CardFactory) -> Card:
    """A fresh card of ``--profile`` (legacy-2016 by default) and the default TEST persona."""
    return make_card()


# -- readers ------------------------------------------------------------------------------------------------


@pytest.fixture
def reader_for(request: pytest.FixtureRequest) -> Iterator[Callable[[Card], Reader]]:
    """``reader_for(card)``: that card in the reader chosen by ``--reader``, powered and connected."""
    option = reader_option(request.config)
    _refuse_destructive_on_real_cards(request, option)
    opened: list[Reader] = []
    timing = _profile_under_test(request.config).timing if request.config.getoption("--timing") else None

    def connect(card: Card) -> Reader:
        timed = with_timing(card, timing, force=True) if timing is not None else card
        if option == "virtual":
            reader: Reader = VirtualReader(timed)
            reader.power_on()
        else:
            reader = request.getfixturevalue("pcsc_reader_for")(timed)
            if is_real_card(request.config):
                reader = _guard_real_card(request, reader)
        reader.add_observer(request.node.stash.setdefault(EXCHANGES, []).append)
        opened.append(reader)
        return reader

    yield connect
    for reader in opened:
        reader.close()


EXCHANGES = pytest.StashKey[list[Exchange]]()
"""Every exchange of a test's readers, secrets masked (the readers' observers mask before they see)."""


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A test's report carries its APDU trace, and a failure names the last exchange before it."""
    report: pytest.TestReport = yield
    exchanges = item.stash.get(EXCHANGES, [])
    if report.when == "call" and exchanges:
        trace = "\n".join(e.format() for e in exchanges)
        found: list[tuple[str, object]] = [("exchanges", len(exchanges)), ("trace", trace)]
        if report.failed:
            found.append(("failing_exchange", f"{len(exchanges)}: {exchanges[-1].format()}"))
        report.user_properties.extend(found)
        item.user_properties.extend(found)  # the teardown report carries them into JUnit
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """The counter floor's refusal is not a failure of the card: the test is reported as refused."""
    try:
        return (yield)
    except CounterFloorError as refused:
        pytest.skip(f"refused on a real card: {refused}")


def is_real_card(config: pytest.Config) -> bool:
    """A ``pcsc:`` reader that is not a vpcd slot holds a physical card (or is treated as one)."""
    target = pcsc_target(config)
    if target is None:
        return False
    return vpcd_slot_of(target) is None or bool(config.getoption("--assume-real-card"))


def _refuse_destructive_on_real_cards(request: pytest.FixtureRequest, option: str) -> None:
    """A destructive test could block a real card's PIN for good: it runs there only when asked to."""
    destructive = request.node.get_closest_marker("destructive") is not None
    if is_real_card(request.config) and destructive and not request.config.getoption("--allow-destructive"):
        pytest.skip(f"destructive test refused on the real card in {option}; pass --allow-destructive")


_CONFIRMED = pytest.StashKey[str]()


def _guard_real_card(request: pytest.FixtureRequest, reader: Reader) -> Reader:
    """On a real card: the identity confirmed once before a destructive test, and the counter floor always."""
    config = request.config
    if request.node.get_closest_marker("destructive") is not None and _CONFIRMED not in config.stash:
        identity = card_identity(reader, reader.atr)
        reader.reset()
        if config.getoption("--confirm-card") != identity.fingerprint:
            pytest.skip(
                f"destructive test refused on the real card in {reader.name}: its identity is not confirmed\n"
                f"{identity.describe()}\nrun again with --confirm-card {identity.fingerprint} if this is the "
                "card meant for it"
            )
        config.stash[_CONFIRMED] = identity.fingerprint
    return ProcessedReader(reader, [CounterFloor()])


@pytest.fixture
def reader(reader_for: Callable[[Card], Reader], card: Card) -> Reader:
    """The default card in the reader chosen by ``--reader``."""
    return reader_for(card)


# Opening a card parses its RSA keys (~0.2 s), so tests that change no persistent state (no wrong VERIFY,
# no CHANGE REFERENCE DATA) share one card per module. Every test still gets a freshly powered card from
# ``reader_for``, and the teardown checks that the test left both JPKI retry counters full.


@pytest.fixture(scope="module")
def shared_card(
    card_templates: Callable[[str, str], Path], tmp_path_factory: pytest.TempPathFactory, profile_name: str
) -> Card:
    directory = tmp_path_factory.mktemp("shared") / "card"
    shutil.copytree(card_templates(profile_name, "default"), directory)
    return load_card(StateStore(directory))


@pytest.fixture
def shared_reader(reader_for: Callable[[Card], Reader], shared_card: Card) -> Iterator[Reader]:
    """The module's shared card in the reader chosen by ``--reader``, powered afresh for this test."""
    from mynacard.apdu.applets.jpki import AUTH_PIN, JPKI_AID, SIGN_PASSWORD

    reader = reader_for(shared_card)
    yield reader
    reader.transmit(bytes((0x00, 0xA4, 0x04, 0x0C, len(JPKI_AID))) + JPKI_AID)
    for fid, full in ((AUTH_PIN, 0x63C3), (SIGN_PASSWORD, 0x63C5)):
        assert reader.transmit(bytes((0x00, 0x20, 0x00, 0x80 | fid))).sw == full, (
            "a read-only test used a try"
        )


VPCD_FRAME = 65535
"""vpcd frames are at most 65535 bytes (a response: 65533 data bytes and the SW; a command: 65528 bytes of
data after a 7-byte extended header), reference/pcsc-platform.md §7."""
SHORT_APDU = 261
"""The longest short APDU: header, Lc, 255 data bytes, Le (a short response is 256 + 2)."""


@pytest.fixture(scope="session")
def max_apdu_length(pytestconfig: pytest.Config) -> int:
    """``--max-apdu-length``, or what the reader is known to carry."""
    given = pytestconfig.getoption("--max-apdu-length")
    if given is not None:
        return int(given)
    return SHORT_APDU if is_real_card(pytestconfig) else VPCD_FRAME


# -- PC/SC ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pcsc_stack(request: pytest.FixtureRequest) -> Iterator[PcscStack]:
    """pcscd + vpcd + a bridge on the ``--reader`` vpcd slot (slot 0 when ``--reader`` names no vpcd slot)."""
    target = pcsc_target(request.config)
    slot = vpcd_slot_of(target) if target else None
    stack = PcscStack(slot or 0)
    try:
        stack.start()
    except PcscSetupError as exc:
        reason = f"PC/SC stack: {exc}"
        if stack.daemon.owned:
            reason += f"\npcscd log (tail):\n{stack.daemon.log_text()}"
        stack.close()
        unavailable(reason)
    yield stack
    stack.close()


@pytest.fixture
def pcsc_reader_for(request: pytest.FixtureRequest) -> Iterator[PcscReaderFactory]:
    """``pcsc_reader_for(card)``: a connected ``PcscReader`` on the ``--reader pcsc:NAME`` reader.

    A vpcd reader gets ``card`` inserted first (fresh per test, no restart); a real reader ignores ``card``.
    Readers are closed (card unpowered) after the test.
    """
    from mynacard.apdu.readers.pcsc import PcscReader
    from mynacard.apdu.readers.vpcd import reader_name

    target = pcsc_target(request.config) or reader_name(0)
    opened: list[PcscReader] = []

    def connect(card: SoftCard) -> PcscReader:
        name = target
        if vpcd_slot_of(target) is not None:
            stack: PcscStack = request.getfixturevalue("pcsc_stack")
            stack.insert(card)
            name = stack.reader_name
        # a transport suite sees the card's own 61 xx / 6C xx; every other test gets them followed
        raw = request.node.get_closest_marker("raw_transport") is not None
        reader = PcscReader(name, host_processing=not raw)
        opened.append(reader)
        reader.power_on()
        return reader

    yield connect
    for reader in opened:
        reader.close()
