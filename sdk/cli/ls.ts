// `warren ls`: every instance on the machine, one line each.
import { listInstancesEverywhere } from '../ops/ls.ts';
import type { CliArgs } from './args.ts';
import { table } from './output.ts';

export async function lsCommand(args: CliArgs): Promise<number> {
  const listing = await listInstancesEverywhere(args.stateDir ? { stateDir: args.stateDir } : {});
  if (args.json) {
    process.stdout.write(`${JSON.stringify(listing, null, 2)}\n`);
    return 0;
  }
  for (const r of listing.refused) process.stderr.write(`warren: not listed: ${r.stateDir}: ${r.reason}\n`);
  if (listing.instances.length === 0) {
    process.stdout.write('no instance is up on this machine\n');
    return 0;
  }
  const rows = listing.instances.map((i) => [
    `${i.env}/${i.instance}`,
    `${i.ownerAlive ? 'running' : 'owner dead'}(${i.running}/${i.total})`,
    i.mode,
    i.subnet ?? '-',
    i.recipe ?? '-',
    i.stateDir,
  ]);
  process.stdout.write(`${table([['NAME', 'STATUS', 'MODE', 'SUBNET', 'RECIPE', 'STATE DIR'], ...rows])}\n`);
  return 0;
}
