#!/usr/bin/env bash
# Install the Debian packages the PC/SC tests need: pcscd, vsmartcard's vpcd, OpenSC, and what pyscard's
# sdist build needs (pcsc-lite headers, swig, gcc, Python headers); and OpenPACE (libeac) with the OpenSSL
# headers its own headers include (libeac-dev does not depend on libssl-dev), for the PACE interoperability
# test that builds tools/dev/openpace/pace_peer.c. Idempotent: returns at once when all are installed.
# Needs root (or sudo). Recommends are skipped: they pull in vpicc and a GTK stack.
set -euo pipefail

packages=(pcscd vsmartcard-vpcd opensc libpcsclite-dev swig gcc python3-dev libeac3 libeac-dev libssl-dev)

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q '^install ok installed$'; then
        missing+=("$package")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "pcsc-packages: all installed (${packages[*]})"
    exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    sudo=(sudo)
fi
echo "pcsc-packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}"
