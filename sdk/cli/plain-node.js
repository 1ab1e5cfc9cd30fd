// The SDK for plain node (no TypeScript loader): the prebuilt bundle in sdk/dist, rebuilt first when
// a source is newer. What a one-file recipe bundle loads when `node FILE.mjs` runs it.
import { build, distDir, isFresh } from './build.js';

export async function loadSdk() {
  process.setSourceMapsEnabled(true);
  if (!isFresh()) await build();
  return import(new URL(`file://${distDir}/sdk/index.js`).href);
}
