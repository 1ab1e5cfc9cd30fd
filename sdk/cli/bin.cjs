#!/usr/bin/env node
// The `warren` command. Runs the prebuilt bundles in sdk/dist (rebuilt first when an SDK source
// is newer), so start-up costs no TypeScript loader. CommonJS: `down` of a detached instance runs
// from dist/quick.cjs without Node's ESM loader (see quick.ts), compiled from V8's code cache
// (code-cache.cjs); every other command from the ESM bundle. Source maps make errors point at
// recipe lines.
'use strict';
const { pathToFileURL } = require('node:url');
const { distDir, isFresh } = require('./fresh.cjs');

async function main(argv) {
  process.setSourceMapsEnabled(true);
  // quick.cjs takes only `down` (no other command pays for loading it), and only once its own
  // sources are older than it; the walk of every source waits for the commands main.js runs.
  const quick = argv.includes('down') && isFresh('quick') ? require('./code-cache.cjs').requireCached(`${distDir}/quick.cjs`) : undefined;
  if (quick && (await quick.exports.runQuick(argv))) {
    quick.keep();
    return;
  }
  if (!isFresh()) await (await import('./build.js')).build();
  const { runCli } = await import(pathToFileURL(`${distDir}/sdk/cli/main.js`).href);
  await runCli(argv);
}

main(process.argv.slice(2));
