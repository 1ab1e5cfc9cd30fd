// A service's environment: plain values through a ConfigMap, values whose names look like secrets
// through a Secret, both handed to the container whole with envFrom.
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import { serviceLabels } from './labels.ts';
import type { ServiceContext, ServiceMapping } from './types.ts';

const SECRET_NAME = /(PASSWORD|SECRET|TOKEN|KEY|CREDENTIAL)/i;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** What warren hands the service locally (see plan.ts): its env, then PORT and WARREN_*. */
export function serviceEnvironment({ input, service }: ServiceContext): Record<string, string> {
  return {
    ...service.env,
    ...(service.port === undefined ? {} : { PORT: String(service.port) }),
    WARREN_SERVICE: service.name,
    WARREN_ENV: input.spec.name,
    WARREN_INSTANCE: input.instance,
  };
}

export const configMapName = (service: string) => `${service}-env`;
export const secretName = (service: string) => `${service}-secret`;

/** The ConfigMap, and the Secret when some name looks secret; keys sorted so the output does not move. */
export function configManifests(context: ServiceContext): { configMap: IConfigMap; secret?: ISecret } {
  const { input, service, namespace } = context;
  const labels = serviceLabels(input.spec.name, input.instance, service.name);
  const entries = Object.entries(serviceEnvironment(context)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const plain = Object.fromEntries(entries.filter(([name]) => !isSecretName(name)));
  const hidden = Object.fromEntries(entries.filter(([name]) => isSecretName(name)));
  const configMap: IConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: configMapName(service.name), namespace, labels }, data: plain };
  if (!Object.keys(hidden).length) return { configMap };
  const secret: ISecret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: secretName(service.name), namespace, labels }, type: 'Opaque', stringData: hidden };
  return { configMap, secret };
}

export const environmentMapping: ServiceMapping = (context, parts) => {
  const { secret } = configManifests(context);
  const envFrom = [{ configMapRef: { name: configMapName(context.service.name) } }, ...(secret ? [{ secretRef: { name: secretName(context.service.name) } }] : [])];
  return { ...parts, container: { ...parts.container, envFrom } };
};
