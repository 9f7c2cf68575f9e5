#!/usr/bin/env bash
# The main job: set up, then personalise a card and run a JPKI flow on the virtual reader.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tools/dev/setup.sh
exec .venv/bin/mynacard demo "$@"
