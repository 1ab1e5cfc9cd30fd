// Whether the bundles in sdk/dist are newer than their sources. CommonJS: bin.cjs asks on every
// start of the CLI, before it loads anything ESM (see there); build.js uses it too.
'use strict';
const { lstatSync, readdirSync, readFileSync, statSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..', '..');
const distDir = join(root, 'sdk', 'dist');
const stampFile = join(distDir, 'stamp.json');

/** Calls `visit` with every .ts file of the SDK and the DSL (dist and node_modules aside). */
function eachSource(visit) {
  // Runs on every start of the CLI: names, lstat and `${dir}/${name}` take 2 ms where Dirents and
  // path.join (cold, interpreted) took 6.
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      if (name === 'dist' || name.startsWith('dist.') || name === 'node_modules') continue;
      const path = `${dir}/${name}`;
      const stat = lstatSync(path);
      if (stat.isDirectory()) walk(path);
      else if (name.endsWith('.ts')) visit(path, stat);
    }
  };
  walk(join(root, 'sdk'));
  walk(join(root, 'dsl'));
}

/** The newest modification time of the SDK's and DSL's sources. */
function newestSource() {
  let newest = 0;
  eachSource((path, stat) => (newest = Math.max(newest, stat.isSymbolicLink() ? statSync(path).mtimeMs : stat.mtimeMs)));
  return newest;
}

/**
 * Whether the bundles are newer than every source, or with `part` ('quick'), than the sources that
 * part of them was built from, as the stamp lists them: fewer to look at than the whole walk.
 */
function isFresh(part) {
  try {
    const built = statSync(stampFile).mtimeMs;
    if (!part) return built >= newestSource();
    const sources = JSON.parse(readFileSync(stampFile, 'utf8')).sources?.[part];
    return Array.isArray(sources) && sources.length > 0 && sources.every((source) => statSync(join(root, source)).mtimeMs <= built);
  } catch {
    return false;
  }
}

module.exports = { root, distDir, eachSource, isFresh };
