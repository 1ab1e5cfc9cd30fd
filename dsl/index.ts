export { env, EnvBuilder, isEnvBuilder } from './builder.ts';
export type { ServiceOptions } from './builder.ts';
export { tcp, http, exec, started } from './ready.ts';
export type { ProbeOptions } from './ready.ts';
export { validate } from './validate.ts';
export { formatLoc } from './location.ts';
export { nameProblem } from './names.ts';
export type * from './spec.ts';
export type * from './running.ts';
