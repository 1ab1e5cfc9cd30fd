// A YAML source with its lines: the parsed value, and `file:line` of any key in it, for errors and
// notes that point at what the user wrote. Merge keys (`<<: *common`) as Compose files use them.
import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
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
      // The line of the key itself (`ports:`), not of its value; else the nearest parent's.
      for (let n = path.length; n > 0; n--) {
        const parent = n === 1 ? doc.contents : doc.getIn(path.slice(0, n - 1), true);
        const last = path[n - 1];
        let node: Node | undefined;
        if (isMap(parent)) node = parent.items.find((pair) => isScalar(pair.key) && String(pair.key.value) === String(last))?.key as Node | undefined;
        else if (isSeq(parent) && typeof last === 'number') node = parent.items[last] as Node | undefined;
        if (isNode(node) && node.range) return `${file}:${lines.linePos(node.range[0]).line}`;
      }
      return isNode(doc.contents) && doc.contents.range ? `${file}:${lines.linePos(doc.contents.range[0]).line}` : file;
    },
  };
}
