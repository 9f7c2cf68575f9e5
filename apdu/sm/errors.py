"""Typed errors of secure messaging and PACE, each carrying the status word the card answers.

ISO/IEC 7816-4 (status bytes; secure messaging §10): ``69 87`` expected SM data objects missing, ``69 88``
SM data objects incorrect (a MAC failure included). BSI TR-03110-3 (ISO 7816 mapping) for PACE: ``69 85``
conditions of use not satisfied (a step out of order or repeated), ``6A 80`` incorrect data (a malformed or
invalid data object, a point not on the curve), ``63 00`` authentication failed (a wrong token, i.e. a wrong
password), ``6A 88`` referenced data not found (an unknown password reference). Messages never contain keys
or passwords.
"""

from __future__ import annotations

from mynacard.apdu.status import SW


class SecureMessagingError(Exception):
    """Base of every SM and PACE error; ``sw`` is the status word the card must answer."""

    sw: int = SW.NO_PRECISE_DIAGNOSIS

    def __init__(self, reason: str, *, sw: int | None = None) -> None:
        super().__init__(reason)
        if sw is not None:
            self.sw = sw


class SmObjectsMissingError(SecureMessagingError):
    """Expected SM data objects missing (``69 87``), e.g. no ``8E`` MAC or no ``99`` status object.

    On the terminal side ``card_sw`` is the plain status word of a response that carried no SM objects.
    """

    sw = SW.SM_DATA_OBJECTS_MISSING

    def __init__(self, reason: str, *, card_sw: int | None = None) -> None:
        super().__init__(reason)
        self.card_sw = card_sw


class SmObjectsIncorrectError(SecureMessagingError):
    """SM data objects incorrect (``69 88``): ill-formed or unexpected objects, bad padding, a wrong MAC."""

    sw = SW.SM_DATA_OBJECTS_INCORRECT


class SmSessionClosedError(SmObjectsIncorrectError):
    """The session ended after an earlier SM error; its keys are no longer used (``69 88``)."""


class PaceError(SecureMessagingError):
    """Base of the PACE errors (ICAO Doc 9303-11 §4.4, BSI TR-03110-2)."""


class PaceStateError(PaceError):
    """A step out of order, repeated, or after the protocol ended (``69 85``)."""

    sw = SW.CONDITIONS_OF_USE_NOT_SATISFIED


class PaceDataError(PaceError):
    """Malformed or invalid PACE data: bad TLV, a zero-length or oversized object, a bad point (``6A 80``)."""

    sw = SW.WRONG_DATA


class PaceReferenceError(PaceError):
    """An unknown password reference in MSE:Set AT (``6A 88``, referenced data not found)."""

    sw = SW.DATA_NOT_FOUND


class PaceAuthenticationError(PaceError):
    """The other side's authentication token did not verify: a wrong password (``63 00``).

    The card replaces ``63 00`` by ``63 Cx`` with the retry counter of the password's credential.
    """

    sw = SW.NO_RETRY_LIMIT


class PaceRefusedError(PaceError):
    """The chip answered a PACE step with an error status word (kept in ``sw``, e.g. ``63 C2``)."""
