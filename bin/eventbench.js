#!/usr/bin/env node
// The CLI runs the TypeScript sources through tsx's loader, so there is no build step between
// `npm ci` and a working `eventbench` (and worker threads load the same sources).
import { register } from 'tsx/esm/api';
register();
await import('../src/cli/main.ts');
