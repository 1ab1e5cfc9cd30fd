import { formatLoc } from '../dsl/location.ts';
import type { Issue, Loc } from '../dsl/spec.ts';

/** Base of every error warren throws; `code` tells them apart without instanceof. */
export abstract class WarrenError extends Error {
  abstract readonly code: string;
}

/** A recipe with problems; nothing was done. */
export class SpecError extends WarrenError {
  readonly code = 'SPEC_INVALID';
  constructor(readonly issues: readonly Issue[]) {
    super(`${issues.length} problem${issues.length === 1 ? '' : 's'} in the recipe:\n${issues.map(formatIssue).join('\n')}`);
    this.name = 'SpecError';
  }
}

export function formatIssue(issue: Issue): string {
  return `  ${formatLoc(issue.loc)}  ${issue.message}`;
}

/** Something warren needs from this machine is missing or broken; nothing was done. */
export class SetupError extends WarrenError {
  readonly code = 'SETUP_MISSING';
  constructor(message: string) {
    super(message);
    this.name = 'SetupError';
  }
}

/** A cache folder (compiled recipes, the launcher) that someone else could write: nothing is loaded from it. */
export class CacheError extends WarrenError {
  readonly code = 'CACHE_UNSAFE';
  constructor(readonly path: string, message: string) {
    super(message);
    this.name = 'CacheError';
  }
}

/** WARREN_SUBNET_POOL is not a range warren can hand out instance subnets from; nothing was done. */
export class PoolError extends WarrenError {
  readonly code = 'POOL_INVALID';
  constructor(readonly pool: string, message: string) {
    super(message);
    this.name = 'PoolError';
  }
}

/** A system command that failed. */
export class CommandError extends WarrenError {
  readonly code = 'COMMAND_FAILED';
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number | undefined,
    readonly stderr: string,
    readonly input?: string,
  ) {
    const tail = stderr.trim().split('\n').slice(-5).join('\n');
    super(`${argv.join(' ')} exited with ${exitCode ?? 'a signal'}${tail ? `: ${tail}` : ''}`);
    this.name = 'CommandError';
  }
}

/** A plan step that failed; carries the step and the recipe line that asked for it. */
export class StepError extends WarrenError {
  readonly code = 'STEP_FAILED';
  constructor(
    readonly step: string,
    readonly recipeLine: Loc | undefined,
    override readonly cause: unknown,
  ) {
    super(`step ${step} (${formatLoc(recipeLine)}) failed: ${messageOf(cause)}`, { cause });
    this.name = 'StepError';
  }
}

/** A task that did not exit 0: its exit code (or signal) and the last lines of its log. */
export class TaskError extends WarrenError {
  readonly code = 'TASK_FAILED';
  constructor(
    readonly task: string,
    readonly exitCode: number | null,
    readonly signal: string | null,
    readonly logTail: string,
    reason?: string,
  ) {
    const how = reason ?? (signal ? `was killed by ${signal}` : `exited with code ${exitCode}`);
    super(`task '${task}' ${how}${logTail ? `; last lines of its log:\n${logTail.replace(/^/gm, '    ')}` : ' (its log is empty)'}`);
    this.name = 'TaskError';
  }
}

/** `up` failed and was rolled back; `cause` is the original error, `rollbackErrors` what the undo hit. */
export class UpError extends WarrenError {
  readonly code = 'UP_FAILED';
  constructor(
    override readonly cause: unknown,
    readonly rollbackErrors: readonly unknown[],
  ) {
    const extra = rollbackErrors.length
      ? `\nrollback also failed (${rollbackErrors.length}); run \`warren gc\` to finish:\n${rollbackErrors.map((e) => `  ${messageOf(e)}`).join('\n')}`
      : '';
    super(`${messageOf(cause)}${extra}`, { cause });
    this.name = 'UpError';
  }
}

/** Some undo steps failed; the rest ran. */
export class RollbackError extends WarrenError {
  readonly code = 'ROLLBACK_FAILED';
  constructor(readonly errors: readonly unknown[]) {
    super(`${errors.length} cleanup step${errors.length === 1 ? '' : 's'} failed; run \`warren gc\` to retry:\n${errors.map((e) => `  ${messageOf(e)}`).join('\n')}`);
    this.name = 'RollbackError';
  }
}

/** A service did not become ready in time, or exited first. */
export class ReadinessError extends WarrenError {
  readonly code = 'NOT_READY';
  constructor(
    readonly service: string,
    readonly probe: string,
    readonly reason: string,
    readonly logTail: string,
  ) {
    super(`service '${service}' ${reason} (probe: ${probe})${logTail ? `\n  last lines of its log:\n${indent(logTail)}` : ''}`);
    this.name = 'ReadinessError';
  }
}

/** The instance is held by another live process, or does not exist. */
export class InstanceError extends WarrenError {
  constructor(
    readonly code: 'INSTANCE_BUSY' | 'INSTANCE_NOT_FOUND' | 'POOL_EXHAUSTED',
    message: string,
  ) {
    super(message);
    this.name = 'InstanceError';
  }
}

/** The state dir (or a folder above it) could be changed by another user: warren refuses to use it. */
export class StateDirError extends WarrenError {
  readonly code = 'STATE_DIR_UNSAFE';
  constructor(readonly path: string, message: string) {
    super(message);
    this.name = 'StateDirError';
  }
}

