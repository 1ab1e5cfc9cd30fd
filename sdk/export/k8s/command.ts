// The service's command as the container's: a program (`redis-server`, `/usr/bin/x`) is run as
// given; a file of this machine (`../services/user.ts`) is what the image was built from, so the
// image's own entrypoint runs instead.
import { extname, isAbsolute } from 'node:path';
import { serviceNote } from './notes.ts';
import type { ServiceMapping } from './types.ts';

const SOURCE_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.tsx', '.js', '.mjs', '.cjs']);

export const commandMapping: ServiceMapping = ({ service }, parts) => {
  const [first = '', ...rest] = typeof service.command === 'string' ? [service.command] : service.command;
  const program = !SOURCE_EXTENSIONS.has(extname(first)) && (isAbsolute(first) || !first.includes('/'));
  const notes = [...parts.notes];
  let container = parts.container;
  if (program) container = { ...container, command: [first, ...rest] };
  else {
    if (rest.length) container = { ...container, args: rest };
    notes.push(serviceNote(service, `command '${first}' is a file of this machine: the image's entrypoint runs instead${rest.length ? ', with the recipe\'s arguments' : ''}`));
  }
  if (service.cwd !== undefined) {
    if (isAbsolute(service.cwd)) container = { ...container, workingDir: service.cwd };
    else notes.push(serviceNote(service, `cwd '${service.cwd}' is relative to the recipe on this machine: the image's working directory is used`));
  }
  return { ...parts, container, notes };
};
