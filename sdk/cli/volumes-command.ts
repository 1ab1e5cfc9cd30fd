// `warren volumes ls [--json]` and `warren volumes rm NAME -i INSTANCE`: parse, call sdk/ops/volumes, render.
import { UsageError } from '../errors.ts';
import { volumeRemove, volumesList } from '../ops/volumes.ts';
import type { CliArgs } from './args.ts';
import { table } from './output.ts';

export async function volumesCommand(args: CliArgs): Promise<number> {
  const [what, name, ...extra] = args.positionals;
  const where = args.stateDir ? { stateDir: args.stateDir } : {};
  if (what === 'ls' && name === undefined) {
    const volumes = await volumesList(where);
    if (args.json) {
      process.stdout.write(`${JSON.stringify(volumes.map(({ env, instance, volume, path, bytes, inUse }) => ({ env, instance, name: volume, path, bytes, inUse })))}\n`);
      return 0;
    }
    if (volumes.length === 0) {
      process.stderr.write('no volumes\n');
      return 0;
    }
    process.stdout.write(`${table([['ENV', 'INSTANCE', 'VOLUME', 'SIZE', 'IN USE'], ...volumes.map((v) => [v.env, v.instance, v.volume, humanBytes(v.bytes), v.inUse ? 'yes' : 'no'])])}\n`);
    return 0;
  }
  if (what === 'rm' && name !== undefined && extra.length === 0) {
    if (!args.instanceGiven) throw new UsageError('volumes rm needs the instance: warren volumes rm NAME -i INSTANCE');
    const removed = await volumeRemove(name, args.instance, where);
    process.stderr.write(`volume '${name}' of ${removed.env} instance '${args.instance}' removed (${humanBytes(removed.bytes)})\n`);
    return 0;
  }
  throw new UsageError('usage: warren volumes ls [--json] | warren volumes rm NAME -i INSTANCE');
}

function humanBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
