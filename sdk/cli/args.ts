// The command line: every option once, every command with its usage, example and options, and the
// parse that refuses an option a command does not take. Help and completion are generated from this.
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.ts';

interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** Shown after the flag in help: `-i, --instance NAME`. */
  readonly value?: string;
  readonly help: string;
}

export const OPTIONS = {
  instance: { type: 'string', short: 'i', value: 'NAME', help: 'which copy (default "default"); copies run side by side' },
  detach: { type: 'boolean', short: 'd', help: 'return once all are ready and leave the services running' },
  all: { type: 'boolean', help: 'every instance of the recipe' },
  orphans: { type: 'boolean', help: 'also delete wr.* namespaces and wr* links that no instance of this state dir knows' },
  json: { type: 'boolean', help: 'machine-readable output (NDJSON for streams)' },
  follow: { type: 'boolean', short: 'f', help: 'keep printing new lines' },
  verbose: { type: 'boolean', short: 'v', help: 'print every step' },
  quiet: { type: 'boolean', short: 'q', help: 'do not print service output' },
  timings: { type: 'boolean', help: 'print the critical chain once everything is ready' },
  'keep-on-failure': { type: 'boolean', help: 'leave the instance up when the command fails (to look at it)' },
  output: { type: 'string', short: 'o', value: 'FILE', help: 'the file to write' },
  images: { type: 'string', value: 'FILE.json', help: 'service name -> image, over the recipe\'s own' },
  check: { type: 'boolean', help: 'check the manifests against the Kubernetes schemas, offline' },
  'wait-image': { type: 'string', value: 'IMAGE', help: 'image of the init containers that wait for dependencies (sh and nc; default busybox:1.36.1)' },
  port: { type: 'string', short: 'p', value: 'PORT', help: 'where to listen on 127.0.0.1 (default 4848; 0 picks a free port)' },
  open: { type: 'boolean', help: 'open the page in the desktop\'s browser (xdg-open)' },
  delay: { type: 'string', value: 'TIME', help: 'added to every packet, each direction (300ms, 1s)' },
  jitter: { type: 'string', value: 'TIME', help: 'random variation of the delay (needs --delay)' },
  loss: { type: 'string', value: 'PCT', help: 'packets dropped, each direction (5%)' },
  rate: { type: 'string', value: 'RATE', help: 'bandwidth cap, each direction (10mbit, 512kbit)' },
  corrupt: { type: 'string', value: 'PCT', help: 'packets with a flipped bit (0.1%)' },
  duplicate: { type: 'string', value: 'PCT', help: 'packets sent twice (1%)' },
  reorder: { type: 'string', value: 'PCT', help: 'packets sent ahead of the delayed ones (needs --delay)' },
  clear: { type: 'boolean', help: 'back to a perfect link' },
  watch: { type: 'boolean', short: 'w', help: 'up: restart a service when its files change; status: refresh in place' },
  'state-dir': { type: 'string', value: 'DIR', help: 'where journals and logs live (default $WARREN_STATE_DIR or /run/warren)' },
  help: { type: 'boolean', short: 'h', help: 'this command\'s help' },
  volumes: { type: 'boolean', help: 'also remove the instance\'s volumes (down keeps them otherwise)' },
  user: { type: 'string', short: 'u', value: 'root', help: 'run as root instead of the service\'s user' },
  force: { type: 'boolean', help: 'replace the output file when it exists' },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;

export interface CommandSpec {
  readonly name: string;
  readonly summary: string;
  /** Arguments after the command (RECIPE first when it takes one). */
  readonly usage: string;
  /** Shown first in `--help`. */
  readonly examples: readonly string[];
  readonly options: readonly OptionName[];
  /** Whether a recipe file comes first: required, optional (status), or none (gc). */
  readonly recipe: 'required' | 'optional' | 'none';
  readonly details?: string;
}

const STATE: OptionName[] = ['state-dir'];

/** Every command, in the order `warren help` lists them; main.ts has what runs each. Adding a command: one entry here, one there. */
export const COMMANDS: CommandSpec[] = [
  { name: 'up', summary: 'bring an instance up; in the foreground until Ctrl-C, which tears it down', usage: 'RECIPE [-i NAME] [-d] [-q] [-v] [--json] [--timings]', recipe: 'required',
    examples: ['warren up recipes/checkout.env.ts -i alice', 'warren up recipes/checkout.env.ts -d --timings'],
    options: ['instance', 'detach', 'quiet', 'verbose', 'json', 'timings', 'watch', ...STATE],
    details: 'On a terminal a live view shows what is starting and what waits for what; elsewhere plain lines. --json streams every event as one JSON object a line.' },
  { name: 'down', summary: 'stop every service and remove every resource of an instance', usage: 'RECIPE [-i NAME] [--all]', recipe: 'required',
    examples: ['warren down recipes/checkout.env.ts -i alice', 'warren down recipes/shop.env.ts -i alice --volumes'], options: ['instance', 'all', 'verbose', 'volumes', ...STATE] },
  { name: 'run', summary: 'bring an instance up, run a command on the host against it, always bring it down; exits with the command\'s code', usage: 'RECIPE [-i NAME] [--keep-on-failure] [--timings] -- CMD...', recipe: 'required',
    examples: ['warren run recipes/checkout.env.ts -- npm run test:e2e', 'warren run recipes/checkout.env.ts -- sh -c \'curl -fsS "$ORDER_URL/health"\''],
    options: ['instance', 'keep-on-failure', 'timings', 'verbose', ...STATE],
    details: 'The instance is named run-<pid> unless -i names it. CMD gets WARREN_INSTANCE and, per service, <SERVICE>_URL, <SERVICE>_HOST and <SERVICE>_PORT (upper-cased, - becomes _). SIGINT, SIGTERM and SIGHUP reach CMD once (passed on, or from the terminal for a Ctrl-C there); the instance comes down afterwards in every case.' },
  { name: 'status', summary: 'instances, services, addresses and health (no recipe: every instance of the state dir)', usage: '[RECIPE] [-i NAME] [--json]', recipe: 'optional',
    examples: ['warren status recipes/checkout.env.ts', 'warren status --json', 'warren status --watch'], options: ['instance', 'json', 'watch', ...STATE] },
  { name: 'restart', summary: 'stop a service and start it again in place (same address and log), from any process; waits until it is ready', usage: 'SERVICE [-i NAME]', recipe: 'none',
    examples: ['warren restart user -i alice'], options: ['instance', ...STATE],
    details: 'The owner of the instance restarts it (the foreground CLI, an embedding script, or the launcher of a detached instance), then this waits until it is ready.' },
  { name: 'ls', summary: 'every instance on this machine, of every state dir (like docker compose ls)', usage: '[--json]', recipe: 'none',
    examples: ['warren ls', 'warren ls --json'], options: ['json', ...STATE] },
  { name: 'plan', summary: 'the steps `up` would run, each with its undo and recipe line; nothing is done', usage: 'RECIPE [-i NAME] [--json]', recipe: 'required',
    examples: ['warren plan recipes/checkout.env.ts --json'], options: ['instance', 'json', ...STATE] },
  { name: 'validate', summary: 'every problem in the recipe, with its line (a bundle: the programs missing here too)', usage: 'RECIPE', recipe: 'required',
    examples: ['warren validate recipes/checkout.env.ts'], options: ['instance', ...STATE] },
  { name: 'timings', summary: 'the critical chain of the instance\'s up: which step waited for which, and how long each took', usage: '[RECIPE] [-i NAME] [--json]', recipe: 'optional',
    examples: ['warren timings -i alice', 'warren timings recipes/checkout.env.ts --json'], options: ['instance', 'json', ...STATE] },
  { name: 'logs', summary: 'print a service\'s log', usage: 'RECIPE SERVICE [-i NAME] [-f]', recipe: 'required',
    examples: ['warren logs recipes/checkout.env.ts order -f'], options: ['instance', 'follow', ...STATE] },
  { name: 'events', summary: 'the instance\'s event log: steps, readiness, exits', usage: 'RECIPE [-i NAME] [-f] [--json]', recipe: 'required',
    examples: ['warren events recipes/checkout.env.ts -f'], options: ['instance', 'follow', 'json', ...STATE] },
  { name: 'exec', summary: 'run a command inside a service\'s namespaces; exits with its code', usage: 'RECIPE SERVICE [-i NAME] -- CMD...', recipe: 'required',
    examples: ['warren exec recipes/checkout.env.ts user -- cat /etc/hosts', 'warren exec recipes/shop.env.ts db -u root -- id'], options: ['instance', 'user', ...STATE],
    details: 'It runs as the service\'s user (its `user` option), with its environment, in its folder; -u root runs it as root.' },
  { name: 'bundle', summary: 'one .mjs file with the recipe, its modules and its .ts/.js services: runs where only warren is installed', usage: 'RECIPE -o FILE.mjs', recipe: 'required',
    examples: ['warren bundle recipes/checkout.env.ts -o checkout.mjs && warren up checkout.mjs'], options: ['output'],
    details: 'The same input gives the same bytes. Programs (postgres, redis-server) are referred to by the recipe\'s paths: `warren validate FILE.mjs` lists those missing on a machine.' },
  { name: 'gc', summary: 'reap instances whose owner died, by replaying their journals', usage: '[--orphans]', recipe: 'none',
    examples: ['warren gc', 'warren gc --orphans'], options: ['orphans', 'verbose', ...STATE],
    details: '--orphans also deletes wr.* namespaces and wr* links no instance of this state dir knows: only after deleting a state dir by hand, since it would remove instances of other state dirs too.' },
  { name: 'doctor', summary: 'check what up needs from this machine, one line each with a fix; exits 0 only when up can work', usage: '[--json]', recipe: 'none',
    examples: ['warren doctor'], options: ['json', ...STATE] },
  { name: 'completion', summary: 'print a shell completion script', usage: 'bash|zsh', recipe: 'none',
    examples: ['warren completion bash > /etc/bash_completion.d/warren', 'source <(warren completion zsh)'], options: [] },
  { name: 'export', summary: 'the recipe as Kubernetes manifests: a Namespace per instance, Deployments, Services, NetworkPolicies; checked offline',
    usage: 'k8s RECIPE [-i NAME] [-o DIR|-] [--images FILE.json] [--wait-image IMAGE] [--check]    (or: k8s --check FILE|DIR...)', recipe: 'none',
    examples: ['warren export k8s recipes/checkout.env.ts --images images.json -o k8s/ --check', 'warren export k8s --check k8s/'],
    options: ['instance', 'output', 'images', 'wait-image', 'check'],
    details:
      '-o DIR writes one file per object group (00-namespace.yaml first, SERVICE.secret.yaml readable by you only); -o - or no -o prints one stream. ' +
      'Images: --images FILE.json over env(name, { images }) over each service\'s `image`; a service with none fails the export. ' +
      'What Kubernetes cannot express is listed at the top of the output and on stderr. --check with YAML files or folders checks those instead.' },
  { name: 'ui', summary: 'a web page of every instance on this machine: topology, health, live logs, events, down', usage: '[--port 4848] [--open]', recipe: 'none',
    examples: ['warren ui', 'warren ui --port 5000 --open'], options: ['port', 'open', ...STATE],
    details: 'Serves on 127.0.0.1 only and prints the URL to open: its token is the only way in (keep it to yourself). Runs until Ctrl-C; instances may come and go meanwhile.' },
  { name: 'shape', summary: 'set exactly this impairment on a service\'s (or namespace\'s) link, both directions, live; anything not given is none',
    usage: '[RECIPE] SERVICE|NAMESPACE [--delay TIME] [--jitter TIME] [--loss PCT] [--rate RATE] [--corrupt PCT] [--duplicate PCT] [--reorder PCT] | --clear  [-i NAME]', recipe: 'none',
    examples: ['warren shape payment --delay 300ms --loss 5% -i alice', 'warren shape payment --clear -i alice'],
    options: ['delay', 'jitter', 'loss', 'rate', 'corrupt', 'duplicate', 'reorder', 'clear', 'instance', ...STATE],
    details: 'Takes effect at once, without restarting anything or resetting open connections. The delay is added in each direction, so a round trip through the link takes twice as long more. Without a RECIPE the instance is found by its name.' },
  { name: 'partition', summary: 'cut every packet between two groups of services or namespaces, both directions (the host still reaches everyone)', usage: '[RECIPE] GROUP GROUP [-i NAME]    (a group: names separated by commas)', recipe: 'none',
    examples: ['warren partition order payment,user -i alice', 'warren heal -i alice'], options: ['instance', ...STATE] },
  { name: 'heal', summary: 'remove every partition of an instance (impairments stay: `warren shape X --clear`)', usage: '[RECIPE] [-i NAME]', recipe: 'none',
    examples: ['warren heal -i alice'], options: ['instance', ...STATE] },
  { name: 'port', summary: 'where the host reaches a published service: 127.0.0.1:PORT (like docker compose port)', usage: '[RECIPE] SERVICE [-i NAME] [--json]', recipe: 'none',
    examples: ['warren port web -i alice', 'curl "http://$(warren port web -i alice)/health"'], options: ['json', 'instance', ...STATE] },
  { name: 'volumes', summary: 'the volumes this state dir keeps (they outlive down, crashes and gc), with their size; rm removes one', usage: 'ls [--json] | rm NAME -i INSTANCE', recipe: 'none',
    examples: ['warren volumes ls', 'warren volumes rm pgdata -i alice'], options: ['instance', 'json', ...STATE],
    details: 'A volume is volumes/<env>/<instance>/<name> in the state dir. Only `warren down --volumes` and `warren volumes rm` remove one; rm refuses while its instance is up.' },
  { name: 'convert', summary: 'a docker-compose.yml, Procfile or process-compose.yaml as a recipe; what it cannot convert is listed at its top and on stderr', usage: 'FILE [-o FILE.env.ts] [--force]', recipe: 'none',
    examples: ['warren convert docker-compose.yml -o stack.env.ts && warren validate stack.env.ts', 'warren convert Procfile'], options: ['output', 'force'],
    details: 'The format is told by the file\'s name (docker-compose.yml, compose.yaml, Procfile, process-compose.yaml), else by what it holds. Without -o the recipe goes to stdout. Well-known images (postgres, redis, nginx, memcached, mariadb, mysql) become Debian\'s programs with the image\'s defaults; any other image a TODO that `warren validate` reports. Env files are read only beside the file or below it, never through a symlink; -o is never replaced without --force.' },
  { name: 'help', summary: 'this text, or a command\'s help', usage: '[COMMAND]', recipe: 'none', examples: ['warren help run'], options: [] },
];

/** Adds a command (or replaces one of the same name). */
export function registerCommand(spec: CommandSpec): void {
  const at = COMMANDS.findIndex((c) => c.name === spec.name);
  if (at >= 0) COMMANDS[at] = spec;
  else COMMANDS.splice(COMMANDS.length - 1, 0, spec);
}

export function commandSpec(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}

export interface CliArgs {
  readonly command: string;
  /** False when argv named no command (`warren --help`). */
  readonly commandGiven: boolean;
  readonly positionals: readonly string[];
  /** What came after `--` (exec's and run's command). */
  readonly rest: readonly string[];
  readonly instance: string;
  readonly instanceGiven: boolean;
  readonly detach: boolean;
  readonly all: boolean;
  readonly orphans: boolean;
  readonly json: boolean;
  readonly follow: boolean;
  readonly verbose: boolean;
  readonly quiet: boolean;
  readonly timings: boolean;
  readonly keepOnFailure: boolean;
  readonly output: string | undefined;
  readonly images: string | undefined;
  readonly check: boolean;
  readonly waitImage: string | undefined;
  readonly port: string | undefined;
  readonly open: boolean;
  /** The link impairment flags given (`shape`), as written: { delay: '300ms', loss: '5%' }. */
  readonly link: Readonly<Record<string, string>>;
  readonly clear: boolean;
  readonly watch: boolean;
  readonly help: boolean;
  readonly stateDir: string | undefined;
  readonly volumes: boolean;
  readonly user: string | undefined;
  readonly force: boolean;
}

/** Parses argv; an option the command does not take is a UsageError (exit 2). */
export function parseCli(argv: readonly string[]): CliArgs {
  const split = argv.indexOf('--');
  const head = split === -1 ? [...argv] : argv.slice(0, split);
  const rest = split === -1 ? [] : argv.slice(split + 1);
  const { values, positionals } = parseArgs({ args: head, allowPositionals: true, strict: true, options: OPTIONS });
  const [command = 'help', ...others] = positionals;
  const spec = commandSpec(command);
  if (spec) {
    const allowed = new Set<string>([...spec.options, 'help']);
    const wrong = Object.keys(values).filter((key) => !allowed.has(key));
    if (wrong.length) throw new UsageError(`${wrong.map((w) => `--${w}`).join(', ')} is not an option of '${command}' (warren ${command} --help)`);
  }
  return {
    command,
    commandGiven: positionals.length > 0,
    positionals: others,
    rest,
    instance: values.instance ?? 'default',
    instanceGiven: values.instance !== undefined,
    detach: values.detach ?? false,
    all: values.all ?? false,
    orphans: values.orphans ?? false,
    json: values.json ?? false,
    follow: values.follow ?? false,
    verbose: values.verbose ?? false,
    quiet: values.quiet ?? false,
    timings: values.timings ?? false,
    keepOnFailure: values['keep-on-failure'] ?? false,
    output: values.output,
    images: values.images,
    check: values.check ?? false,
    waitImage: values['wait-image'],
    port: values.port,
    open: values.open ?? false,
    link: Object.fromEntries((['delay', 'jitter', 'loss', 'rate', 'corrupt', 'duplicate', 'reorder'] as const).flatMap((k) => (values[k] === undefined ? [] : [[k, values[k]!]]))),
    clear: values.clear ?? false,
    watch: values.watch ?? false,
    help: values.help ?? false,
    stateDir: values['state-dir'],
    volumes: values.volumes ?? false,
    user: values.user,
    force: values.force ?? false,
  };
}

/** The --state-dir given, as the SDK's options take it. */
export function stateDirOf(args: CliArgs): { stateDir?: string } {
  return args.stateDir ? { stateDir: args.stateDir } : {};
}

function flag(name: OptionName): string {
  const o: OptionSpec = OPTIONS[name];
  return `${o.short ? `-${o.short}, ` : '    '}--${name}${o.value ? ` ${o.value}` : ''}`;
}

/** `warren help`: every command in one line. */
export function usageText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return `warren — isolated copies of a microservice environment on one Linux machine

Usage:
  warren <command> [RECIPE] [options]      (or: tsx RECIPE <command> [options])

Example:
  warren run recipes/checkout.env.ts -- npm run test:e2e

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`).join('\n')}

\`warren <command> --help\` shows a command's example and options.
Environment: WARREN_STATE_DIR, WARREN_SUBNET_POOL (default 10.213.0.0/16), NO_COLOR, WARREN_DEBUG.`;
}

/** `warren <command> --help`: example first, then usage and options. */
export function commandHelp(spec: CommandSpec): string {
  const options = [...spec.options, 'help' as const];
  const width = Math.max(...options.map((o) => flag(o).length)) + 2;
  return [
    `warren ${spec.name} — ${spec.summary}`,
    '',
    `Example${spec.examples.length > 1 ? 's' : ''}:`,
    ...spec.examples.map((e) => `  ${e}`),
    '',
    'Usage:',
    `  warren ${spec.name} ${spec.usage}`.trimEnd(),
    ...(spec.recipe === 'required' ? [`  tsx RECIPE ${spec.name} ${spec.usage.replace(/^\[?RECIPE\]? ?/, '')}`.trimEnd()] : []),
    ...(spec.details ? ['', spec.details] : []),
    '',
    'Options:',
    ...options.map((o) => `  ${flag(o).padEnd(width)}${o === 'help' ? 'this text' : OPTIONS[o].help}`),
  ].join('\n');
}
