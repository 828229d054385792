#!/usr/bin/env bash
# Installs what the tests and the demo need, on a fresh Debian machine or a developer's one.
# Idempotent: skips what is already there. Used by `npm test`/`npm run demo` (pre-scripts) and .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

want_apt=1
[ "${1:-}" = "--no-apt" ] && want_apt=0

# Test peers from Debian: a real MQTT broker, ffmpeg for RTSP, GStreamer's RTSP server, Chromium for the dashboard test,
# Aravis (GenICam cameras and its simulated GigE Vision camera), pymodbus (an independent Modbus TCP server) and
# pyserial-asyncio, which pymodbus.server imports (Debian only recommends it; installs pull python3-serial).
APT_PACKAGES=(mosquitto ffmpeg python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-ugly gstreamer1.0-libav chromium aravis-tools gir1.2-aravis-0.8 libaravis-0.8-0 python3-pymodbus
  python3-serial-asyncio)
if [ "$want_apt" = 1 ]; then
  missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    echo "setup: installing Debian packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

# onnxruntime-node: its CPU binaries ship in the package; skip the CUDA download (no network here).
export ONNXRUNTIME_NODE_INSTALL_CUDA=skip ONNXRUNTIME_NODE_INSTALL=skip
# `npm install` with the committed lock rather than `npm ci`: this npm (11.19) writes locks that omit the
# other platforms' optional packages (rollup's), which `npm ci` then refuses as out of sync. `npm install`
# installs exactly the locked versions all the same.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm install (locked versions)"
  npm install --no-audit --no-fund
fi
