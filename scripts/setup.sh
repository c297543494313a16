#!/usr/bin/env bash
# One-time (idempotent) setup on a fresh Debian/Ubuntu machine: system packages, npm packages,
# the whisper.cpp native addon (cached), the TypeScript build and the generated test models.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v ffmpeg >/dev/null || need+=(ffmpeg)
command -v redis-server >/dev/null || need+=(redis-server)
# the Sentinel e2e (Redis high availability) runs three sentinels
command -v redis-sentinel >/dev/null || need+=(redis-sentinel)
command -v cmake >/dev/null || need+=(cmake)
command -v g++ >/dev/null || need+=(g++)
command -v make >/dev/null || need+=(make)
# the tests make speech with espeak-ng and measure it with sox
command -v espeak-ng >/dev/null || need+=(espeak-ng)
command -v sox >/dev/null || need+=(sox)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "[setup] installing ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "[setup] missing system packages: ${need[*]} (install them, e.g. sudo apt-get install ${need[*]})" >&2
    exit 1
  fi
fi

# onnxruntime-node would fetch CUDA binaries at install; the CPU build ships in the package
export ONNXRUNTIME_NODE_INSTALL=skip
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[setup] installing npm packages"
  npm ci --no-audit --no-fund
fi
npm run build:native
npm run build
node dist/scripts/make-fixtures.js
echo "[setup] done"
