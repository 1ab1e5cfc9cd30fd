// A service's restart policy as the plan carries it to the runtime's supervisor.
import type { EnvSpec } from '../../dsl/spec.ts';
import type { RestartArgs } from './types.ts';

export function restartArgs(service: EnvSpec['services'][number]): { restart?: RestartArgs } {
  if (!service.restart || service.restart === 'no') return {};
  return { restart: { policy: service.restart, ...(service.maxRestarts === undefined ? {} : { maxRestarts: service.maxRestarts }), ...(service.backoff ? { backoff: { ...service.backoff } } : {}) } };
}
