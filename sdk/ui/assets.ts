// The page's files: the bundle `npm run build` wrote to sdk/dist/ui, or, when the page's sources
// are newer (working on warren itself), a fresh bundle built in memory. Either way nothing comes
// from the network, and a bundle someone else could have written is never served.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { readCacheFile } from '../cache-dir.ts';
import { buildWeb, newestWebSource, WEB_OUT } from './web-build.js';
import { packageRoot } from '../package-root.ts';

export interface WebAssets {
  readonly js: string;
  readonly css: string;
  /** Where they came from, for the startup line. */
  readonly source: 'package' | 'built';
}


export async function loadWebAssets(): Promise<WebAssets> {
  const root = packageRoot();
  const js = join(root, WEB_OUT, 'app.js');
  const css = join(root, WEB_OUT, 'app.css');
  if (mtime(js) >= newestWebSource(root) && mtime(css) >= newestWebSource(root)) {
    // readCacheFile refuses symlinks and files others could write: served to a page holding the token.
    const [jsBytes, cssBytes] = [readCacheFile(js), readCacheFile(css)];
    if (jsBytes && cssBytes) return { js: jsBytes.toString('utf8'), css: cssBytes.toString('utf8'), source: 'package' };
  }
  return { ...(await buildWeb(root)), source: 'built' };
}

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}
