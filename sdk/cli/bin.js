#!/usr/bin/env node
// The `warren` command. Runs the prebuilt bundle in sdk/dist (rebuilt first when any SDK source
// is newer), so start-up costs no TypeScript loader. Source maps make errors point at recipe lines.
import { build, distDir, isFresh } from './build.js';

process.setSourceMapsEnabled(true);
if (!isFresh()) await build();
const { runCli } = await import(new URL(`file://${distDir}/sdk/cli/main.js`).href);
await runCli(process.argv.slice(2));
