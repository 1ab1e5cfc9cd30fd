#!/usr/bin/env bash
# The fresh-root check: the README's first command on a minimal Debian 12, so a package that
# `npm run setup` forgets fails CI even on a machine that already has it.
#
# Builds a minbase bookworm root with debootstrap (under .ci/fresh-root.cache, for this run
# only), gives it this machine's Node 20 and the project's git-tracked files, and enters it
# as the real root of a private mount namespace (unshare -m + pivot_root: a chroot would
# break `ip -n` and `nsenter --mount`). Inside (.ci/fresh-root-check.sh): `npm run setup`,
# `up --detach`, curl every service's /health, `down`, and nothing may be left. Whatever
# happens, everything is unmounted, killed and removed at the end; a failure exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
work=$repo/.ci/fresh-root.cache
root=$work/root
logs=$work/logs
mirror=${FRESH_ROOT_MIRROR:-http://deb.debian.org/debian}
# The check's instance: its own name, so its host link never meets one of another run.
instance=fresh-$$
env_name=checkout
host_if=wr$(printf '%s' "$env_name.$instance" | sha256sum | cut -c1-10)
# Typically about a minute; bounded so that a hang fails CI well within its 15 minutes.
timeout_s=${FRESH_ROOT_TIMEOUT:-480}
started=$SECONDS

say() { echo "fresh-root [+${SECONDS}s]: $*" >&2; }

die() {
  say "FAILED: $*"
  exit 1
}

# Runs one step with its output in a log; on failure names the step and shows the end of the log.
step() {
  local name=$1 log status=0
  shift
  log=$logs/$(printf '%s' "$name" | tr -c 'a-zA-Z0-9' '-').log
  say "$name"
  "$@" >"$log" 2>&1 || status=$?
  if ((status)); then
    say "FAILED: $name (exit $status); the last lines of its output:"
    tail -n 40 "$log" | sed 's/^/  /' >&2
    exit "$status"
  fi
}

# Processes of this check: those in its mount namespace and any carrying its marker or instance.
# One find and one grep over /proc: a loop of a process per pid takes seconds on a busy machine.
check_pids() {
  local ns=''
  [ -s "$work/mnt-ns" ] && ns=$(tr -dc 0-9 <"$work/mnt-ns")
  {
    [ -n "$ns" ] && find /proc/[0-9]*/ns/mnt -maxdepth 0 -lname "mnt:?$ns?" 2>/dev/null
    grep -lzxF -e "WARREN_FRESH_ROOT_CHECK=$instance" -e "WARREN_INSTANCE=$instance" /proc/[0-9]*/environ 2>/dev/null
  } | cut -d/ -f3 | sort -un | grep -vx "$$"
  return 0
}

# What this check may have left on the host, one line each; nothing when it is clean.
host_leftovers() {
  local pids
  ip link show "$host_if" >/dev/null 2>&1 && echo "host link $host_if"
  nft list table inet "$host_if" >/dev/null 2>&1 && echo "nftables table inet $host_if"
  pids=$(check_pids | tr '\n' ' ')
  [ -n "$pids" ] && echo "processes $pids"
  findmnt -rn -o TARGET | grep -F "$work" | sed 's/^/mount /'
  return 0
}

cleanup() {
  local status=$? pids target leftovers
  trap - EXIT INT TERM HUP
  set +e
  # A down that just ran: the kernel removes the veth some milliseconds after its namespace.
  for _ in $(seq 50); do
    ip link show "$host_if" >/dev/null 2>&1 || break
    sleep 0.1
  done
  leftovers=$(host_leftovers)
  if [ -n "$leftovers" ]; then
    ((status)) || say "FAILED: the check passed but left behind:"
    ((status)) && say "cleaning up after the failure:"
    echo "$leftovers" | sed 's/^/  /' >&2
    ((status)) || status=1
    # Services die with their launcher and owner; whatever a round misses, the next one gets.
    for _ in 1 2 3; do
      pids=$(check_pids)
      [ -z "$pids" ] && break
      kill -KILL $pids 2>/dev/null
      sleep 1
    done
    # The veth goes with the hub namespace once its last process is gone; the nft table does not.
    nft delete table inet "$host_if" 2>/dev/null
    ip link delete "$host_if" 2>/dev/null
    findmnt -rn -o TARGET | grep -F "$work" | sort -r | while read -r target; do umount -l "$target"; done
  fi
  if [ -d "$work" ]; then
    if findmnt -rn -o TARGET | grep -qF "$work"; then
      say "FAILED: something is still mounted under $work; not removing it"
      status=1
    else
      rm -rf --one-file-system "$work"
    fi
  fi
  if ((status)); then say "FAILED after $((SECONDS - started)) s (exit $status)"; else say "passed in $((SECONDS - started)) s"; fi
  exit "$status"
}

[ "$(id -u)" -eq 0 ] || die "needs root (it builds a root file system and network namespaces)"
for tool in git unshare pivot_root findmnt ip nft sha256sum tar timeout; do
  command -v "$tool" >/dev/null || die "$tool is not installed on this machine"
done
git rev-parse --is-inside-work-tree >/dev/null 2>&1 || die "$repo is not a git checkout: the root gets the project's git-tracked files"
[ -x /usr/bin/node ] || die "this machine's Node (/usr/bin/node) is missing"
npm_dir=$(dirname "$(dirname "$(readlink -f /usr/bin/npm)")")
[ -f "$npm_dir/bin/npm-cli.js" ] || die "npm not found (looked for it in $npm_dir via /usr/bin/npm)"

# A cache left by a run that was killed: nothing of it may still be in use.
if [ -e "$work" ]; then
  findmnt -rn -o TARGET | grep -qF "$work" && die "$work is still mounted (a run still going?); unmount it first"
  rm -rf --one-file-system "$work"
fi
mkdir -p "$logs"
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

if ! command -v debootstrap >/dev/null; then
  step "apt-get update (for debootstrap)" env DEBIAN_FRONTEND=noninteractive apt-get update
  step "apt-get install debootstrap" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap
fi
step "debootstrap --variant=minbase bookworm (from $mirror)" debootstrap --variant=minbase bookworm "$root" "$mirror"

say "giving the root this machine's Node $(/usr/bin/node --version), DNS and CA bundle, and the project's git-tracked files"
cp -a /usr/bin/node "$root/usr/bin/node"
mkdir -p "$root/usr/lib/node_modules"
cp -a "$npm_dir" "$root/usr/lib/node_modules/npm"
ln -sfn ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/bin/npm"
ln -sfn ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/bin/npx"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
# This machine reaches the npm registry through its own CA: the root needs the same trust.
for file in /etc/ssl/certs/ca-certificates.crt /etc/npmrc; do
  if [ -f "$file" ]; then
    mkdir -p "$root$(dirname "$file")"
    cp -L "$file" "$root$file"
  fi
done
# As in any chroot or container: packages install but start no daemon (postgresql, redis-server
# and nginx would otherwise start, in the host's network namespace, and outlive the check).
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
mkdir -p "$root/work/warren" "$root/ci"
git ls-files -z | tar --null -T - --ignore-failed-read -cf - | tar -xf - -C "$root/work/warren"
cp .ci/fresh-root-check.sh "$root/ci/check.sh"

say "entering the root (unshare -m + pivot_root) for: npm run setup, up --detach, curl, down"
status=0
# In the background and waited for: a signal to this script runs its cleanup at once.
timeout --kill-after=10 "$timeout_s" unshare --mount --propagation private -- \
  bash .ci/fresh-root-enter.sh "$root" "$work/mnt-ns" "$instance" "$host_if" &
wait $! || status=$?
((status == 124)) && die "the check did not finish within $timeout_s s"
((status)) && die "the check inside the root failed (exit $status)"

say "from the host: nothing of instance $instance may be left"
leftovers=$(host_leftovers)
[ -z "$leftovers" ] || die "left on the host after down: $leftovers"
