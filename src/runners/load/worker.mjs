// Bootstrap of a load worker thread: register tsx (as bin/eventbench.js does) so the TypeScript
// sources load without a build step, then run the worker.
import { register } from 'tsx/esm/api';

register();
await import('./worker-thread.ts');
