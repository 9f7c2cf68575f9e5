"""Content builders of the residence cards (在留カード等, residence-card.md §3): both generations.

The profile's ``[residence] generation`` picks the layout; the TEST anchor ``ZairyuCard-TEST`` of that
generation certifies each card's signing key (``residence_pki``). The persona needs a ``[residence]``
table; the SPRC (特別永住者証明書) leaves out the DF2 files it does not have.
"""

from __future__ import annotations

from collections.abc import Mapping

from mynacard.emulator.issuance.builders.registry import BuildError, BuildInput, register
from mynacard.emulator.issuance.records import residence
from mynacard.emulator.issuance.residence_pki import load_anchor

_GEN1 = [
    "residence.front_image",
    "residence.face_image",
    "residence.address",
    "residence.activity_permission",
    "residence.individual_permission",
    "residence.renewal",
]
_GEN2 = [
    "residence2.card_number",
    "residence2.printed_entries",
    "residence2.name_and_face",
    "residence2.address_image",
    "residence2.activity_permission",
    "residence2.renewal",
    "residence2.other",
]
_COMMON = ["residence.card_type", "residence.card_number_key", "residence.signature"]


@register("residence", _COMMON + _GEN1 + _GEN2, pki=False)
def _residence(given: BuildInput) -> Mapping[str, bytes]:
    """Every EF of the card's generation, signed under the generation's TEST anchor."""
    options = given.options.residence
    if options is None:
        raise BuildError("content builder 'residence' needs the profile's [residence] table")
    persona = given.need_persona("residence")
    try:
        anchor = load_anchor(options.generation)
        if options.generation == "gen1":
            return residence.gen1_contents(persona, anchor, options)
        return residence.gen2_contents(persona, anchor, options)
    except residence.ResidenceRecordError as error:
        raise BuildError(f"content builder 'residence': {error}") from None
