#!/usr/bin/env bash
# Installs what warren needs from the system (Debian/Ubuntu, as root), then the npm packages.
# Idempotent: packages already present are not installed again.
set -euo pipefail
cd "$(dirname "$0")/../.."

need=()
command -v ip >/dev/null || need+=(iproute2)
command -v unshare >/dev/null && command -v nsenter >/dev/null && command -v setpriv >/dev/null || need+=(util-linux)
command -v mount >/dev/null || need+=(mount)
command -v hostname >/dev/null || need+=(hostname)
command -v ps >/dev/null || need+=(procps)
command -v nft >/dev/null || need+=(nftables)
# The service launcher (sdk/drivers/launcher/launch.c) is compiled on this machine.
command -v cc >/dev/null && [ -e /usr/include/stdio.h ] || need+=(gcc libc6-dev)

if ((${#need[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "warren needs ${need[*]}; run this script as root (or: sudo apt-get install ${need[*]})" >&2
    exit 1
  fi
  echo "installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

node -e 'const [major] = process.versions.node.split(".").map(Number); if (major < 20) { console.error(`warren needs Node 20 or newer, this is ${process.version}`); process.exit(1); }'
npm ci --no-fund --no-audit --loglevel=error
# Compile the service launcher now rather than at the first `up`.
node --import tsx --input-type=module -e "await (await import('./sdk/drivers/launcher.ts')).launcherPath()"
