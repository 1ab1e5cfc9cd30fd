// Tasks whose command is a function of the recipe: the function cannot live in the JSON-safe spec,
// so it is kept beside it, found by the task's (frozen) spec object.
import type { TaskSpec } from './spec.ts';

/** What a task function gets: a zx `$` whose commands run in the task's namespaces, as its user. */
export interface TaskContext {
  /** zx's `$` (quoting as zx does); commands resolve service names through the instance's hosts file. */
  readonly $: TaskShell;
  /** `http://address:port` of a service of the instance, with an optional path. */
  url(service: string, path?: string): string;
  address(service: string): { readonly host: string; readonly port: number };
  readonly env: string;
  readonly instance: string;
}

/** The zx `$` a task function is given (typed here so that dsl/ needs no zx). */
export interface TaskShell {
  (pieces: TemplateStringsArray, ...args: unknown[]): PromiseLike<{ readonly stdout: string; readonly stderr: string; readonly exitCode: number | null }>;
}

export type TaskFunction = (context: TaskContext) => Promise<void> | void;

const functions = new WeakMap<TaskSpec, TaskFunction>();

export function rememberTaskFunction(task: TaskSpec, fn: TaskFunction): TaskSpec {
  functions.set(task, fn);
  return task;
}

/** The function of a task written as one; undefined when the spec came from JSON (a bundle, a plan file). */
export function taskFunctionOf(task: TaskSpec): TaskFunction | undefined {
  return functions.get(task);
}
