#!/usr/bin/env bash
# Runs as /ci/check.sh inside the fresh root (see .ci/fresh-root.sh): the README's first
# command with `up --detach`, a curl of every service, `down`, and a search for leftovers.
# Usage: check.sh INSTANCE HOST_IF
set -euo pipefail
instance=$1 host_if=$2
recipe=recipes/checkout.env.ts
logs=/ci/logs
mkdir -p "$logs"
cd /work/warren
# The root's /run is its own, so is its subnet registry: a pool of its own keeps it off the
# subnets of instances the host's registry knows about.
export WARREN_SUBNET_POOL=10.212.0.0/16

say() { echo "fresh-root [inside +${SECONDS}s]: $*" >&2; }

die() {
  say "FAILED: $*"
  exit 1
}

# Runs one step, its output shown indented and kept; on failure names the step and repeats the end.
step() {
  local name=$1 log status
  shift
  log=$logs/$(printf '%s' "$name" | tr -c 'a-zA-Z0-9' '-').log
  say "$name"
  set +e
  "$@" 2>&1 | tee "$log" | sed -u 's/^/    /' >&2
  status=${PIPESTATUS[0]}
  set -e
  if ((status)); then
    say "FAILED: $name (exit $status); the last lines of its output (all of it is above):"
    tail -n 15 "$log" | sed 's/^/  /' >&2
    exit "$status"
  fi
}

# The same for steps whose output only matters when they fail.
quiet_step() {
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

warren() { npx --no-install tsx "$recipe" "$@"; }

# Processes of the instance: every service carries WARREN_INSTANCE.
instance_pids() {
  grep -lzxF "WARREN_INSTANCE=$instance" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3
  return 0
}

launcher_builds() { find node_modules/.cache/warren -maxdepth 1 -name 'warren-launch-*' -printf '%f %i %T@\n' 2>/dev/null | sort; }

brought_up=0
on_exit() {
  local status=$?
  if ((status)) && ((brought_up)); then
    for service in user payment order; do
      say "log of $service:"
      warren logs "$service" -i "$instance" 2>&1 | tail -n 20 | sed 's/^/    /' >&2 || true
    done
    say "bringing the instance down after the failure"
    warren down -i "$instance" >&2 || say "down failed too (exit $?)"
  fi
  exit "$status"
}
trap on_exit EXIT

# The root must really be fresh, or setup has nothing to prove.
[ "$(findmnt -n -o TARGET /)" = / ] || die "/ is not a mount point"
[ ! -e /etc/hosts ] || die "the fresh root already has /etc/hosts"
for tool in ip nft cc; do
  command -v "$tool" >/dev/null && die "the fresh root already has $tool"
done
say "fresh: no /etc/hosts, no ip, nft or cc; Node $(node --version), npm $(npm --version)"

# The README's first command, `npm run setup && npx tsx recipes/checkout.env.ts up`, detached.
step "npm run setup" npm run setup
[ -f /etc/hosts ] || die "npm run setup did not create /etc/hosts"
hosts=$(cat /etc/hosts)
step "npm run setup, again (idempotent)" npm run setup
[ "$(cat /etc/hosts)" = "$hosts" ] || die "the second npm run setup changed /etc/hosts"
grep -q '^warren setup: apt-get' "$logs/npm-run-setup--again--idempotent-.log" && die "the second npm run setup ran apt-get again"
launchers=$(launcher_builds)
[ "$(printf '%s\n' "$launchers" | grep -c .)" -eq 1 ] || die "npm run setup did not build exactly one service launcher in node_modules/.cache/warren: '$launchers'"
brought_up=1
step "npx tsx $recipe up --detach -i $instance" warren up --detach -i "$instance"
# Setup built the launcher: `up` must have found it, not compiled its own.
[ "$(launcher_builds)" = "$launchers" ] || die "up built the service launcher again (before: '$launchers', after: '$(launcher_builds)')"

quiet_step "status --json" warren status --json -i "$instance"
endpoints=$(node -e '
  const { instances } = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const mine = instances.filter((i) => i.instance === process.argv[1]);
  if (mine.length !== 1) throw new Error(`status --json lists ${mine.length} instances named ${process.argv[1]}`);
  for (const s of mine[0].services) {
    if (!s.running || !s.healthy || !s.address || !s.port) throw new Error(`service ${s.name} is not running and healthy with an address: ${JSON.stringify(s)}`);
    console.log(`${s.name} ${s.address}:${s.port}`);
  }' "$instance" <"$logs/status---json.log")
say "services: $(echo "$endpoints" | tr '\n' ' ')"
[ "$(echo "$endpoints" | grep -c .)" -eq 3 ] || die "expected the recipe's 3 services in status --json, got: $endpoints"

# What `down` must remove, seen while it exists (so the leak checks below can fail).
ip netns list | grep -q '^wr\.' || die "no wr.* network namespace while the instance is up"
ip link show "$host_if" >/dev/null || die "no host link $host_if while the instance is up"
nft list table inet "$host_if" >/dev/null || die "no nftables table inet $host_if while the instance is up"
[ -n "$(instance_pids)" ] || die "no process carries WARREN_INSTANCE=$instance while the instance is up"

# curl is the check's own tool, not warren's: installed only now, after setup and up.
quiet_step "apt-get install curl (for the check)" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends curl
while read -r name address; do
  step "curl http://$address/health ($name)" curl -fsS --max-time 5 -w '\n' "http://$address/health"
done <<<"$endpoints"

step "down -i $instance" warren down -i "$instance"
brought_up=0

# The kernel dismantles a deleted namespace's veths some milliseconds after `netns del`.
for _ in $(seq 50); do
  ip link show "$host_if" >/dev/null 2>&1 || break
  sleep 0.1
done
left=()
netns=$(ip netns list | grep '^wr\.' || true)
[ -z "$netns" ] || left+=("network namespaces: $netns")
ip link show "$host_if" >/dev/null 2>&1 && left+=("host link $host_if (5 s after down)")
nft list table inet "$host_if" >/dev/null 2>&1 && left+=("nftables table inet $host_if")
pids=$(instance_pids | tr '\n' ' ')
[ -z "$pids" ] || left+=("processes: $pids")
claims=$(ls -A /run/warren-subnets 2>/dev/null | grep -E '^[0-9]+(\.[0-9]+){3}$' || true)
[ -z "$claims" ] || left+=("subnet claims: $claims")
entries=$(find /run/warren -mindepth 1 -maxdepth 1 -name "*$instance*" 2>/dev/null || true)
[ -z "$entries" ] || left+=("state dir entries: $entries")
status_after=$(warren status --json)
node -e 'if (JSON.parse(process.argv[1]).instances.length) process.exit(1)' "$status_after" || left+=("status --json still lists: $status_after")
((${#left[@]} == 0)) || die "down left behind: $(printf '%s; ' "${left[@]}")"
say "down left nothing behind (netns, host link, nft table, processes, subnet claims, state dir)"
