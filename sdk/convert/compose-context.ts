// What the Compose converter's parts share: where a key is (for notes and errors) and what was read so far.
import type { Notes } from './common.ts';
import type { SourceFiles } from './model.ts';
import type { YamlSource } from './yaml-source.ts';

export interface ComposeContext {
  readonly file: string;
  readonly src: YamlSource;
  readonly files: SourceFiles;
  readonly notes: Notes;
  /** Compose's service names -> warren names. */
  readonly names: Map<string, string>;
  readonly declaredVolumes: Record<string, unknown>;
  /** Differences said once per file, not once per service. */
  readonly said: Set<string>;
}

/** `compose.yaml:12` of a key of the service, and the key's dotted name, from the keys under the service. */
export type Where = (...k: (string | number)[]) => string;
