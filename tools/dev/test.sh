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
.venv/bin/python tools/dev/pathmap.py 2>/dev/null  # the mynacard.* tree mypy reads (see pyproject.toml)
step .venv/bin/mypy
step env PYTHONPATH=build/pathmap .venv/bin/lint-imports --no-cache
step .venv/bin/python -m pytest -q
# the shipped suites as a user runs them: `mynacard test`, with its reports under build/reports
mkdir -p build/reports
for profile in nextgen-2026 residence-gen1 residence-gen2; do
    step .venv/bin/mynacard test --profile "$profile" --junit "build/reports/$profile-virtual.xml"
done
for profile in legacy-2016 nextgen-2026; do
    step .venv/bin/mynacard test --profile "$profile" --reader "pcsc:Virtual PCD 00 00" \
        --junit "build/reports/$profile-pcsc.xml" --html "build/reports/$profile-pcsc.html"
done
exit $status
