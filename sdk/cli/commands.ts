import { createReadStream, existsSync, statSync, watch } from 'node:fs';
import type { EnvSpec } from '../../dsl/spec.ts';
import { formatLoc } from '../../dsl/location.ts';
import { createLinuxDrivers } from '../drivers/linux.ts';
import { probeOnce } from '../drivers/probe.ts';
import { AbortedError, formatIssue, SpecError, UpError } from '../errors.ts';
import { plan } from '../plan/plan.ts';
import { allocate, parseCidr, prefixFor } from '../plan/subnet.ts';
import { claimedSubnets, registryDir, subnetPool } from '../runtime/subnets.ts';
import type { ReadyArgs } from '../plan/types.ts';
import { compileServices, resolveCommand } from '../recipe/command.ts';
import { openInstance, type Instance } from '../runtime/instance.ts';
import { gc } from '../runtime/teardown.ts';
import { preflight, up } from '../runtime/up.ts';
import { instanceDir, listInstances, ownerAlive, resolveStateDir } from '../runtime/state.ts';
import type { CliArgs } from './args.ts';
import { createPrinter, table } from './output.ts';

/** What a command asks the process to exit with. */
export type ExitCode = number;

const SIGNAL_EXIT: Record<string, number> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };

export async function upCommand(spec: EnvSpec, args: CliArgs, recipe: string | undefined): Promise<ExitCode> {
  const printer = createPrinter({ verbose: args.verbose, quiet: args.quiet, names: spec.services.map((s) => s.name) });
  const abort = new AbortController();
  let received: NodeJS.Signals | undefined;
  let stopping: (() => void) | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (received) {
      process.stderr.write(`warren: still cleaning up after ${received}; it finishes on its own\n`);
      return;
    }
    received = signal;
    process.stderr.write(`\nwarren: ${signal}: tearing down\n`);
    abort.abort(signal);
    stopping?.();
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  try {
    const started = Date.now();
    let instance: Instance;
    try {
      instance = await up(spec, {
        instance: args.instance,
        detach: args.detach,
        mode: 'foreground',
        signal: abort.signal,
        onEvent: (e) => printer.event(e as never),
        ...(args.stateDir ? { stateDir: args.stateDir } : {}),
        ...(recipe ? { recipe } : {}),
      });
    } catch (error) {
      if (received && error instanceof UpError && error.cause instanceof AbortedError) {
        process.stderr.write(`warren: rolled back\n`);
        return SIGNAL_EXIT[received] ?? 1;
      }
      throw error;
    }
    process.stderr.write(`\n${spec.name} instance '${args.instance}' is up (${instance.plan.subnet}) in ${Date.now() - started} ms\n`);
    process.stderr.write(`${servicesTable(instance)}\n`);
    if (args.detach) {
      process.stderr.write(`detached: \`warren down ${recipe ?? '<recipe>'} --instance ${args.instance}\` stops it\n`);
      return 0;
    }
    process.stderr.write(`Ctrl-C stops it and removes everything it created.\n`);
    if (!received) await new Promise<void>((resolve) => (stopping = resolve));
    const downStarted = Date.now();
    await instance.down();
    process.stderr.write(`warren: down in ${Date.now() - downStarted} ms\n`);
    return 0;
  } finally {
    for (const s of signals) process.off(s, onSignal);
  }
}

function servicesTable(instance: Instance): string {
  const rows = instance.status().map((s) => ['  ' + s.name, s.address && s.port ? `http://${s.address}:${s.port}` : '(no address)', s.pid ? `pid ${s.pid}` : '']);
  return table(rows);
}

export async function downCommand(spec: EnvSpec, args: CliArgs): Promise<ExitCode> {
  const stateDir = resolveStateDir(args.stateDir);
  const drivers = createLinuxDrivers();
  const printer = createPrinter({ verbose: args.verbose, quiet: true, names: [] });
  const instances = args.all
    ? listInstances(stateDir).flatMap(({ owner, dir }) => (owner?.env === spec.name && !dir.includes('/reaping/') ? [owner.instance] : []))
    : [args.instance];
  let found = 0;
  for (const name of instances) {
    if (!existsSync(instanceDir(stateDir, spec.name, name))) continue;
    found++;
    const started = Date.now();
    await openInstance(stateDir, spec.name, name, drivers, (e) => printer.event(e)).down();
    process.stderr.write(`${spec.name} instance '${name}' is down (${Date.now() - started} ms)\n`);
  }
  if (found === 0) process.stderr.write(`no instance ${args.all ? '' : `'${args.instance}' `}of ${spec.name} is up; nothing to do\n`);
  return 0;
}

