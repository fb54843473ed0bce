/**
 * `eventbench serve` with a token as a user runs it (docs/security.md §serve): the token from
 * EVENTBENCH_SERVE_TOKEN guards every route but /health and never appears in what serve prints; a token
 * too short is one line, exit 2, without echoing it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { dropSchema } from '../postgres/helpers.ts';
import { eventbench, startEventbench } from '../load/cli.ts';
import { testPgUrl, uniqueName } from '../support/servers.ts';

describe('eventbench serve with EVENTBENCH_SERVE_TOKEN', () => {
  const namespace = uniqueName('servetokcli');
  afterAll(() => dropSchema(namespace));

  it('answers 401 without the token and 200 with it, and never prints it', async () => {
    const token = `tok-${uniqueName('x')}-${uniqueName('y')}`;
    const cli = startEventbench(['serve', '--backend', 'postgres', '--pg-url', testPgUrl(), '--namespace', namespace, '--port', '0'], 60_000, { EVENTBENCH_SERVE_TOKEN: token });
    try {
      const [, url] = (await cli.waitForStderr(/listening on (http:\/\/[^\s]+) /, 45_000)) as RegExpMatchArray;
      expect((await fetch(`${url}/health`)).status).toBe(200);
      expect((await fetch(`${url}/events`)).status).toBe(401);
      expect((await fetch(`${url}/events`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    } finally {
      cli.child.kill('SIGINT');
    }
    const run = await cli.done;
    expect(run.code, run.stderr).toBe(130);
    expect(run.stderr).toMatch(/live page at http:\/\/[^\s]+\/\?token=<token>/);
    expect(run.stdout + run.stderr).not.toContain(token);
  }, 90_000);

  it('refuses a token shorter than 16 characters in one line without echoing it', async () => {
    const run = await eventbench(['serve', '--backend', 'memory', '--token', 'short-secret'], 30_000);
    expect(run.code).toBe(2);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/--token \/ EVENTBENCH_SERVE_TOKEN: at least 16 printable characters/);
    expect(run.stderr).not.toContain('short-secret');
  }, 60_000);
});
