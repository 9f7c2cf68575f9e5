#!/usr/bin/env bash
# Set up everything (PC/SC stack included), then lint, type-check and run every test: the whole suite
# on the in-process virtual reader, then the conformance suite again through pcscd + vpcd.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tools/dev/setup.sh --pcsc

status=0
step() {
    echo "== $*"
    "$@" || status=1
}
step .venv/bin/ruff check .
step .venv/bin/ruff format --check .
step .venv/bin/mypy
step .venv/bin/python -m pytest -q
step .venv/bin/python -m pytest -q tests/conformance --reader "pcsc:Virtual PCD 00 00"
exit $status