export async function statusCommand(spec: EnvSpec | undefined, args: CliArgs): Promise<ExitCode> {
  const stateDir = resolveStateDir(args.stateDir);
  const drivers = createLinuxDrivers();
  const entries = listInstances(stateDir).filter(({ owner, dir }) => owner && !dir.includes('/reaping/') && (!spec || owner.env === spec.name));
  const report = await Promise.all(
    entries.map(async ({ owner }) => {
      const instance = openInstanceSafe(stateDir, owner!.env, owner!.instance, drivers);
      const services = instance
        ? await Promise.all(
            instance.status().map(async (s) => {
              const ready = instance.plan.steps.find((step) => step.id === `service.ready:${s.name}`)?.args as ReadyArgs | undefined;
              return { ...s, healthy: s.running && ready ? await probeOnce(ready) : false };
            }),
          )
        : [];
      return { env: owner!.env, instance: owner!.instance, mode: owner!.mode, owner: owner!.pid, ownerAlive: ownerAlive(owner!), subnet: owner!.subnet ?? null, services };
    }),
  );
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ instances: report }, null, 2)}\n`);
    return 0;
  }
  if (report.length === 0) {
    process.stdout.write(`no instance${spec ? ` of ${spec.name}` : ''} is up\n`);
    return 0;
  }
  for (const i of report) {
    process.stdout.write(`${i.env} instance '${i.instance}' (${i.mode}${i.owner ? `, owner pid ${i.owner}${i.ownerAlive ? '' : ' (dead: `warren gc` reaps it)'}` : ''}) ${i.subnet ?? ''}\n`);
    const rows = i.services.map((s) => ['  ' + s.name, s.address && s.port ? `${s.address}:${s.port}` : '-', s.pid ? `pid ${s.pid}` : '-', s.running ? (s.healthy ? 'healthy' : 'running, not ready') : 'stopped']);
    if (rows.length) process.stdout.write(`${table(rows)}\n`);
  }
  return 0;
}

function openInstanceSafe(stateDir: string, env: string, instance: string, drivers: ReturnType<typeof createLinuxDrivers>): Instance | undefined {
  try {
    return openInstance(stateDir, env, instance, drivers, () => undefined);
  } catch {
    return undefined;
  }
}

export async function planCommand(spec: EnvSpec, args: CliArgs): Promise<ExitCode> {
  const issues = preflight(spec, args.instance);
  if (issues.length) throw new SpecError(issues);
  const { compiled, issues: compileIssues } = await compileServices(spec.services);
  if (compileIssues.length) throw new SpecError(compileIssues);
  const stateDir = resolveStateDir(args.stateDir);
  // Read-only: the subnet this instance would get if brought up now.
  const routes = await createLinuxDrivers().net.routes();
  const subnet = allocate(subnetPool(), prefixFor(spec.namespaces.length), [...claimedSubnets(), ...routes.map(parseCidr)]);
  if (!subnet) throw new Error('the subnet pool is exhausted');
  const result = plan({ spec, instance: args.instance, subnet, instanceDir: instanceDir(stateDir, spec.name, args.instance), resolveCommand: (s) => resolveCommand(s, compiled), hiddenPaths: [stateDir, registryDir()] });
  if (args.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(`plan for ${spec.name} instance '${args.instance}' on ${result.subnet} (nothing is done):\n`);
  process.stdout.write(`${table(result.steps.map((s) => ['  ' + s.id, s.after.length ? `after ${s.after.join(', ')}` : '', s.undo ? `undo: ${s.undo.kind}` : '', formatLoc(s.loc)]))}\n`);
  return 0;
}

export async function validateCommand(spec: EnvSpec, args: CliArgs): Promise<ExitCode> {
  const issues = preflight(spec, args.instance);
  if (issues.length) throw new SpecError(issues);
  const { issues: compileIssues } = await compileServices(spec.services);
  if (compileIssues.length) throw new SpecError(compileIssues);
  process.stdout.write(`${spec.name}: no problems (${spec.namespaces.length} namespaces, ${spec.services.length} services)\n`);
  return 0;
}

export async function logsCommand(spec: EnvSpec, args: CliArgs): Promise<ExitCode> {
  const [service] = args.positionals;
  if (!service) throw new UsageError('logs needs a service name: warren logs <recipe> <service>');
  const instance = openInstance(resolveStateDir(args.stateDir), spec.name, args.instance, createLinuxDrivers(), () => undefined);
  process.stdout.write(await instance.logs(service));
  if (!args.follow) return 0;
  const file = instance.logFile(service);
  let offset = existsSync(file) ? statSync(file).size : 0;
  await new Promise<void>((resolve) => {
    const watcher = watch(file, () => {
      const size = existsSync(file) ? statSync(file).size : 0;
      if (size <= offset) return;
      createReadStream(file, { start: offset, end: size - 1 }).pipe(process.stdout, { end: false });
      offset = size;
    });
    process.once('SIGINT', () => {
      watcher.close();
      resolve();
    });
  });
  return 0;
}

export async function execCommand(spec: EnvSpec, args: CliArgs): Promise<ExitCode> {
  const [service] = args.positionals;
  if (!service || args.rest.length === 0) throw new UsageError('exec needs a service and a command: warren exec <recipe> <service> -- <command...>');
  const instance = openInstance(resolveStateDir(args.stateDir), spec.name, args.instance, createLinuxDrivers(), () => undefined);
  const result = await instance.exec(service, args.rest);
  process.stdout.write(result.stdout ? `${result.stdout}\n` : '');
  process.stderr.write(result.stderr ? `${result.stderr}\n` : '');
  return result.exitCode;
}

export async function gcCommand(args: CliArgs): Promise<ExitCode> {
  const printer = createPrinter({ verbose: args.verbose, quiet: true, names: [] });
  const report = await gc(resolveStateDir(args.stateDir), { drivers: createLinuxDrivers(), emit: (e) => printer.event(e), orphans: args.orphans });
  const total = report.reaped.length + report.orphans.length;
  process.stderr.write(total ? `gc: reaped ${report.reaped.length} instance(s), removed ${report.orphans.length} orphan(s)\n` : 'gc: nothing to reap\n');
  for (const orphan of report.orphans) process.stderr.write(`  removed ${orphan}\n`);
  if (report.errors.length) {
    for (const e of report.errors) process.stderr.write(`  error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  return 0;
}

export class UsageError extends Error {
  readonly code = 'USAGE';
}

export { formatIssue };
