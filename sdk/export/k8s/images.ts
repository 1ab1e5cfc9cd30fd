// Which image runs each service: the --images file over the recipe's env({ images }) over the
// service's own `image` (the one given closest to the command line wins).
import { imageProblem } from '../../../dsl/image.ts';
import type { EnvSpec, Issue, ServiceSpec, TaskSpec } from '../../../dsl/spec.ts';

export interface ResolvedImages {
  readonly images: ReadonlyMap<string, string>;
  /** Services (and tasks) no source gives an image, in recipe order. */
  readonly missing: readonly (ServiceSpec | TaskSpec)[];
}

/** Every service's image, and every task's whose command is a program (a function task runs inside warren). */
export function resolveImages(spec: EnvSpec, fromFile: Readonly<Record<string, string>> = {}): ResolvedImages {
  const images = new Map<string, string>();
  const missing: (ServiceSpec | TaskSpec)[] = [];
  const runs = [...spec.services, ...(spec.tasks ?? []).filter((t) => !t.fn)];
  for (const unit of runs) {
    const image = fromFile[unit.name] ?? spec.options.images?.[unit.name] ?? unit.image;
    if (image === undefined) missing.push(unit);
    else images.set(unit.name, image);
  }
  return { images, missing };
}

/** Problems of an images map read from a file: not an object, unknown service names, malformed references. */
export function imagesFileIssues(value: unknown, spec: EnvSpec, file: string): Issue[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return [{ code: 'invalid-option', path: 'images', message: `${file} must hold a JSON object of service name -> image, such as {"user": "registry.example.com/user:1.0"}` }];
  }
  const known = new Set([...spec.services, ...(spec.tasks ?? [])].map((s) => s.name));
  const issues: Issue[] = [];
  for (const [name, image] of Object.entries(value)) {
    if (!known.has(name)) issues.push({ code: 'invalid-option', path: `images.${name}`, message: `${file}: no service or task is named ${JSON.stringify(name)} (known: ${[...known].join(', ') || 'none'})` });
    const problem = imageProblem(image);
    if (problem) issues.push({ code: 'invalid-option', path: `images.${name}`, message: `${file}: image of '${name}' ${problem}` });
  }
  return issues;
}
