#!/usr/bin/env node
// Entry point for `npx tls-reuse-bench`: runs the checked-out TypeScript sources from a bundle that
// bin/bundle.js keeps in step with them (rebuilt when any source changes).
import { cliBundle } from './bundle.js';

const { main } = await import(await cliBundle());
process.exitCode = await main(process.argv.slice(2));
