#!/usr/bin/env bash
# Installs what warren needs from the system (Debian/Ubuntu, as root), then the npm packages.
# Idempotent: what is already present is not installed or written again.
set -euo pipefail
cd "$(dirname "$0")/../.."

# Debian packages by name, not by `command -v`: a machine that happens to have a tool from
# elsewhere would hide a package that a fresh machine lacks (.ci/fresh-root.sh proves the list).
#   iproute2: ip   util-linux: unshare, nsenter, setpriv   mount: mount, umount
#   hostname, procps: ps   nftables: nft   gcc, libc6-dev: the service launcher (sdk/drivers/launcher/launch.c)
PACKAGES=(iproute2 util-linux mount hostname procps nftables gcc libc6-dev)
# The second example (recipes/shop.env.ts) runs Debian's own servers; WARREN_SETUP_STACK=0 skips them.
#   postgresql: PostgreSQL 15 (initdb, postgres, psql)   redis-server: Redis 7   nginx-light: nginx
[ "${WARREN_SETUP_STACK:-1}" = 0 ] || PACKAGES+=(postgresql redis-server nginx-light)
# chromium: the web view's browser test (test/ui); not needed to run warren. WARREN_SETUP_BROWSER=0 skips it.
[ "${WARREN_SETUP_BROWSER:-1}" = 0 ] || PACKAGES+=(chromium)

fail() {
  echo "warren setup: $*" >&2
  exit 1
}

# Runs one step with its output kept aside; on failure says which step and shows the end of its output.
step() {
  local name=$1 log status=0
  shift
  echo "warren setup: $name" >&2
  log=$(mktemp)
  "$@" >"$log" 2>&1 || status=$?
  if ((status)); then
    echo "warren setup: $name failed (exit $status); the last lines of its output:" >&2
    tail -n 30 "$log" | sed 's/^/  /' >&2
    rm -f "$log"
    exit "$status"
  fi
  rm -f "$log"
}

is_root() { [ "$(id -u)" -eq 0 ]; }

installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }

command -v node >/dev/null || fail "node is not installed: warren needs Node 20 or newer"
node -e 'const [major] = process.versions.node.split(".").map(Number); if (major < 20) { console.error(`warren setup: warren needs Node 20 or newer, this is ${process.version}`); process.exit(1); }'
command -v dpkg-query >/dev/null || fail "dpkg-query not found: this script installs with apt on Debian/Ubuntu; elsewhere install the equivalents of: ${PACKAGES[*]}"

need=()
for package in "${PACKAGES[@]}"; do installed "$package" || need+=("$package"); done
if ((${#need[@]})); then
  is_root || fail "warren needs the Debian packages ${need[*]}; run this script as root (or: sudo apt-get install ${need[*]})"
  export DEBIAN_FRONTEND=noninteractive
  step "apt-get update" apt-get update
  step "apt-get install ${need[*]}" apt-get install -y --no-install-recommends "${need[@]}"
  for package in "${need[@]}"; do installed "$package" || fail "apt-get reported success but $package is not installed (dpkg-query: $(dpkg-query -W -f='${Status}' "$package" 2>&1))"; done
fi

# Every service gets /etc/hosts bind-mounted over the machine's; a minimal root has none.
if [ ! -e /etc/hosts ]; then
  [ -L /etc/hosts ] && fail "/etc/hosts is a symbolic link to a missing file ($(readlink /etc/hosts)); warren needs /etc/hosts to exist: fix the link or remove it and run this script again"
  is_root || fail "/etc/hosts is missing and warren needs it; run this script as root to create the standard one"
  hosts=$(mktemp /etc/.hosts.XXXXXX)
  printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n' >"$hosts"
  chmod 0644 "$hosts"
  # Renamed into place: never writes through a link that appeared meanwhile.
  mv -T "$hosts" /etc/hosts
  echo "warren setup: /etc/hosts was missing; created the standard one (localhost for 127.0.0.1 and ::1)" >&2
fi

# tsx keeps root's compiled recipes in $TMPDIR/tsx-0 and loads them without checking who owns it.
if is_root; then bash sdk/setup/tsx-cache.sh "${TMPDIR:-/tmp}/tsx-0" || fail "tsx's compile cache is not safe for root (see above)"; fi

step "npm ci" npm ci --no-fund --no-audit --loglevel=error
# Compile the service launcher now rather than at the first `up`.
# tsx without its cache: it keeps one in $TMPDIR/tsx-<uid> without checking who owns it.
step "building the service launcher" env TSX_DISABLE_CACHE=1 node --import tsx --input-type=module -e "await (await import('./sdk/drivers/launcher.ts')).launcherPath()"
# What this machine lacks for `up`, with a fix for each problem (exit 1 when up cannot work).
node sdk/cli/bin.cjs doctor || fail "warren doctor: up cannot work on this machine yet; fix the FAIL lines above and run npm run setup again"
echo "warren setup: done" >&2
