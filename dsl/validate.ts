import { capabilityNumber } from './capabilities.ts';
import { imageProblem } from './image.ts';
import { nameProblem } from './names.ts';
import { isolationIssues, logPatternProblem } from './validate-isolation.ts';
import type { EnvSpec, Issue, IssueCode, Loc, NamespaceSpec, ServiceSpec } from './spec.ts';
import { impairmentProblems, portListProblems } from './units.ts';
import { supervisionIssues } from './validate-supervision.ts';

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Node's timers turn any delay above 2^31-1 ms (about 24.8 days) into 1 ms. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;
/** What an HTTP request target may hold: visible ASCII, so nothing ends the request line early. */
const HTTP_PATH = /^\/[\x21-\x7e]*$/;

/** Every problem in a spec, each with its recipe location. Pure: touches no file or process. */
export function validate(spec: EnvSpec): Issue[] {
  const issues: Issue[] = [];
  const add = (code: IssueCode, path: string, message: string, loc: Loc | undefined) =>
    issues.push(loc ? { code, path, message, loc } : { code, path, message });

  for (const note of spec.notes) add(note.code, 'env', note.message, note.loc);
  checkName(spec.name, 'name', `environment name '${String(spec.name)}'`, spec.loc, add);
  checkTimeout(spec.options.readyTimeout, 'options.readyTimeout', 'readyTimeout', spec.loc, add);
  checkTimeout(spec.options.stopTimeout, 'options.stopTimeout', 'stopTimeout', spec.loc, add);

  const namespaces = new Map<string, { veth: boolean }>();
  spec.namespaces.forEach((ns, i) => {
    const path = `namespaces[${i}]`;
    const valid = checkName(ns.name, `${path}.name`, `namespace name '${String(ns.name)}'`, ns.loc, add);
    if (valid && namespaces.has(ns.name)) add('duplicate-name', `${path}.name`, `namespace '${ns.name}' is declared twice`, ns.loc);
    // Kept even when the name is bad, so its services are not also reported unreachable.
    namespaces.set(ns.name, { veth: ns.veth || (namespaces.get(ns.name)?.veth ?? false) });
    checkNetwork(ns, path, add);
  });
  if (spec.options.hostAccess !== undefined) {
    for (const problem of portListProblems(spec.options.hostAccess, 'env(): hostAccess')) add('invalid-option', 'options.hostAccess', problem, spec.loc);
  }

  const services = new Map<string, ServiceSpec>();
  const ports = new Map<string, string>();
  const published = new Map<number, string>();
  spec.services.forEach((service, i) => {
    const path = `services[${i}]`;
    const label = `service '${service.name}'`;
    const loc = service.loc;
    if (service.namespace === null) {
      add('no-namespace', path, `.service() needs a .namespace() before it`, loc);
    } else if (checkName(service.name, `${path}.name`, `service name '${String(service.name)}'`, loc, add)) {
      if (services.has(service.name)) {
        add('duplicate-name', `${path}.name`, `service '${service.name}' is declared twice (give one a { name })`, loc);
      }
      services.set(service.name, service);
    }
    for (const key of service.unknownOptions) {
      add('invalid-option', path, key.startsWith('(') ? `${label}: ${key.slice(1, -1)}` : `${label}: unknown option '${key}'`, loc);
    }
    checkCommand(service.command, `${path}.command`, label, loc, add);
    if (service.cwd !== undefined && (typeof service.cwd !== 'string' || service.cwd === '' || service.cwd.includes('\0'))) {
      add('invalid-option', `${path}.cwd`, `${label}: cwd must be a non-empty path`, loc);
    }
    if (service.port !== undefined) {
      const port = service.port as unknown;
      if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
        add('invalid-port', `${path}.port`, `${label}: port ${describe(port)} is not an integer from 1 to 65535`, loc);
      } else if (service.namespace !== null) {
        const key = `${service.namespace}:${port}`;
        const holder = ports.get(key);
        if (holder) add('port-clash', `${path}.port`, `${label}: port ${port} is already used by service '${holder}' in namespace '${service.namespace}'`, loc);
        else ports.set(key, service.name);
      }
    }
    checkPublish(service, path, label, namespaces.get(service.namespace ?? '')?.veth ?? false, published, add);
    checkEnv(service.env, `${path}.env`, label, loc, add);
    checkCapabilities(service.capabilities ?? [], `${path}.capabilities`, label, loc, add);
    if (service.image !== undefined && imageProblem(service.image)) add('invalid-option', `${path}.image`, `${label}: image ${imageProblem(service.image)}`, loc);
    checkReady(service, path, label, namespaces.get(service.namespace ?? '')?.veth ?? false, add);
    for (const issue of supervisionIssues(service, path, label)) add('invalid-option', issue.path, issue.message, loc);
  });

  spec.services.forEach((service, i) => {
    const deps = service.dependsOn as unknown;
    if (!Array.isArray(deps)) {
      add('invalid-option', `services[${i}].dependsOn`, `service '${service.name}': dependsOn must be an array of service names`, service.loc);
      return;
    }
    deps.forEach((dep, j) => {
      const path = `services[${i}].dependsOn[${j}]`;
      if (dep === service.name) add('dependency-cycle', path, `service '${service.name}' depends on itself`, service.loc);
      else if (typeof dep !== 'string' || !(services.has(dep) || spec.tasks?.some((t) => t.name === dep))) {
        add('unknown-dependency', path, `service '${service.name}' depends on unknown service ${describe(dep)}${suggest(dep, services)}`, service.loc);
      }
    });
  });
  for (const cycle of findCycles(services)) {
    const first = services.get(cycle[0] ?? '');
    add('dependency-cycle', 'services', `dependency cycle: ${[...cycle, cycle[0]].join(' -> ')}`, first?.loc);
  }
  checkImages(spec.options.images, services, (spec.tasks ?? []).map((t) => t.name), spec.loc, add);
  for (const issue of supervisionIssues(spec.options, 'options', 'env()')) add('invalid-option', issue.path, issue.message, spec.loc);
  (spec.tasks ?? []).forEach((task, i) => {
    for (const issue of supervisionIssues({ limits: task.limits }, `tasks[${i}]`, `task '${task.name}'`)) add('invalid-option', issue.path, issue.message, task.loc);
    if (task.image !== undefined && imageProblem(task.image)) add('invalid-option', `tasks[${i}].image`, `task '${task.name}': image ${imageProblem(task.image)}`, task.loc);
  });
  issues.push(...isolationIssues(spec));
  return issues;
}

