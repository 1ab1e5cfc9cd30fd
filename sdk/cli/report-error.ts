// How an error reaches a user: a message (never a stack trace unless WARREN_DEBUG) and an exit code.
import { formatIssue, SpecError, UpError, UsageError, WarrenError } from '../errors.ts';

/** 2 for a wrong command line, 1 for every other failure (see the README's table of exit codes). */
export function exitCodeOf(error: unknown): number {
  return isArgError(error) || error instanceof UsageError ? 2 : 1;
}

/** The message for an error: every problem of a recipe, the cause of a failed up. */
export function describeError(error: unknown): string {
  if (error instanceof SpecError) {
    return `warren: ${error.issues.length} problem${error.issues.length === 1 ? '' : 's'} in the recipe; nothing was done:\n${error.issues.map(formatIssue).join('\n')}`;
  }
  if (error instanceof UpError) return `warren: up failed and everything it created was removed:\n  ${error.message.split('\n').join('\n  ')}`;
  if (error instanceof WarrenError || isArgError(error)) return `warren: ${(error as Error).message}`;
  return `warren: ${error instanceof Error ? error.message : String(error)}`;
}

function isArgError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS');
}
