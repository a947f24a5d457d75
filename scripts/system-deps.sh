#!/usr/bin/env bash
# Install the Debian packages the tests need: PortAudio (sounddevice's C library),
# espeak-ng (spoken test audio; also the emulator's voice if the espeakng-loader wheel of
# the speech extra is missing), sox (audio conversion) and chromium (the browser tests,
# driven by Playwright with executable_path=/usr/bin/chromium). Root only; anyone else
# is told the command to run.
set -euo pipefail
pkgs=(libportaudio2 espeak-ng sox chromium)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
    echo "system-deps: not a Debian/Ubuntu machine; install PortAudio, espeak-ng and sox with your package manager" >&2
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "system-deps: missing ${missing[*]}; run: sudo apt-get install ${missing[*]}" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "system-deps: installed ${missing[*]}"
