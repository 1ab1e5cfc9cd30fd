// PID 1 of a service's PID namespace, written into the instance folder by a plan step (a file
// beside the code would not survive bundling). Usage: sh service-init.sh HOSTNAME HOSTS_FILE -- COMMAND...
// It names the UTS namespace, shows the instance's hosts file as /etc/hosts, runs the command as
// its child and forwards SIGTERM/SIGINT/SIGHUP to it: as PID 1, a command without handlers would
// ignore them. When this script exits, the kernel kills everything left in the namespace.
export const SERVICE_INIT_SCRIPT = `#!/bin/sh
set -eu
printf '%s' "$1" > /proc/sys/kernel/hostname
mount --bind "$2" /etc/hosts
shift 3
trap 'kill -TERM "$child" 2>/dev/null || true' TERM INT HUP
set +e
"$@" &
child=$!
while :; do
  wait "$child"
  status=$?
  kill -0 "$child" 2>/dev/null || exit "$status"
done
`;