/** A journal that cannot be trusted or read in full: what it asks is not replayed blindly. */
export class JournalError extends WarrenError {
  readonly code = 'JOURNAL_INVALID';
  constructor(readonly path: string, message: string) {
    super(message);
    this.name = 'JournalError';
  }
}

/** A request about one service of a running instance that cannot be answered. */
export class ServiceError extends WarrenError {
  constructor(
    readonly code: 'SERVICE_NOT_FOUND' | 'SERVICE_UNREACHABLE' | 'SERVICE_NOT_RUNNING' | 'SERVICE_NOT_PUBLISHED' | 'SERVICE_RESTART_UNSUPPORTED' | 'SERVICE_RESTART_FAILED',
    readonly service: string,
    message: string,
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}

/** The command line was wrong (exit code 2). */
export class UsageError extends WarrenError {
  readonly code = 'USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A recipe file that is missing, does not compile, fails to load or exports no environment. */
export class RecipeError extends WarrenError {
  readonly code = 'RECIPE_INVALID';
  constructor(readonly file: string, message: string) {
    super(message);
    this.name = 'RecipeError';
  }
}

export interface CompileProblem {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly text: string;
}

/** esbuild refused a recipe or a TypeScript service; each problem has its file and line. */
export class CompileError extends WarrenError {
  readonly code = 'COMPILE_FAILED';
  constructor(readonly entry: string, readonly problems: readonly CompileProblem[]) {
    super(`${entry} does not compile:\n${problems.map((p) => `  ${p.file}:${p.line}:${p.column}  ${p.text}`).join('\n')}`);
    this.name = 'CompileError';
  }
}

/**
 * A batched operation that failed for some of its items. Items with an index in `failures`
 * failed; the others below `tried` succeeded; those from `tried` on were never attempted.
 * This lets a failure in a batch of 500 blame the one step that failed.
 */
export class BatchError extends WarrenError {
  readonly code = 'BATCH_FAILED';
  constructor(
    readonly failures: ReadonlyMap<number, unknown>,
    readonly tried: number,
    /** What the items that succeeded returned (a started service's record), by index. */
    readonly results: readonly unknown[] = [],
  ) {
    const first = [...failures.values()][0];
    super(first instanceof Error ? first.message : String(first));
    this.name = 'BatchError';
  }
}

/** An item of a batch that was not attempted because an earlier item failed. */
export class NotAttemptedError extends WarrenError {
  readonly code = 'NOT_ATTEMPTED';
  readonly notApplied = true;
  constructor(readonly reason: string) {
    super(`not attempted: ${reason}`);
    this.name = 'NotAttemptedError';
  }
}

/** Aborted by a signal or an AbortSignal. */
export class AbortedError extends WarrenError {
  readonly code = 'ABORTED';
  constructor(readonly reason: string) {
    super(`aborted: ${reason}`);
    this.name = 'AbortedError';
  }
}

/** `warren export`: services with no image, or manifests that fail the schema check; nothing was written. */
export class ExportError extends WarrenError {
  constructor(
    readonly code: 'IMAGES_MISSING' | 'MANIFESTS_INVALID',
    message: string,
    /** Per problem: where (a recipe line or a manifest's file and line) and what. */
    readonly problems: readonly { readonly where: string; readonly message: string }[],
  ) {
    super(`${message}\n${problems.map((p) => `  ${p.where}  ${p.message}`).join('\n')}`);
    this.name = 'ExportError';
  }
}

/** `warren convert`: an input it cannot read or convert, or an output it may not write; nothing was written. */
export class ConvertError extends WarrenError {
  constructor(
    readonly code: 'CONVERT_FORMAT_UNKNOWN' | 'CONVERT_INPUT_INVALID' | 'CONVERT_INPUT_UNSAFE' | 'CONVERT_OUTPUT_EXISTS',
    /** `docker-compose.yml:12:5` (or the file alone) */
    readonly where: string,
    message: string,
  ) {
    super(`${where}: ${message}`);
    this.name = 'ConvertError';
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function indent(text: string): string {
  return text.split('\n').map((line) => `    ${line}`).join('\n');
}

/** A host port that cannot be published: taken by a program or another instance, or none left; nothing was done. */
export class PortError extends WarrenError {
  constructor(
    readonly code: 'PORT_TAKEN' | 'PORT_RANGE_EXHAUSTED' | 'PORT_RANGE_INVALID' | 'PORT_NOT_PUBLISHED',
    readonly port: number,
    message: string,
    /** Who holds it, when that could be found. */
    readonly holder?: { readonly pid?: number; readonly command?: string; readonly instance?: string },
    readonly recipeLine?: Loc,
  ) {
    super(message);
    this.name = 'PortError';
  }
}

/** A live network change (shape, partition) that cannot be made: bad input or an unknown target; nothing was changed. */
export class NetworkError extends WarrenError {
  constructor(
    readonly code: 'IMPAIRMENT_INVALID' | 'TARGET_UNKNOWN' | 'PARTITION_INVALID' | 'NETWORK_UNSUPPORTED' | 'NETWORK_BUSY',
    message: string,
  ) {
    super(message);
    this.name = 'NetworkError';
  }
}
