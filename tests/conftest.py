"""The repository's unit tests. Readers, cards and the ``--reader`` option come from the ``mynacard``
pytest plugin (``mynacard.tools.harness.plugin``), which the installed package registers."""
