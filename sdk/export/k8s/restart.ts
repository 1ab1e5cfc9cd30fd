// Restart policies: a Deployment's pods always restart (with the kubelet's own backoff, up to 5 min),
// which is warren's 'always'; anything else is noted.
import { serviceNote } from './notes.ts';
import type { ServiceMapping } from './types.ts';

export const restartMapping: ServiceMapping = ({ service }, parts) => {
  const notes = [...parts.notes];
  if (service.restart === 'no' || service.restart === 'on-failure') notes.push(serviceNote(service, `restart '${service.restart}': a Deployment restarts its pods whenever they exit`));
  if (service.maxRestarts !== undefined || service.backoff !== undefined) notes.push(serviceNote(service, 'maxRestarts and backoff: the kubelet restarts with its own backoff (10 s doubling up to 5 min), without end'));
  return notes.length === parts.notes.length ? parts : { ...parts, notes };
};
