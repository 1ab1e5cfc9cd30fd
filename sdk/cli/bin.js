#!/usr/bin/env node
// The `warren` command: runs the TypeScript CLI through tsx's loader, with source maps so that
// errors point at recipe lines.
import { register } from 'tsx/esm/api';

process.setSourceMapsEnabled(true);
register();
const { runCli } = await import('./main.ts');
await runCli(process.argv.slice(2));
