// Container image references (`registry:5000/team/user:1.4`, `…@sha256:…`), as the OCI
// distribution grammar defines them: the exporter writes them into manifests, so only these pass.

const DOMAIN_PART = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `${DOMAIN_PART}(?:\\.${DOMAIN_PART})*(?::[0-9]+)?`;
const PATH_PART = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^(?:${DOMAIN}/)?${PATH_PART}(?:/${PATH_PART})*(?::${TAG})?(?:@${DIGEST})?$`);
const MAX_NAME_LENGTH = 255;

/** Why `image` is not a well-formed image reference, or undefined when it is. */
export function imageProblem(image: unknown): string | undefined {
  if (typeof image !== 'string') return `must be a string such as 'registry.example.com/team/user:1.0', got ${image === null ? 'null' : typeof image}`;
  if (!REFERENCE.test(image)) return `${JSON.stringify(image)} is not an image reference such as 'registry.example.com/team/user:1.0'`;
  const name = image.split('@')[0]!.replace(/:[\w][\w.-]*$/, '');
  if (name.length > MAX_NAME_LENGTH) return `${JSON.stringify(image.slice(0, 40))}… is longer than ${MAX_NAME_LENGTH} characters`;
  return undefined;
}
