#!/usr/bin/env bash
# Debian packages that ship the real photographs and videos of the field-like picture set
# (scripts/bench/field-set.ts, `npm run bench:field-set`): every package named in the set's
# manifest, scripts/bench/field-set/sources.tsv. Idempotent: installs only what is missing.
#
# Not part of scripts/install-deps.sh: together they are ~1 GB installed (opencv-doc alone is
# 274 MB, for vtest.avi, the only real fixed-CCTV footage packaged; visp-images-data 225 MB,
# libjxl-testdata 111 MB) and only the benchmark needs them. CI's test of the set builder uses
# lomiri-wallpapers-16.04 (16 MB), which install-deps.sh installs.
#
#   scripts/picture-sources.sh           install what is missing (as root), or say what to run
#   scripts/picture-sources.sh --list    print the packages and whether each is installed
set -euo pipefail
manifest="$(dirname "$0")/bench/field-set/sources.tsv"
mapfile -t pkgs < <(tail -n +2 "$manifest" | cut -f3 | sort -u)
missing=()
for p in "${pkgs[@]}"; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    [ "${1:-}" = --list ] && echo "installed  $p"
  else
    [ "${1:-}" = --list ] && echo "missing    $p"
    missing+=("$p")
  fi
done
[ "${1:-}" = --list ] && exit 0
if [ ${#missing[@]} -eq 0 ]; then
  echo "picture-sources: all ${#pkgs[@]} packages of $manifest present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "picture-sources: missing ${missing[*]}; run as root or: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
echo "picture-sources: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
