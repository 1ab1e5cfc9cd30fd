// What a running instance's state folder says about it: enough to open it or to bring it down.
import { join } from 'node:path';
import { nameProblem } from '../../dsl/names.ts';
import type { ServiceRecord } from '../drivers/types.ts';
import { InstanceError, SpecError } from '../errors.ts';
import type { Plan } from '../plan/types.ts';
import { readJournalText, replay } from '../runtime/journal.ts';
import { isProcessRecord } from '../runtime/journal-check.ts';
import { checkStateDir, instanceDir, JOURNAL, resolveStateDir } from '../runtime/state.ts';

export interface RunningInstance {
  readonly stateDir: string;
  readonly dir: string;
  readonly plan: Plan;
  /** Its services' processes, by name, as its journal recorded them. */
  readonly services: Map<string, ServiceRecord>;
}

/** The instance as its journal has it (brought up by this process or another one); INSTANCE_NOT_FOUND when it is not up. */
export function readRunning(env: string, instance: string, options: { readonly stateDir?: string } = {}): RunningInstance {
  const problems = [nameProblem(env) && `environment name ${JSON.stringify(env)} ${nameProblem(env)}`, nameProblem(instance) && `instance name ${JSON.stringify(instance)} ${nameProblem(instance)}`].filter(Boolean);
  // Names become paths: checked before they are used as one.
  if (problems.length) throw new SpecError(problems.map((message) => ({ code: 'invalid-name', path: 'instance', message: String(message) })));
  const stateDir = resolveStateDir(options.stateDir);
  const missing = () => new InstanceError('INSTANCE_NOT_FOUND', `instance '${instance}' of '${env}' is not up (state dir ${stateDir})`);
  if (!checkStateDir(stateDir)) throw missing();
  const dir = instanceDir(stateDir, env, instance);
  const text = readJournalText(join(dir, JOURNAL));
  const state = replay(text.records, text.unreadable);
  if (!state.plan || state.plan.env !== env || state.plan.instance !== instance) throw missing();
  const services = new Map<string, ServiceRecord>();
  for (const s of state.plan.services) {
    const record = state.results.get(`service.start:${s.name}`);
    if (isProcessRecord(record)) services.set(s.name, record);
  }
  return { stateDir, dir, plan: state.plan, services };
}
