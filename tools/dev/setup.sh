#!/usr/bin/env bash
# Set up everything mynacard needs on Debian 12: system packages (CJK font for the card-face images;
# with --pcsc also pcscd, vpcd, OpenSC and pyscard's build dependencies) and a venv at .venv with the
# package installed editable with its extras. Idempotent and quiet when nothing is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."

with_pcsc=0
for arg in "$@"; do
    case "$arg" in
        --pcsc) with_pcsc=1 ;;
        *) echo "usage: $0 [--pcsc]" >&2; exit 2 ;;
    esac
done

apt_install() {
    local missing=()
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=()
    [ "$(id -u)" -ne 0 ] && sudo=(sudo)
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

apt_install fonts-ipafont-gothic fontconfig
if [ "$with_pcsc" -eq 1 ]; then
    bash tools/dev/pcsc-packages.sh
    # the full test run also opens `mynacard test --html` reports in headless Chromium through its driver
    apt_install chromium chromium-driver
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
extras="dev"
[ "$with_pcsc" -eq 1 ] && extras="dev,pcsc"
log=$(mktemp)
if ! .venv/bin/python -m pip install --disable-pip-version-check -q -e ".[${extras}]" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "setup: pip install failed" >&2
    exit 1
fi
rm -f "$log"
echo "setup: ready (.venv, extras: ${extras})"
