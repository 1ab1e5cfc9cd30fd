// A YAML source with its lines: the parsed value, and `file:line` of any key in it, for errors and
// notes that point at what the user wrote. Merge keys (`<<: *common`) as Compose files use them.
import { isNode, LineCounter, parseDocument } from 'yaml';
import { ConvertError } from '../errors.ts';

export interface YamlSource {
  readonly value: unknown;
  /** `compose.yaml:12` for a path of keys, or the nearest of its parents that exists. */
  where(path: readonly (string | number)[]): string;
}

export function parseYaml(text: string, file: string): YamlSource {
  const lines = new LineCounter();
  // maxAliasCount bounds what aliases can expand to (a "billion laughs" file).
  const doc = parseDocument(text, { lineCounter: lines, merge: true, prettyErrors: false, uniqueKeys: true });
  const error = doc.errors[0];
  if (error) {
    const pos = lines.linePos(error.pos[0]);
    throw new ConvertError('CONVERT_INPUT_INVALID', `${file}:${pos.line}:${pos.col}`, `not valid YAML: ${error.message.split('\n')[0]}`);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    throw new ConvertError('CONVERT_INPUT_INVALID', file, `cannot be read as YAML: ${(e as Error).message}`);
  }
  return {
    value,
    where(path) {
      for (let n = path.length; n >= 0; n--) {
        const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
        if (isNode(node) && node.range) return `${file}:${lines.linePos(node.range[0]).line}`;
      }
      return file;
    },
  };
}
