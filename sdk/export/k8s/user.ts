// `user`: a numeric uid (and gid) is runAsUser (and runAsGroup); a name means nothing to the
// cluster's nodes, so the image decides, and that is noted.
import { serviceNote } from './notes.ts';
import type { ServiceMapping } from './types.ts';

const NUMERIC = /^(\d+)(?::(\d+))?$/;

export const userMapping: ServiceMapping = ({ service }, parts) => {
  if (service.user === undefined) return parts;
  const match = NUMERIC.exec(service.user);
  if (!match) return { ...parts, notes: [...parts.notes, serviceNote(service, `user '${service.user}' is a name: Kubernetes needs a number (runAsUser), so the image's user runs; give 'uid:gid' to set it`)] };
  const uid = Number(match[1]);
  const ids = { runAsUser: uid, ...(match[2] === undefined ? {} : { runAsGroup: Number(match[2]) }), ...(uid === 0 ? {} : { runAsNonRoot: true }) };
  return { ...parts, container: { ...parts.container, securityContext: { ...parts.container.securityContext, ...ids } } };
};
