#!/usr/bin/env bash
# Makes tsx's compile cache for root (argument: its folder, normally /tmp/tsx-0) root's own, 0700.
# tsx loads compiled recipes from it without checking who owns it, so a folder another user made
# there first would hand root the code they wrote. With systemd-tmpfiles it is made again at boot.
set -euo pipefail
cache=$1
if [ -L "$cache" ] || { [ -e "$cache" ] && [ ! -d "$cache" ]; }; then
  echo "warren setup: $cache is a link or a file, not tsx's folder: tsx would load root's compiled recipes through it; remove it (rm -f $cache) and run setup again" >&2
  exit 1
fi
if [ -d "$cache" ] && [ "$(stat -c %u "$cache")" != "$(id -u)" ]; then
  echo "warren setup: $cache belongs to uid $(stat -c %u "$cache"): tsx would run what that user put there as root; remove it (rm -rf $cache) and run setup again" >&2
  exit 1
fi
mkdir -p -m 0700 "$cache"
chmod 0700 "$cache"
if [ "$(dirname "$cache")" = /tmp ] && [ -d /etc/tmpfiles.d ]; then
  line="d $cache 0700 root root -"
  conf=/etc/tmpfiles.d/warren-tsx-cache.conf
  [ "$(cat "$conf" 2>/dev/null)" = "$line" ] || printf '%s\n' "$line" >"$conf"
fi
