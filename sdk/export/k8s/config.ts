// A service's environment: plain values through a ConfigMap, values whose names look like secrets
// through a Secret, both handed to the container whole with envFrom; envFile values included.
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import { environmentOf, looksSecret } from '../../plan/environment.ts';
import { envFilesOf, ROOT_USER } from '../../plan/isolation.ts';
import { serviceLabels } from './labels.ts';
import { serviceNote } from './notes.ts';
import type { ServiceContext, ServiceMapping } from './types.ts';

const SECRET_NAME = /(PASSWORD|SECRET|TOKEN|KEY|CREDENTIAL)/i;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

// A local service's fixed base (PATH, LANG) and its user's HOME, USER, LOGNAME are the image's in a cluster.
const IMAGE_OWNED = new Set(['base', 'user']);

/**
 * What warren hands the service locally, layered as plan/environment.ts layers it (env(), envFiles,
 * its env, then PORT and WARREN_*), less what the image owns. passEnv takes nothing from the
 * environment of whoever exports: those names are noted instead.
 */
export function serviceEnvironment({ input, service }: ServiceContext): Record<string, string> {
  const warren = { ...(service.port === undefined ? {} : { PORT: String(service.port) }), WARREN_SERVICE: service.name, WARREN_ENV: input.spec.name, WARREN_INSTANCE: input.instance };
  const layered = environmentOf(input.spec, service, envFilesOf(input.spec, service), { user: ROOT_USER, envFiles: input.envFiles, callerEnv: {}, warren });
  return Object.fromEntries(Object.entries(layered).filter(([, v]) => !IMAGE_OWNED.has(v.source)).map(([name, v]) => [name, v.value]));
}

/** Secret-looking by the rule or by the plan's (which hides them in `plan --json`). */
function secretLooking(name: string): boolean {
  return isSecretName(name) || looksSecret(name);
}

export const configMapName = (service: string) => `${service}-env`;
export const secretName = (service: string) => `${service}-secret`;

/** The ConfigMap, and the Secret when some name looks secret; keys sorted so the output does not move. */
export function configManifests(context: ServiceContext): { configMap: IConfigMap; secret?: ISecret } {
  const { input, service, namespace } = context;
  const labels = serviceLabels(input.spec.name, input.instance, service.name);
  const entries = Object.entries(serviceEnvironment(context)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const plain = Object.fromEntries(entries.filter(([name]) => !secretLooking(name)));
  const hidden = Object.fromEntries(entries.filter(([name]) => secretLooking(name)));
  const configMap: IConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: configMapName(service.name), namespace, labels }, data: plain };
  if (!Object.keys(hidden).length) return { configMap };
  const secret: ISecret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: secretName(service.name), namespace, labels }, type: 'Opaque', stringData: hidden };
  return { configMap, secret };
}

export const environmentMapping: ServiceMapping = (context, parts) => {
  const { secret } = configManifests(context);
  const envFrom = [{ configMapRef: { name: configMapName(context.service.name) } }, ...(secret ? [{ secretRef: { name: secretName(context.service.name) } }] : [])];
  const passed = [...new Set([...(context.input.spec.options.passEnv ?? []), ...(context.service.passEnv ?? [])])];
  const notes = passed.length ? [...parts.notes, serviceNote(context.service, `passEnv ${passed.join(', ')}: taken from the caller's environment locally; set ${passed.length === 1 ? 'it' : 'them'} in the cluster (nothing of yours is exported)`)] : parts.notes;
  return { ...parts, container: { ...parts.container, envFrom }, notes };
};
