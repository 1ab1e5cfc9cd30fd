import { parseArgs } from 'node:util';

export const USAGE = `warren — isolated copies of a microservice environment on one Linux machine

Usage:
  warren <command> <recipe.env.ts> [options]      (or: tsx <recipe.env.ts> <command> [options])

Commands:
  up                    bring an instance up; foreground until Ctrl-C, which tears it down
  down                  stop every service and remove every resource of an instance
  status                instances, services, addresses and health (no recipe: every instance)
  plan                  the steps \`up\` would run, as text or --json; nothing is done
  validate              list every problem in the recipe, with its line
  logs <service>        print a service's log (-f to follow)
  events                the instance's event log: steps, readiness, exits (-f to follow,
                        --json for one JSON object a line)
  exec <service> -- <command...>
                        run a command inside a service's namespaces; exits with its code
  gc [--orphans]        reap instances whose owner died, from their journals; --orphans also
                        deletes wr.* namespaces and wr* links no instance of this state dir
                        knows (after deleting a state dir by hand; other state dirs beware)
  help                  this text

Options:
  -i, --instance <name> which copy (default "default"); copies run side by side
  -d, --detach          up: return once all are ready and leave the services running
      --all             down: every instance of the recipe
      --json            status, plan, events: machine-readable output
  -f, --follow          logs, events: keep printing new lines
  -v, --verbose         up, down: print every step
  -q, --quiet           up: do not print service output
      --state-dir <dir> where journals and logs live (default $WARREN_STATE_DIR or /run/warren)
  -h, --help            this text

Environment: WARREN_STATE_DIR, WARREN_SUBNET_POOL (default 10.213.0.0/16), NO_COLOR.`;

export interface CliArgs {
  readonly command: string;
  readonly positionals: readonly string[];
  /** What came after `--` (exec's command). */
  readonly rest: readonly string[];
  readonly instance: string;
  readonly detach: boolean;
  readonly all: boolean;
  readonly orphans: boolean;
  readonly json: boolean;
  readonly follow: boolean;
  readonly verbose: boolean;
  readonly quiet: boolean;
  readonly help: boolean;
  readonly stateDir: string | undefined;
}

export function parseCli(argv: readonly string[]): CliArgs {
  const split = argv.indexOf('--');
  const head = split === -1 ? [...argv] : argv.slice(0, split);
  const rest = split === -1 ? [] : argv.slice(split + 1);
  const { values, positionals } = parseArgs({
    args: head,
    allowPositionals: true,
    strict: true,
    options: {
      instance: { type: 'string', short: 'i' },
      detach: { type: 'boolean', short: 'd' },
      all: { type: 'boolean' },
      orphans: { type: 'boolean' },
      json: { type: 'boolean' },
      follow: { type: 'boolean', short: 'f' },
      verbose: { type: 'boolean', short: 'v' },
      quiet: { type: 'boolean', short: 'q' },
      help: { type: 'boolean', short: 'h' },
      'state-dir': { type: 'string' },
    },
  });
  const [command = 'help', ...others] = positionals;
  return {
    command,
    positionals: others,
    rest,
    instance: values.instance ?? 'default',
    detach: values.detach ?? false,
    all: values.all ?? false,
    orphans: values.orphans ?? false,
    json: values.json ?? false,
    follow: values.follow ?? false,
    verbose: values.verbose ?? false,
    quiet: values.quiet ?? false,
    help: values.help ?? false,
    stateDir: values['state-dir'],
  };
}
