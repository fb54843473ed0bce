#!/usr/bin/env node
// Until the CLI installs its own signal handling (src/infra/process-registry.ts, first thing in
// src/cli/main.ts), nothing has been started, so Ctrl-C or SIGTERM can end the process at once, with the
// exit code of a handled signal (130 for Ctrl-C) rather than death by the signal.
const SIGNAL_NUMBERS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };
const earlySignalHandler = (signal) => process.exit(128 + SIGNAL_NUMBERS[signal]);
for (const signal of Object.keys(SIGNAL_NUMBERS)) process.on(signal, earlySignalHandler);
globalThis[Symbol.for('eventbench.earlySignalHandler')] = earlySignalHandler;
// `ps` shows `eventbench <command> ...` from here on (not `node .../bin/eventbench.js`): also the sign
// that the handlers above are in place (node's own SIGINT handler, before this line, dies by the signal).
process.title = ['eventbench', ...process.argv.slice(2)].join(' ');

// The CLI runs the TypeScript sources through tsx's loader, so there is no build step between
// `npm ci` and a working `eventbench` (and worker threads load the same sources).
const { register } = await import('tsx/esm/api');
register();
await import('../src/cli/main.ts');
