#!/usr/bin/env bash
# System packages camgate and its tests need (Debian bookworm). Idempotent: installs only what is missing.
#  ffmpeg / ffprobe        video pull, probe, transcode (and the tests' stream checks)
#  GStreamer RTSP server    real RTSP streams for the camera simulator (python3 GI bindings)
#  python3-gi-cairo        the simulator's clock picture (a bar code of the wall clock, for latency benchmarks)
#  onvif-tools              a second, independent ONVIF client to check the simulator against
#  iproute2                 network namespaces for the multicast discovery tests
#  mosquitto, openssl       a real broker (plain, TLS, mTLS, ACL) for the uplink tests
#  chromium                headless browser for the live view page tests (driven by playwright-core)
#  fonts-wqy-microhei      a Chinese font, so the printable reports render their headings in that browser
#  libnss3-tools           certutil: a test CA trusted by that browser (the page over TLS)
#  nginx-light, libnginx-mod-rtmp  an RTMP media server acting as the centre in the relay tests
#  postgresql              the central's PostgreSQL mode (tests make a database per run on 127.0.0.1:5432)
#  lomiri-wallpapers-16.04  real photographs (16 MB, CC-BY/CC0) for the test of the field-like picture set's builder;
#                          the whole set's sources are installed by scripts/picture-sources.sh (~1 GB, benchmark only)
set -euo pipefail
pkgs=(python3-gi-cairo ffmpeg gir1.2-gst-rtsp-server-1.0 python3-gst-1.0 gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly
      gstreamer1.0-plugins-bad gstreamer1.0-libav gstreamer1.0-rtsp gstreamer1.0-tools onvif-tools iproute2
      mosquitto mosquitto-clients openssl nginx-light libnginx-mod-rtmp chromium fonts-wqy-microhei libnss3-tools postgresql lomiri-wallpapers-16.04)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
ensure_postgres() {
  # The tests connect as postgres to 127.0.0.1:5432 without a password (trust, as on the CI machines).
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then return 0; fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: PostgreSQL does not answer on 127.0.0.1:5432; start it (pg_ctlcluster <version> main start)" >&2
    return 1
  fi
  local version
  version=$(ls /etc/postgresql | sort -V | tail -1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  if ! psql -h 127.0.0.1 -U postgres -d postgres -Atc 'select 1' >/dev/null 2>&1; then
    # A fresh cluster asks for passwords over TCP: let loopback in, as the tests expect.
    sed -i '1i host all all 127.0.0.1/32 trust' "/etc/postgresql/$version/main/pg_hba.conf"
    pg_ctlcluster --skip-systemctl-redirect "$version" main reload
  fi
}

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all system packages present"
  ensure_postgres
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing ${missing[*]}; run as root or: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
ensure_postgres
