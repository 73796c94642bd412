/**
 * The entry modules of the esbuild bundle bin/bundle.js keeps in step with the sources: the command line, and
 * the child processes the run starts (the embedded server, the link process and its forwarding thread). A
 * child started from the bundle listens within a fraction of a second, whether the parent itself runs from
 * the bundle or from its sources under a test runner.
 */
import { pathToFileURL } from 'node:url';
import { repoPath } from './paths.ts';

/** The bundle's entry points (bin/bundle.js `ENTRIES`). */
export type BundleEntry = 'main' | 'agent-server' | 'link' | 'link-forward';

const BUNDLE_MODULE = pathToFileURL(repoPath('bin/bundle.js')).href;

/** The file of a bundle entry for the sources as they are now, built when missing. */
export async function bundledEntry(name: BundleEntry): Promise<string> {
  const { bundleEntry } = (await import(BUNDLE_MODULE)) as { bundleEntry(name: BundleEntry): Promise<string> };
  return bundleEntry(name);
}
