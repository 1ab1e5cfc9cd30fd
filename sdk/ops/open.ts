// Opening a running instance from any process: the handle is rebuilt from its journal.
import { join } from 'node:path';
import type { WarrenEvent } from '../../dsl/events.ts';
import { nameProblem } from '../../dsl/names.ts';
import { createLinuxDrivers } from '../drivers/linux.ts';
import type { Drivers, ServiceRecord } from '../drivers/types.ts';
import { InstanceError, SpecError } from '../errors.ts';
import { Instance } from '../runtime/instance.ts';
import { readJournalText, replay } from '../runtime/journal.ts';
import { isProcessRecord } from '../runtime/journal-check.ts';
import { checkStateDir, instanceDir, JOURNAL, resolveStateDir } from '../runtime/state.ts';

export interface OpenOptions {
  readonly stateDir?: string;
  readonly drivers?: Drivers;
  readonly onEvent?: (event: WarrenEvent) => void;
}

/** The handle of an instance that is up (brought up by this process or another one); INSTANCE_NOT_FOUND otherwise. */
export function openInstance<S extends string = string>(env: string, instance: string, options: OpenOptions = {}): Instance<S> {
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
  const drivers = options.drivers ?? createLinuxDrivers();
  return new Instance<S>({ stateDir, dir, plan: state.plan, drivers, emit: (event) => options.onEvent?.(event), services });
}
