// Offline check of manifests against the Kubernetes OpenAPI schemas that kubernetes-models ships
// compiled (ajv validators, no network), plus the API server's rules the schemas do not carry.
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments } from 'yaml';
import { apiRuleProblems } from './api-rules.ts';

export interface ManifestProblem {
  /** `out/user.yaml:31` or `user.yaml#2` where no line is known. */
  readonly where: string;
  /** `Deployment/user`. */
  readonly object: string;
  readonly message: string;
}

interface ValidationFailure {
  readonly errors?: readonly { instancePath: string; message?: string; params?: Record<string, unknown> }[];
  readonly message: string;
}

type Model = new (data: unknown) => { validate(): void };

// Parts of apiVersion and kind become a module path: only what names a built-in kind gets that far.
const GROUP = /^[a-z0-9]+(?:\.[a-z0-9-]+)*$/;
const VERSION = /^v[0-9]+(?:(?:alpha|beta)[0-9]+)?$/;
const KIND = /^[A-Z][A-Za-z0-9]*$/;

/** The kubernetes-models class of a built-in kind, or undefined when it knows none of that name. */
async function modelOf(apiVersion: unknown, kind: unknown): Promise<Model | undefined> {
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || !KIND.test(kind)) return undefined;
  const parts = apiVersion.split('/');
  const [group, version] = parts.length === 1 ? ['', parts[0]] : parts;
  if (parts.length > 2 || !VERSION.test(version ?? '') || (group !== '' && !GROUP.test(group ?? ''))) return undefined;
  try {
    const module = (await import(`kubernetes-models/${group ? `${group}/` : ''}${version}/${kind}`)) as Record<string, unknown>;
    return typeof module[kind] === 'function' ? (module[kind] as Model) : undefined;
  } catch {
    return undefined;
  }
}

/** Each problem of one manifest: `path` is where in it (`/spec/template/...`), `message` what is wrong. */
export async function manifestProblems(manifest: unknown): Promise<{ path: string; message: string }[]> {
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) return [{ path: '', message: 'is not a mapping (an object with apiVersion and kind)' }];
  const { apiVersion, kind } = manifest as Record<string, unknown>;
  const model = await modelOf(apiVersion, kind);
  if (!model) return [{ path: '', message: `apiVersion ${JSON.stringify(apiVersion)} kind ${JSON.stringify(kind)} is no built-in kind the checker knows` }];
  const problems: { path: string; message: string }[] = [];
  try {
    new model(manifest).validate();
  } catch (error) {
    const failure = error as ValidationFailure;
    if (!failure.errors) throw error;
    for (const e of failure.errors) problems.push({ path: e.instancePath, message: e.message ?? 'is invalid' });
  }
  return [...problems, ...apiRuleProblems(manifest as Record<string, unknown>)];
}

/** Every problem of every document in a YAML text, each with its line. */
export async function yamlProblems(text: string, file: string): Promise<ManifestProblem[]> {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { version: '1.1', lineCounter });
  if (!Array.isArray(docs)) return [];
  const problems: ManifestProblem[] = [];
  for (const [index, doc] of docs.entries()) {
    const at = (offset: number | undefined) => (offset === undefined ? `${file}#${index + 1}` : `${file}:${lineCounter.linePos(offset).line}`);
    if (doc.errors.length) {
      for (const e of doc.errors) problems.push({ where: at(e.pos[0]), object: `document ${index + 1}`, message: e.message.split('\n')[0] ?? e.message });
      continue;
    }
    const manifest: unknown = doc.toJS();
    // `---` at the end of a file, or a document of comments only.
    if (manifest === null || manifest === undefined) continue;
    const record = (typeof manifest === 'object' ? manifest : {}) as { kind?: unknown; metadata?: { name?: unknown } };
    const object = `${String(record.kind ?? '?')}/${String(record.metadata?.name ?? '?')}`;
    for (const problem of await manifestProblems(manifest)) {
      problems.push({ where: at(offsetOf(doc.contents, problem.path)), object, message: `${problem.path || '/'} ${problem.message}` });
    }
  }
  return problems;
}

/** Where a JSON pointer's target starts in the text: the line of its key (`spec:`), or of its `- ` item. */
function offsetOf(root: unknown, pointer: string): number | undefined {
  let node = root;
  let offset = rangeStart(root);
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === part);
      if (!pair) break;
      offset = rangeStart(pair.key) ?? offset;
      node = pair.value;
    } else if (isSeq(node)) {
      node = node.items[Number(part)];
      offset = rangeStart(node) ?? offset;
    } else break;
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  return (node as { range?: [number, number, number] } | null | undefined)?.range?.[0];
}