/** `env(name, { images })`: service name -> a well-formed image reference, for names the recipe declares. */
function checkImages(images: unknown, services: Map<string, ServiceSpec>, tasks: readonly string[], loc: Loc | undefined, add: Add): void {
  if (images === undefined) return;
  if (typeof images !== 'object' || images === null || Array.isArray(images)) {
    add('invalid-option', 'options.images', `env(): images must be an object of service name -> image, got ${describe(images)}`, loc);
    return;
  }
  for (const [name, image] of Object.entries(images)) {
    if (!services.has(name) && !tasks.includes(name)) add('invalid-option', `options.images.${name}`, `env(): images names unknown service ${JSON.stringify(name)}${suggest(name, services)}`, loc);
    const problem = imageProblem(image);
    if (problem) add('invalid-option', `options.images.${name}`, `env(): image of '${name}' ${problem}`, loc);
  }
}

type Add = (code: IssueCode, path: string, message: string, loc: Loc | undefined) => void;

function checkName(name: unknown, path: string, label: string, loc: Loc | undefined, add: Add): boolean {
  const problem = nameProblem(name);
  if (problem) add('invalid-name', path, `${label} ${problem}`, loc);
  return problem === undefined;
}

function checkTimeout(value: unknown, path: string, label: string, loc: Loc | undefined, add: Add): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    add('invalid-option', path, `${label} must be a positive number of milliseconds, got ${describe(value)}`, loc);
  } else if (value > MAX_TIMEOUT_MS) {
    add('invalid-option', path, `${label} must be at most ${MAX_TIMEOUT_MS} ms (about 24.8 days; Node would wait 1 ms instead), got ${value}`, loc);
  }
}

