#!/usr/bin/env bash
# System packages the project needs: installed when running as root on Debian, otherwise listed.
set -euo pipefail
PACKAGES=(fonts-noto-core fonts-noto-cjk fonts-dejavu-core libraqm0)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing system packages: ${missing[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "Missing system packages (install them with your package manager): ${missing[*]}" >&2
  echo "Continuing: fonts only affect captions, which fall back to Pillow's default font." >&2
fi
