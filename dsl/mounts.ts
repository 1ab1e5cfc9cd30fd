// Mounts of a service or task, by target path: data that the launcher mounts in its own mount namespace.
import type { MountSpec } from './spec.ts';

/** A folder of this instance that outlives it (kept by `down`, removed by `down --volumes`), shared by name within the instance. */
export function volume(name: string): MountSpec {
  return Object.freeze({ kind: 'volume', name });
}

/** A host path (relative to the recipe file), read-write unless `readonly`. */
export function bind(path: string, options: { readonly readonly?: boolean } = {}): MountSpec {
  return Object.freeze({ kind: 'bind', path, readonly: options.readonly === true });
}

/** A private, empty tmpfs owned by the service's user; `size` as tmpfs takes it (`'64m'`, default half the memory). */
export function tmpfs(options: { readonly size?: string } = {}): MountSpec {
  return Object.freeze({ kind: 'tmpfs', ...(options.size === undefined ? {} : { size: options.size }) });
}
