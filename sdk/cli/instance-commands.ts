// `warren logs`, `events` and `exec`: read or act on a running instance through its handle.
import type { LoggedEvent } from '../../dsl/events.ts';
import type { EnvSpec } from '../../dsl/spec.ts';
import { UsageError } from '../errors.ts';
import { openInstance } from '../ops/open.ts';
import { stateDirOf, type CliArgs } from './args.ts';
import { formatEvent } from './output.ts';
import { interrupted } from './signals.ts';

export async function logsCommand(spec: EnvSpec, args: CliArgs): Promise<number> {
  const [service] = args.positionals;
  if (!service) throw new UsageError('logs needs a service name: warren logs <recipe> <service>');
  const instance = openInstance(spec.name, args.instance, stateDirOf(args));
  if (!args.follow) {
    process.stdout.write(await instance.logs(service));
    return 0;
  }
  const stop = interrupted();
  for await (const chunk of instance.followLogs(service, { signal: stop.signal })) process.stdout.write(chunk);
  stop.dispose();
  return 0;
}

export async function eventsCommand(spec: EnvSpec, args: CliArgs): Promise<number> {
  const instance = openInstance(spec.name, args.instance, stateDirOf(args));
  const stop = interrupted();
  const render = (event: LoggedEvent) => (args.json ? JSON.stringify(event) : formatEvent(event));
  for await (const event of instance.events({ follow: args.follow, signal: stop.signal })) process.stdout.write(`${render(event)}\n`);
  stop.dispose();
  return 0;
}

export async function execCommand(spec: EnvSpec, args: CliArgs): Promise<number> {
  const [service] = args.positionals;
  if (!service || args.rest.length === 0) throw new UsageError('exec needs a service and a command: warren exec <recipe> <service> -- <command...>');
  if (args.user !== undefined && args.user !== 'root') throw new UsageError(`exec -u takes only root (the service's own user is the default), got ${JSON.stringify(args.user)}`);
  const result = await openInstance(spec.name, args.instance, stateDirOf(args)).exec(service, args.rest, args.user === 'root' ? { user: 'root' } : {});
  process.stdout.write(result.stdout ? `${result.stdout}\n` : '');
  process.stderr.write(result.stderr ? `${result.stderr}\n` : '');
  return result.exitCode;
}
