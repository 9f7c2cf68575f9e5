"""Coverage-guided fuzzing of ``Card.process`` with atheris (issue 8, item 9).

* ``harness``: the input format (a length-prefixed list of APDUs, warm resets and power cycles), the card
  every input starts from, and the invariants checked after every APDU.
* ``seeds``: the seed corpus, generated from a profile, a persona and the host-side constants of
  ``mynacard.apdu.applets``.
* ``target``: the atheris entry point, run as a script with libFuzzer's flags.
* ``runner``: starting the target in a subprocess and reading libFuzzer's output (for the CI test
  ``tests/test_fuzz_card.py`` and the campaign ``bench/fuzz_card.py``).

Nothing here imports atheris except ``target``, so the seeds and the harness also run uninstrumented.
"""
