#!/usr/bin/env bash
# Run by .ci/fresh-root.sh inside `unshare --mount --propagation private`: makes the fresh
# root the real root of this mount namespace (pivot_root, not chroot: `ip -n` and
# `nsenter --mount` resolve paths against the namespace's root), then runs the check there.
# Usage: fresh-root-enter.sh ROOT MNT_NS_FILE INSTANCE HOST_IF
set -euo pipefail
root=$1 ns_file=$2 instance=$3 host_if=$4

# The host script finds (and, after a failure, kills) every process of this namespace by it.
readlink /proc/self/ns/mnt >"$ns_file"

# pivot_root needs the new root to be a mount point.
mount --bind "$root" "$root"
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs "$root/run"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/tmp"

cd "$root"
mkdir -p .old-root
pivot_root . .old-root
umount -l /.old-root
rmdir /.old-root

# A clean environment, as on a freshly installed machine (plus this machine's CA for npm).
exec env -i \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  HOME=/root LANG=C.UTF-8 TERM=dumb NO_COLOR=1 npm_config_update_notifier=false \
  ${NODE_EXTRA_CA_CERTS:+NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt} \
  WARREN_FRESH_ROOT_CHECK="$instance" \
  /usr/sbin/chroot / /bin/bash /ci/check.sh "$instance" "$host_if"
