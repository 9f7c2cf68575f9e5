"""The compatibility table of profiles/nextgen-2026.md is what the card does now (issue 9, item 7).

Today's golden client sequences are measured against legacy-2016 (all pass: the suite is today's card's),
nextgen-2026 and nextgen-2026-aliases; the generated part of the document must match the measurement.
``MYNACARD_REGENERATE=1`` rewrites it instead (then read the diff: it is the change in compatibility).
"""

from __future__ import annotations

import os
from pathlib import Path

from mynacard.tools.harness import compat

DOCUMENT = Path(__file__).resolve().parents[1] / "profiles" / "nextgen-2026.md"


def test_the_compatibility_table_is_current() -> None:
    outcomes = [o for profile in compat.DOC_PROFILES for o in compat.measure(profile)]
    legacy = [o for o in outcomes if o.profile == "legacy-2016"]
    assert legacy and all(o.passed for o in legacy), [o.sequence for o in legacy if not o.passed]
    assert {o.client for o in outcomes} == set(compat.CLIENTS.values())
    text = DOCUMENT.read_text(encoding="utf-8")
    expected = compat.rewrite_section(text, compat.document_section(outcomes, compat.DOC_PROFILES))
    if os.environ.get("MYNACARD_REGENERATE") == "1":
        DOCUMENT.write_text(expected, encoding="utf-8")
    assert text == expected, (
        "profiles/nextgen-2026.md is stale: run with MYNACARD_REGENERATE=1 and read the diff"
    )
