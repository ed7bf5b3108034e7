#!/usr/bin/env bash
# System packages the project needs. Run by `make install`: as root on Debian/Ubuntu it installs what is missing;
# otherwise it names exactly what is missing and how to install it, and fails only for what the build cannot lack.
set -euo pipefail

# Needed to build: msgfmt compiles the translation catalogues (.mo files are not committed).
REQUIRED=(gettext)
# Needed at run time for full output: fonts for captions in Latin, CJK and Arabic (RTL shaping through raqm),
# Chromium for the browser tests in tests/e2e (Playwright drives Debian's build; it downloads no browser).
RECOMMENDED=(fonts-noto-core fonts-noto-cjk fonts-dejavu-core libraqm0 chromium)

if ! command -v dpkg-query >/dev/null 2>&1; then
  command -v msgfmt >/dev/null 2>&1 || {
    echo "Missing: msgfmt (GNU gettext). Install gettext with your package manager." >&2
    exit 1
  }
  echo "Not a Debian system: make sure these (or their equivalents) are installed: ${RECOMMENDED[*]}" >&2
  exit 0
fi

missing_required=()
missing_recommended=()
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for p in "${REQUIRED[@]}"; do installed "$p" || missing_required+=("$p"); done
for p in "${RECOMMENDED[@]}"; do installed "$p" || missing_recommended+=("$p"); done
missing=("${missing_required[@]}" "${missing_recommended[@]}")
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing system packages: ${missing[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi

if [ ${#missing_recommended[@]} -gt 0 ]; then
  echo "Missing system packages (recommended): ${missing_recommended[*]}" >&2
  echo "  without them captions fall back to Pillow's default font and the browser tests (tests/e2e) cannot run." >&2
  echo "  install: sudo apt-get install --no-install-recommends ${missing_recommended[*]}" >&2
fi
if [ ${#missing_required[@]} -gt 0 ]; then
  echo "Missing system packages (required): ${missing_required[*]}" >&2
  echo "  install: sudo apt-get install --no-install-recommends ${missing_required[*]}" >&2
  exit 1
fi
