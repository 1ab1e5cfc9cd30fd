// Name rules shared by the DSL's validation and the planner.

/** Lower-case letters, digits and inner dashes: safe in file names, hostnames and interface names. */
export const NAME_PATTERN = /^[a-z](?:[a-z0-9-]*[a-z0-9])?$/;
export const MAX_NAME_LENGTH = 32;

/** Why `name` is not a valid warren name, or undefined when it is. */
export function nameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return `must be a string, got ${typeof name}`;
  if (name.length === 0) return 'must not be empty';
  if (name.length > MAX_NAME_LENGTH) return `must be at most ${MAX_NAME_LENGTH} characters, got ${name.length}`;
  if (!NAME_PATTERN.test(name) || name.includes('--')) {
    return 'may contain only lower-case letters, digits and single inner dashes, starting with a letter';
  }
  return undefined;
}
