/**
 * Ctrl-C during a fault: a process running a fault timeline gets SIGINT while a partition is on; the
 * timeline is aborted, the partition removed, the connection through the proxy works again, and the
 * process exits 130 (test/chaos/fixtures/timeline-ctrl-c.ts).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { waitFor } from '../../src/infra/process-registry.ts';
import { testPgUrl } from '../support/servers.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/timeline-ctrl-c.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

it('SIGINT while a partition is on: the fault is undone, the connection works again, exit 130', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, testPgUrl()], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const lines: Record<string, unknown>[] = [];
    createInterface({ input: child.stdout! }).on('line', (l) => lines.push(JSON.parse(l) as Record<string, unknown>));
    expect(await waitFor(() => lines.some((l) => l.phase === 'start'), 30_000)).toBe(true);
    child.kill('SIGINT');
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 15_000)))]);
    clearTimeout(timer);
    expect(code).toBe(130);
    expect(lines).toEqual([
      expect.objectContaining({ phase: 'start', index: 0, detail: { toxic: 'timeout_1' } }),
      expect.objectContaining({ phase: 'stop', index: 0, early: true }),
      { completed: false, toxics: 0, query: { n: 1 } },
    ]);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});
