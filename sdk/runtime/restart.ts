// `restart(service)` from any process: the owner's supervisor does it; another process asks the
// owner through its control socket. A detached instance's owner (the C launcher) cannot yet.
import { join } from 'node:path';
import type { Drivers } from '../drivers/types.ts';
import { InstanceError, ServiceError, SetupError } from '../errors.ts';
import type { Plan } from '../plan/types.ts';
import { CONTROL_SOCKET, ownerAlive, readOwner } from './state.ts';
import type { Supervisor } from './supervisor.ts';

/** A restart waits for readiness: the longest readiness timeout of the plan, and some slack. */
const SLACK_MS = 30_000;

export interface RestartContext {
  readonly dir: string;
  readonly plan: Plan;
  readonly drivers: Drivers;
  readonly supervisor?: Supervisor;
}

export async function restartService(ctx: RestartContext, service: string): Promise<void> {
  if (!ctx.plan.services.some((s) => s.name === service)) {
    throw new ServiceError('SERVICE_NOT_FOUND', service, `no service '${service}' in ${ctx.plan.env} (services: ${ctx.plan.services.map((s) => s.name).join(', ')})`);
  }
  if (ctx.supervisor && !ctx.supervisor.stopped) return ctx.supervisor.restart(service, 'request');
  const owner = readOwner(ctx.dir);
  const key = `${ctx.plan.env} instance '${ctx.plan.instance}'`;
  if (!owner || !ownerAlive(owner, ctx.drivers.owners)) throw new InstanceError('INSTANCE_NOT_FOUND', `${key} has no live owner to restart '${service}' (gc reaps it)`);
  if (!ctx.drivers.control) throw new SetupError('these drivers have no control channel: restart from another process needs one');
  const answer = (await ctx.drivers.control.request(join(ctx.dir, CONTROL_SOCKET), { op: 'restart', service }, timeoutOf(ctx.plan)).catch((error: Error) => {
    throw new ServiceError('SERVICE_RESTART_UNSUPPORTED', service, `${key}: its owner does not answer restart requests (${error.message})${owner.mode === 'detached' ? '; a detached instance brought up by an older warren has no control socket' : ''}`);
  })) as { ok?: unknown; error?: unknown; pid?: unknown } | null;
  if (answer?.ok !== true) throw new ServiceError('SERVICE_RESTART_FAILED', service, `restart of '${service}' failed: ${typeof answer?.error === 'string' ? answer.error : 'no answer from the owner'}`);
  // A Node owner answers once it is ready; the launcher (detached) once it runs: readiness is checked here.
  if (owner.mode === 'detached') await readyAfterRestart(ctx, service);
}

async function readyAfterRestart(ctx: RestartContext, service: string): Promise<void> {
  const step = ctx.plan.steps.find((s) => s.kind === 'service.ready' && s.args.service === service);
  if (step?.kind !== 'service.ready') return;
  await ctx.drivers.probe.waitReady(step.args, { signal: AbortSignal.timeout(step.args.timeout + SLACK_MS), exited: () => undefined });
}

/** The owner's side: requests checked as if a stranger sent them (only root can reach the socket, but still). */
export async function serveControl(dir: string, plan: Plan, drivers: Drivers, supervisor: Supervisor): Promise<{ close(): void } | undefined> {
  if (!drivers.control) return undefined;
  const names = new Set(plan.services.map((s) => s.name));
  return drivers.control.serve(join(dir, CONTROL_SOCKET), async (request) => {
    const r = request as { op?: unknown; service?: unknown } | null;
    if (typeof r !== 'object' || r === null || r.op !== 'restart') return { ok: false, error: 'unknown request (known: restart)' };
    if (typeof r.service !== 'string' || !names.has(r.service)) return { ok: false, error: `no service ${JSON.stringify(r.service)} in ${plan.env}` };
    await supervisor.restart(r.service, 'request');
    return { ok: true };
  });
}

function timeoutOf(plan: Plan): number {
  const ready = plan.steps.map((s) => (s.kind === 'service.ready' ? s.args.timeout : 0));
  const stop = plan.steps.map((s) => (s.kind === 'service.start' ? s.args.stopTimeout : 0));
  return Math.max(0, ...ready) + Math.max(0, ...stop) + SLACK_MS;
}
