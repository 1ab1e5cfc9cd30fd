// Bundles the page of `warren ui` (sdk/ui/web, TypeScript + Preact) for browsers: one app.js and one
// app.css, nothing loaded from elsewhere at run time. Plain JavaScript: sdk/cli/build.js runs it
// without a TypeScript loader, and the UI server runs it in memory when sdk/dist/ui is stale.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const WEB_DIR = join('sdk', 'ui', 'web');
export const WEB_OUT = join('sdk', 'dist', 'ui');

/** The newest modification time of the page's sources (0 when they are not shipped). */
export function newestWebSource(root) {
  let newest = 0;
  const walk = (dir) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  walk(join(root, WEB_DIR));
  return newest;
}

/** Builds app.js and app.css into `outdir`, or returns them when `outdir` is undefined. */
export async function buildWeb(root, outdir) {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: { app: join(root, WEB_DIR, 'main.tsx') },
    outdir: outdir ?? join(root, WEB_OUT),
    write: outdir !== undefined,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    legalComments: 'none',
    sourcemap: false,
    logLevel: 'warning',
  });
  if (outdir !== undefined) return undefined;
  // Built for a long-running server: esbuild's helper process has nothing more to do.
  await esbuild.stop();
  const pick = (ext) => result.outputFiles.find((f) => f.path.endsWith(ext))?.text ?? '';
  return { js: pick('.js'), css: pick('.css') };
}
