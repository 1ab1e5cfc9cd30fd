// Least privilege as warren gives it locally: every capability dropped, then warren's default set
// and the recipe's `capabilities` added; no_new_privs (allowPrivilegeEscalation: false).
import type { ISecurityContext } from 'kubernetes-models/v1/SecurityContext';
import { DEFAULT_CAPABILITIES } from '../../../dsl/capabilities.ts';
import { serviceNote } from './notes.ts';
import type { ServiceMapping } from './types.ts';

export function securityContext(extra: readonly string[]): ISecurityContext {
  const add = [...new Set([...DEFAULT_CAPABILITIES, ...extra])];
  // The API server refuses allowPrivilegeEscalation: false next to SYS_ADMIN.
  const escalation = add.includes('SYS_ADMIN') ? {} : { allowPrivilegeEscalation: false };
  return { ...escalation, capabilities: { drop: ['ALL'], add } };
}

export const securityMapping: ServiceMapping = ({ service }, parts) => {
  const notes = service.capabilities.includes('SYS_ADMIN')
    ? [...parts.notes, serviceNote(service, 'SYS_ADMIN: Kubernetes allows no allowPrivilegeEscalation: false beside it, so no_new_privs is not set')]
    : parts.notes;
  return { ...parts, container: { ...parts.container, securityContext: securityContext(service.capabilities) }, notes };
};
