// How a Compose service runs: readiness from its healthcheck, restart policies, limits, its user and
// capabilities, in the DSL's terms.
import { ALL_CAPABILITIES } from '../../dsl/capabilities.ts';
import type { Limits } from '../../dsl/supervision.ts';
import { ConvertError } from '../errors.ts';
import { cpus, isRecord, memory, restartPolicy } from './common.ts';
import type { ComposeContext, Where } from './compose-context.ts';
import type { Readiness, Unit } from './model.ts';

export function readinessOf(def: Record<string, unknown>, at: Where, key: Where, ctx: ComposeContext): Readiness | undefined {
  const hc = def.healthcheck;
  if (!isRecord(hc)) return undefined;
  if (hc.disable === true) return undefined;
  const rest = Object.keys(hc).filter((k) => k !== 'test' && k !== 'disable');
  if (rest.length) ctx.notes.notConverted(at('healthcheck'), key('healthcheck'), `${rest.join(', ')} (warren probes until the service is ready or the readiness timeout, then stops)`);
  const test = hc.test;
  if (typeof test === 'string') return { kind: 'exec', argv: ['sh', '-c', test] };
  if (!Array.isArray(test) || !test.length) return undefined;
  const [mode, ...args] = test.map(String);
  if (mode === 'NONE') return undefined;
  if (mode === 'CMD') return { kind: 'exec', argv: args };
  if (mode === 'CMD-SHELL') return { kind: 'exec', argv: ['sh', '-c', args.join(' ')] };
  throw new ConvertError('CONVERT_INPUT_INVALID', at('healthcheck', 'test'), `healthcheck test must start with CMD, CMD-SHELL or NONE, got ${JSON.stringify(mode)}`);
}

export function supervisionOf(def: Record<string, unknown>, at: Where, key: Where, ctx: ComposeContext): Pick<Unit, 'restart' | 'maxRestarts' | 'backoff'> {
  let out: Pick<Unit, 'restart' | 'maxRestarts' | 'backoff'> = {};
  if (typeof def.restart === 'string') {
    const policy = restartPolicy(def.restart);
    if (!policy) ctx.notes.notConverted(at('restart'), key('restart'), `restart ${JSON.stringify(def.restart)}`);
    else {
      if (def.restart === 'unless-stopped') ctx.notes.add(at('restart'), key('restart'), "unless-stopped is 'always' (warren has no daemon that restarts after a reboot)");
      out = policy.restart === 'no' ? {} : policy;
    }
  }
  const rp = isRecord(def.deploy) && isRecord(def.deploy.restart_policy) ? def.deploy.restart_policy : undefined;
  if (rp) {
    const policy = typeof rp.condition === 'string' ? restartPolicy(rp.condition) : { restart: 'always' as const };
    if (policy && policy.restart !== 'no') {
      const max = Number(rp.max_attempts);
      const delay = duration(rp.delay);
      out = { ...policy, ...(Number.isInteger(max) && max >= 0 ? { maxRestarts: max } : {}), ...(delay !== undefined ? { backoff: { initial: delay } } : {}) };
    } else if (policy) out = {};
    if (rp.window !== undefined) ctx.notes.notConverted(at('deploy', 'restart_policy', 'window'), key('deploy', 'restart_policy', 'window'), 'the window (a restart counts as failed when the service dies within it): warren starts its count over after 10 s up');
  }
  return out;
}

/** `5s`, `1m30s`, `500ms` in ms. */
function duration(value: unknown): number | undefined {
  if (typeof value === 'number') return value / 1e6;
  if (typeof value !== 'string') return undefined;
  let ms = 0;
  const re = /(\d+(?:\.\d+)?)(ms|us|h|m|s)/g;
  let matched = '';
  for (const m of value.matchAll(re)) {
    ms += Number(m[1]) * ({ h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001 } as Record<string, number>)[m[2]!]!;
    matched += m[0];
  }
  return matched === value ? Math.round(ms) : undefined;
}

export function limitsOf(def: Record<string, unknown>, at: Where, key: Where, ctx: ComposeContext): Limits | undefined {
  const deploy = isRecord(def.deploy) ? def.deploy : {};
  const resources = isRecord(deploy.resources) ? deploy.resources : {};
  const limits = isRecord(resources.limits) ? resources.limits : {};
  for (const k of Object.keys(deploy).filter((k) => k !== 'resources' && k !== 'restart_policy')) ctx.notes.notConverted(at('deploy', k), key('deploy', k), `deploy.${k}`);
  for (const k of Object.keys(resources).filter((k) => k !== 'limits')) ctx.notes.notConverted(at('deploy', 'resources', k), key('deploy', 'resources', k), `deploy.resources.${k} (warren sets limits only)`);
  for (const k of Object.keys(limits).filter((k) => !['cpus', 'memory', 'pids'].includes(k))) ctx.notes.notConverted(at('deploy', 'resources', 'limits', k), key('deploy', 'resources', 'limits', k), `limit '${k}'`);
  const mem = memory(limits.memory ?? def.mem_limit);
  const cpu = cpus(limits.cpus ?? def.cpus);
  const pidsValue = Number(limits.pids ?? def.pids_limit);
  const pids = Number.isInteger(pidsValue) && pidsValue > 0 ? pidsValue : undefined;
  const out: Limits = { ...(mem ? { memory: mem } : {}), ...(cpu ? { cpus: cpu } : {}), ...(pids ? { pids } : {}) };
  return Object.keys(out).length ? out : undefined;
}

export function userOf(def: Record<string, unknown>, at: Where, key: Where, ctx: ComposeContext): string | undefined {
  if (def.user === undefined) return undefined;
  const user = String(def.user);
  if (/^\d+$/.test(user)) {
    ctx.notes.add(at('user'), key('user'), `user ${user} is '${user}:0' (Docker's group for a bare uid is 0)`);
    return `${user}:0`;
  }
  return user;
}

export function capabilitiesOf(def: Record<string, unknown>, at: Where, key: Where, ctx: ComposeContext): string[] {
  if (def.cap_drop !== undefined) ctx.notes.notConverted(at('cap_drop'), key('cap_drop'), 'cap_drop (warren starts from Docker\'s default set; it cannot drop from it)');
  if (!Array.isArray(def.cap_add)) return [];
  return def.cap_add.flatMap((c, i) => {
    const cap = String(c).toUpperCase().replace(/^CAP_/, '');
    if ((ALL_CAPABILITIES as readonly string[]).includes(cap)) return [cap];
    ctx.notes.notConverted(at('cap_add', i), key('cap_add', i), `capability ${String(c)}`);
    return [];
  });
}
