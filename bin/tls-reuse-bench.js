#!/usr/bin/env node
// Entry point for `npx tls-reuse-bench`: the sources are TypeScript, loaded through tsx's ESM hook so the
// command always runs the checked-out code without a build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../bench/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
