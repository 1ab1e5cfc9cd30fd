// `warren restart SERVICE [-i NAME]`: asks the instance's owner to restart one service.
import { UsageError } from '../errors.ts';
import { restartInstanceService } from '../ops/restart.ts';
import type { CliArgs } from './args.ts';

export async function restartCommand(args: CliArgs): Promise<number> {
  const [service, ...extra] = args.positionals;
  if (!service || extra.length) throw new UsageError('restart needs one service name: warren restart SERVICE [-i NAME]');
  const started = Date.now();
  await restartInstanceService(args.instance, service, args.stateDir ? { stateDir: args.stateDir } : {});
  process.stderr.write(`${service} of instance '${args.instance}' restarted and ready in ${Date.now() - started} ms\n`);
  return 0;
}
