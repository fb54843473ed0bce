// Bootstrap of bench/serve.ts's SSE-client thread: register tsx (as bin/eventbench.js does) so the
// TypeScript source loads without a build step, then run it.
import { register } from 'tsx/esm/api';

register();
await import('./serve-clients.ts');
