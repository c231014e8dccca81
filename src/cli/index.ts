#!/usr/bin/env node
/**
 * The `tessera` executable (the package's `bin`): runs the command line in `main.ts` and exits with
 * its code. Exiting explicitly keeps a client's pending reconnect timer from holding the process
 * once the work is done.
 */
import { main } from './main.js';

process.exit(await main(process.argv.slice(2)));
