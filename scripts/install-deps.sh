#!/usr/bin/env bash
# System packages camgate and its tests need (Debian bookworm). Idempotent: installs only what is missing.
#  ffmpeg / ffprobe        video pull, probe, transcode (and the tests' stream checks)
#  GStreamer RTSP server    real RTSP streams for the camera simulator (python3 GI bindings)
#  python3-gi-cairo        the simulator's clock picture (a bar code of the wall clock, for latency benchmarks)
#  onvif-tools              a second, independent ONVIF client to check the simulator against
#  iproute2                 network namespaces for the multicast discovery tests
#  mosquitto, openssl       a real broker (plain, TLS, mTLS, ACL) for the uplink tests
#  chromium                headless browser for the live view page tests (driven by playwright-core)
#  libnss3-tools           certutil: a test CA trusted by that browser (the page over TLS)
#  nginx-light, libnginx-mod-rtmp  an RTMP media server acting as the centre in the relay tests
set -euo pipefail
pkgs=(python3-gi-cairo ffmpeg gir1.2-gst-rtsp-server-1.0 python3-gst-1.0 gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly
      gstreamer1.0-plugins-bad gstreamer1.0-libav gstreamer1.0-rtsp gstreamer1.0-tools onvif-tools iproute2
      mosquitto mosquitto-clients openssl nginx-light libnginx-mod-rtmp chromium libnss3-tools)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all system packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing ${missing[*]}; run as root or: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