function checkCommand(command: unknown, path: string, label: string, loc: Loc | undefined, add: Add): void {
  const parts = Array.isArray(command) ? command : [command];
  const ok = parts.length > 0 && parts.every((part) => typeof part === 'string') && typeof parts[0] === 'string' && parts[0] !== '';
  if (!ok) add('invalid-command', path, `${label}: command must be a non-empty path or argv array of strings`, loc);
  else if (parts.some((part: string) => part.includes('\0'))) add('invalid-command', path, `${label}: command contains a NUL byte`, loc);
}

function checkCapabilities(capabilities: unknown, path: string, label: string, loc: Loc | undefined, add: Add): void {
  if (!Array.isArray(capabilities)) {
    add('invalid-option', path, `${label}: capabilities must be an array of capability names such as 'NET_ADMIN'`, loc);
    return;
  }
  for (const cap of capabilities) {
    if (typeof cap !== 'string' || capabilityNumber(cap) < 0) {
      const hint = typeof cap === 'string' && cap.startsWith('CAP_') ? ` (write it without the CAP_ prefix: '${cap.slice(4)}')` : '';
      add('invalid-option', path, `${label}: unknown capability ${describe(cap)}${hint}`, loc);
    }
  }
}

function checkEnv(env: unknown, path: string, label: string, loc: Loc | undefined, add: Add): void {
  if (typeof env !== 'object' || env === null || Array.isArray(env)) {
    add('invalid-env', path, `${label}: env must be an object of strings`, loc);
    return;
  }
  for (const [key, value] of Object.entries(env)) {
    if (!ENV_KEY.test(key)) add('invalid-env', `${path}.${key}`, `${label}: env name ${JSON.stringify(key)} is not a valid variable name`, loc);
    if (typeof value !== 'string') add('invalid-env', `${path}.${key}`, `${label}: env ${key} must be a string, got ${describe(value)}`, loc);
    else if (/[\0\n\r]/.test(value)) add('invalid-env', `${path}.${key}`, `${label}: env ${key} contains a newline or NUL byte`, loc);
  }
}

function checkReady(service: ServiceSpec, path: string, label: string, hasVeth: boolean, add: Add): void {
  const ready = service.ready as unknown as Record<string, unknown> | null;
  const loc = service.loc;
  if (typeof ready !== 'object' || ready === null || !['tcp', 'http', 'exec', 'log', 'started'].includes(String(ready.kind))) {
    add('invalid-ready', `${path}.ready`, `${label}: ready must be tcp(), http(path), exec(argv), log(pattern) or started()`, loc);
    return;
  }
  if (ready.timeout !== undefined) checkTimeout(ready.timeout, `${path}.ready.timeout`, `${label}: ready timeout`, loc, add);
  if (ready.kind === 'http' && (typeof ready.path !== 'string' || !ready.path.startsWith('/'))) {
    add('invalid-ready', `${path}.ready.path`, `${label}: http() path must start with '/', got ${describe(ready.path)}`, loc);
  } else if (ready.kind === 'http' && !HTTP_PATH.test(ready.path as string)) {
    add('invalid-ready', `${path}.ready.path`, `${label}: http() path may hold only visible ASCII (no space, CR, LF or other control character; percent-encode the rest), got ${describe(ready.path)}`, loc);
  }
  if (ready.kind === 'log' && logPatternProblem(ready)) add('invalid-ready', `${path}.ready`, `${label}: ${logPatternProblem(ready)}`, loc);
  if (ready.kind === 'exec') checkCommand(ready.argv, `${path}.ready.argv`, `${label}: exec() readiness`, loc, add);
  if ((ready.kind === 'tcp' || ready.kind === 'http') && service.namespace !== null) {
    if (service.port === undefined) add('invalid-ready', `${path}.ready`, `${label}: ${ready.kind}() readiness needs a port`, loc);
    else if (!hasVeth) {
      add('unreachable', `${path}.ready`, `${label}: namespace '${service.namespace}' has no .veth(), so port ${service.port} cannot be probed; add .veth() or use ready: exec([...])`, loc);
    }
  }
}

