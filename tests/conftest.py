"""The repository's unit tests. Readers, cards and the ``--reader`` option come from the ``mynacard``
pytest plugin (``mynacard.tools.harness.plugin``), which the installed package registers; the one
fixture here is the headless browser that opens the HTML reports."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from mynacard.tools.harness.plugin import unavailable


@pytest.fixture
def chromium() -> Iterator[Any]:
    """Headless Chromium through selenium (the dev extra and Debian's chromium, chromium-driver)."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        unavailable("selenium is missing (pip install -e '.[dev]')")
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if browser is None or driver is None:
        unavailable("chromium or chromedriver is missing (Debian packages chromium, chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1400"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    session = webdriver.Chrome(options=options, service=Service(driver))
    yield session
    session.quit()
