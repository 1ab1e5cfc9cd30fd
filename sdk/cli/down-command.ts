// `warren down RECIPE` and `warren gc`: each calls one SDK operation and says what it removed.
import type { EnvSpec } from '../../dsl/spec.ts';
import { downInstance, instancesOf } from '../ops/down.ts';
import { collectGarbage } from '../ops/gc.ts';
import { stateDirOf, type CliArgs } from './args.ts';
import { createPrinter } from './output.ts';

export async function downCommand(spec: Pick<EnvSpec, 'name'>, args: CliArgs): Promise<number> {
  const printer = createPrinter({ verbose: args.verbose, quiet: true, names: [] });
  const names = args.all ? instancesOf(spec.name, stateDirOf(args)) : [args.instance];
  let found = 0;
  for (const name of names) {
    const started = Date.now();
    if (!(await downInstance(spec.name, name, { ...stateDirOf(args), onEvent: (e) => printer.event(e), ...(args.volumes ? { volumes: true } : {}) }))) continue;
    found++;
    process.stderr.write(`${spec.name} instance '${name}' is down (${Date.now() - started} ms)\n`);
  }
  if (found === 0) process.stderr.write(`no instance ${args.all ? '' : `'${args.instance}' `}of ${spec.name} is up; nothing to do\n`);
  return 0;
}

export async function gcCommand(args: CliArgs): Promise<number> {
  const printer = createPrinter({ verbose: args.verbose, quiet: true, names: [] });
  const report = await collectGarbage({ ...stateDirOf(args), orphans: args.orphans, onEvent: (e) => printer.event(e) });
  const total = report.reaped.length + report.orphans.length;
  process.stderr.write(total ? `gc: reaped ${report.reaped.length} instance(s), removed ${report.orphans.length} orphan(s)\n` : 'gc: nothing to reap\n');
  for (const orphan of report.orphans) process.stderr.write(`  removed ${orphan}\n`);
  if (report.errors.length) {
    for (const e of report.errors) process.stderr.write(`  error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  return 0;
}