/** A namespace's link impairment and host access, with the line of `.veth()` / `.namespace()`. */
function checkNetwork(ns: NamespaceSpec, path: string, add: Add): void {
  if (ns.link !== undefined) {
    for (const problem of impairmentProblems(ns.link)) add('invalid-link', `${path}.link`, `namespace '${ns.name}': ${problem}`, ns.vethLoc ?? ns.loc);
  }
  if (ns.hostAccess !== undefined) {
    for (const problem of portListProblems(ns.hostAccess, `namespace '${ns.name}': hostAccess`)) add('invalid-option', `${path}.hostAccess`, problem, ns.loc);
    if (!ns.veth) add('unreachable', `${path}.hostAccess`, `namespace '${ns.name}': hostAccess needs .veth() (the host is reached through the instance's bridge)`, ns.loc);
  }
}

/** `publish`: a host port (or true) for a service with a port in a namespace with a veth; one service per host port. */
function checkPublish(service: ServiceSpec, path: string, label: string, hasVeth: boolean, published: Map<number, string>, add: Add): void {
  const publish = service.publish as unknown;
  if (publish === undefined) return;
  const loc = service.loc;
  if (publish !== true && (typeof publish !== 'number' || !Number.isInteger(publish) || publish < 1 || publish > 65535)) {
    add('invalid-port', `${path}.publish`, `${label}: publish must be a host port from 1 to 65535 or true (warren chooses), got ${describe(publish)}`, loc);
    return;
  }
  if (service.port === undefined) add('invalid-port', `${path}.publish`, `${label}: publish needs the service's port (.service(command, PORT, { publish }))`, loc);
  else if (!hasVeth && service.namespace !== null) add('unreachable', `${path}.publish`, `${label}: namespace '${service.namespace}' has no .veth(), so its port cannot be published`, loc);
  if (typeof publish === 'number') {
    const holder = published.get(publish);
    if (holder) add('port-clash', `${path}.publish`, `${label}: host port ${publish} is already published by service '${holder}'`, loc);
    else published.set(publish, service.name);
  }
}

/** Each elementary cycle once, as a list of service names. */
function findCycles(services: Map<string, ServiceSpec>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string) => {
    state.set(name, 'visiting');
    stack.push(name);
    const deps: unknown = services.get(name)?.dependsOn;
    for (const dep of Array.isArray(deps) ? (deps as string[]) : []) {
      if (dep === name || !services.has(dep)) continue;
      if (state.get(dep) === 'visiting') cycles.push(stack.slice(stack.indexOf(dep)));
      else if (!state.has(dep)) visit(dep);
    }
    stack.pop();
    state.set(name, 'done');
  };
  for (const name of services.keys()) if (!state.has(name)) visit(name);
  return cycles;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return String(value);
  return value === undefined ? 'undefined' : JSON.stringify(value) ?? String(value);
}

function suggest(name: unknown, known: Map<string, unknown>): string {
  if (typeof name !== 'string') return '';
  const close = [...known.keys()].find((candidate) => candidate.startsWith(name.slice(0, 2)));
  return close ? ` (did you mean '${close}'?)` : ` (known: ${[...known.keys()].join(', ') || 'none'})`;
}
