// Configures the namespace end of many veths at once. Spawning one `ip -n NS -batch` per
// namespace from Node costs ~3 ms of event-loop time each; this hands the fan-out to one shell,
// which forks them all and reports each one's status. The script is fixed text: namespace names,
// interface names and addresses arrive as fields on stdin and are only ever quoted arguments.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchError } from './batch-error.ts';
import { capture } from './command.ts';
import { CommandError } from '../errors.ts';

// A here-document, not `printf | ip`: one fork per namespace instead of two. Its expansions
// are text for ip's batch parser, never shell code.
const SCRIPT = `
errors=$1
jobs=''
running=0
while read -r ns ifname cidr; do
  ip -n "$ns" -batch - 2>"$errors/$ns" <<EOF &
addr add $cidr dev $ifname
link set $ifname up
link set lo up
EOF
  jobs="$jobs $!:$ns"
  running=$((running + 1))
  if [ "$running" -ge 128 ]; then
    for job in $jobs; do wait "\${job%%:*}"; echo "\${job#*:} $?"; done
    jobs=''
    running=0
  fi
done
for job in $jobs; do wait "\${job%%:*}"; echo "\${job#*:} $?"; done
`;

export interface NamespaceEnd {
  readonly netns: string;
  readonly ifname: string;
  readonly cidr: string;
}

/** Address and links up in every namespace; a BatchError names the namespaces that failed. */
export async function configureNamespaces(ends: readonly NamespaceEnd[]): Promise<void> {
  if (ends.length === 0) return;
  const errors = mkdtempSync(join(tmpdir(), 'warren-netns-'));
  try {
    const argv = ['sh', '-c', SCRIPT, 'warren-netns-config', errors];
    const result = await capture(argv, { input: ends.map((e) => `${e.netns} ${e.ifname} ${e.cidr}\n`).join('') });
    const status = new Map(result.stdout.trim().split('\n').filter(Boolean).map((line) => line.split(' ') as [string, string]));
    const failures = new Map<number, unknown>();
    ends.forEach((end, i) => {
      const code = status.get(end.netns);
      if (code === '0') return;
      const stderr = safeRead(join(errors, end.netns)).trim() || result.stderr.trim() || 'no status reported';
      failures.set(i, new CommandError(['ip', '-n', end.netns, '-batch', '-'], code === undefined ? undefined : Number(code), stderr));
    });
    if (failures.size) throw new BatchError(failures, ends.length);
  } finally {
    rmSync(errors, { recursive: true, force: true });
  }
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
