#!/usr/bin/env bash
# The Debian programs Engram uses beside its Python packages, installed with apt-get when missing (as root, or
# with sudo when there is one). Called by scripts/setup.sh; quick when everything is there.
#   runtime: tesseract-ocr (+ English) reads the text in pictures. Speech needs nothing here: PyAV's wheel
#            carries its own FFmpeg libraries.
#   dev:     + espeak-ng, opus-tools, ffmpeg and fonts-dejavu-core, which make the spoken clips and rendered
#            pictures of the tests and bench-voice, and Tesseract's German, French, Spanish and Russian.
# Without apt-get (another system) it only says what to install.
set -euo pipefail
DEPS="${1:-dev}"

packages=(tesseract-ocr tesseract-ocr-eng)
programs=(tesseract)
if [ "$DEPS" = "dev" ]; then
    packages+=(espeak-ng opus-tools ffmpeg fonts-dejavu-core tesseract-ocr-deu tesseract-ocr-fra tesseract-ocr-spa
               tesseract-ocr-rus)
    programs+=(espeak-ng opusenc ffmpeg)
fi

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null; then
    for program in "${programs[@]}"; do
        command -v "$program" >/dev/null || echo "engram: please install $program (Debian: ${packages[*]})" >&2
    done
    exit 0
fi
run=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then run=(sudo -n); else
        echo "engram: not root and no sudo: please install ${missing[*]}" >&2
        exit 0
    fi
fi
echo "engram: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! { "${run[@]}" apt-get update -q >/dev/null && \
       "${run[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }; then
    # Not fatal: Engram runs without them (pictures kept by caption); the tests that need them say what is missing.
    echo "engram: could not install ${missing[*]} with apt-get: please install them" >&2
fi
