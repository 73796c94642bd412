// The CLI, and the child processes it starts (embedded server, link process), run from one bundle of the TypeScript sources, made by
// esbuild and cached under node_modules/.cache/tls-reuse-bench/cli/<fingerprint>/. The fingerprint hashes the content of every file
// under bench/, tsconfig.json and esbuild's version, so an edited source is rebuilt on the next run (about
// 0.1 s) and an unchanged checkout starts straight from the cache: about 0.07 s to the first line of
// `main`, against 0.3 s through tsx, which transforms each module anew per process.
//
// Code splitting keeps the commands apart: `analyze` loads neither Chart.js nor execa. Packages stay
// external (resolved from the checkout's node_modules at run time). Plain JavaScript: this runs before
// anything can compile TypeScript.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SOURCE_DIR = path.join(ROOT, 'bench');
/** The bundle's entry points: the command line, the embedded agent server's child process, a fleet's client thread, the embedded CONNECT proxy. */
const ENTRIES = {
  main: path.join(SOURCE_DIR, 'cli/main.ts'),
  'agent-server': path.join(SOURCE_DIR, 'serve/agent-server-main.ts'),
  'fleet-worker': path.join(SOURCE_DIR, 'drive/fleet-worker-main.ts'),
  'connect-proxy': path.join(SOURCE_DIR, 'serve/proxy-main.ts'),
  link: path.join(SOURCE_DIR, 'link/link-main.ts'),
  'link-forward': path.join(SOURCE_DIR, 'link/forward-worker.ts'),
};
const TSCONFIG = path.join(ROOT, 'tsconfig.json');
const CACHE_DIR = path.join(ROOT, 'node_modules/.cache/tls-reuse-bench/cli');
/** Bumped when the build options below change, so older bundles are not reused. */
const BUILD_OPTIONS_VERSION = 3;
/** Bundles of other fingerprints older than this are removed after a build (a running process may still use a newer one). */
const STALE_BUNDLE_MS = 24 * 60 * 60 * 1000;

/** Hash of everything the bundle is made from. */
function fingerprint(esbuildVersion) {
  const hash = createHash('sha256');
  hash.update(`options ${BUILD_OPTIONS_VERSION} esbuild ${esbuildVersion}\n`);
  const files = readdirSync(SOURCE_DIR, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath ?? entry.path, entry.name))
    .sort();
  for (const file of [...files, TSCONFIG]) {
    // The name relative to the checkout, by slicing: path.relative resolves both paths, per file.
    hash.update(`${file.slice(ROOT.length)}\0`);
    hash.update(readFileSync(file));
    hash.update('\0');
  }
  return hash.digest('hex').slice(0, 20);
}

function esbuildVersion() {
  return JSON.parse(readFileSync(path.join(ROOT, 'node_modules/esbuild/package.json'), 'utf8')).version;
}

/** Builds the bundle into a private folder, then moves it into place (a concurrent build of the same sources may win). */
async function build(target) {
  const { build: esbuild, stop } = await import('esbuild');
  const staging = `${target}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  try {
    await esbuild({
      entryPoints: ENTRIES,
      outdir: staging,
      bundle: true,
      splitting: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      tsconfig: TSCONFIG,
      sourcemap: 'linked',
      logLevel: 'error',
    });
    writeFileSync(path.join(staging, 'package.json'), '{ "type": "module" }\n');
    try {
      renameSync(staging, target);
    } catch (error) {
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
    // esbuild's service process has done its work: end it now rather than when this process exits.
    await stop();
  }
  pruneStaleBundles(path.basename(target));
}

function pruneStaleBundles(keep) {
  const now = Date.now();
  for (const name of readdirSync(CACHE_DIR)) {
    if (name === keep || name.includes('.tmp-')) continue;
    const dir = path.join(CACHE_DIR, name);
    if (now - statSync(dir).mtimeMs > STALE_BUNDLE_MS) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The path of an entry module (`main`, `agent-server`) of the bundle for the sources as they are now, built
 * when missing.
 */
export async function bundleEntry(name) {
  if (!(name in ENTRIES)) throw new Error(`no bundle entry named ${name}`);
  const target = path.join(CACHE_DIR, fingerprint(esbuildVersion()));
  const file = path.join(target, `${name}.js`);
  try {
    statSync(file);
  } catch (error) {
    if (error.code !== 'ENOENT') throw error;
    mkdirSync(CACHE_DIR, { recursive: true });
    await build(target);
  }
  return file;
}

/** The URL of the CLI bundle's entry module. */
export async function cliBundle() {
  return pathToFileURL(await bundleEntry('main')).href;
}
