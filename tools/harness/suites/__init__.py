"""The conformance suites: they drive a card only through ``reader.transmit(bytes) -> ResponseApdu``.

Rule 5 of the architecture: one suite, many readers. Nothing here knows whether the reader is the
in-process ``VirtualReader`` (``--reader virtual``, the default) or a PC/SC reader (``--reader pcsc:NAME``),
so every test runs unchanged on both. They ship in the wheel: ``pytest --pyargs mynacard.tools.harness.suites
--reader virtual`` runs them from an installed package; the fixtures come from the ``mynacard`` pytest plugin
(``mynacard.tools.harness.plugin``). Tests that assert raw ``61xx``/``6Cxx``, power or reset semantics, or
card internals live in the repository's unit tests instead.
"""
