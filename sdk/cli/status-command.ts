// `warren status [RECIPE]`: every instance with its services, addresses and health; --watch refreshes in place.
import type { EnvSpec } from '../../dsl/spec.ts';
import { instancesStatus, type InstanceStatus } from '../ops/status.ts';
import { stateDirOf, type CliArgs } from './args.ts';
import { interrupted } from './signals.ts';
import { serviceTable, watchStatus } from './status-view.ts';

export async function statusCommand(spec: EnvSpec | undefined, args: CliArgs): Promise<number> {
  if (args.watch) {
    const stop = interrupted();
    const render = (report: readonly InstanceStatus[]) => (report.length ? report.map(describeInstance).join('\n') : `no instance${spec ? ` of ${spec.name}` : ''} is up`);
    await watchStatus(() => instancesStatus({ ...stateDirOf(args), ...(spec ? { env: spec.name } : {}) }), { json: args.json, render, signal: stop.signal });
    stop.dispose();
    return 0;
  }
  const report = await instancesStatus({ ...stateDirOf(args), ...(spec ? { env: spec.name } : {}) });
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ instances: report }, null, 2)}\n`);
    return 0;
  }
  if (report.length === 0) {
    process.stdout.write(`no instance${spec ? ` of ${spec.name}` : ''} is up\n`);
    return 0;
  }
  for (const i of report) process.stdout.write(`${describeInstance(i)}\n`);
  return 0;
}

function describeInstance(i: InstanceStatus): string {
  const owner = i.owner ? `, owner pid ${i.owner}${i.ownerAlive ? '' : ' (dead: `warren gc` reaps it)'}` : '';
  const head = `${i.env} instance '${i.instance}' (${i.mode}${owner}) ${i.subnet ?? ''}`.trimEnd();
  const cuts = (i.network?.partitions ?? []).map(([a, b]) => `\n  partition: ${a.join(',')} | ${b.join(',')} (no packet either way)`).join('');
  const tasks = (i.tasks ?? []).map((t) => `\n  task ${t.name}: ${t.result}${t.ms !== undefined && t.result !== 'skipped' ? ` in ${t.ms} ms` : ''}${t.result === 'failed' ? ` (exit ${t.exitCode ?? 'by signal'})` : ''}`).join('');
  return i.services.length ? `${head}\n${serviceTable(i.services)}${tasks}${cuts}` : `${head}${tasks}${cuts}`;
}
