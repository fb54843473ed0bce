/**
 * A clean install on the Node.js we document prints no engine warning: every package the lock file
 * installs accepts the lowest Node version of our own `engines` field. (@nats-io/nats-core 3.4 pins
 * @nats-io/nuid 3.0.0, which asks for Node >= 22; package.json overrides it with 2.0.3, which has the one
 * function nats-core calls, `nuid.next()`, and accepts Node >= 18.)
 */
import { readFileSync } from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as {
  packages: Record<string, { engines?: { node?: string } | string[]; optional?: boolean; dev?: boolean }>;
};

describe('engines', () => {
  it('every installed package accepts the lowest Node version package.json allows', () => {
    const lowest = semver.minVersion(pkg.engines.node);
    expect(lowest, `package.json engines.node ${pkg.engines.node}`).not.toBeNull();
    const refusing = Object.entries(lock.packages)
      .filter(([path, p]) => path !== '' && p.engines && !Array.isArray(p.engines) && p.engines.node)
      .filter(([, p]) => !semver.satisfies(lowest!, (p.engines as { node: string }).node, { includePrerelease: true }))
      .map(([path, p]) => `${path.replace(/^.*node_modules\//, '')} wants node ${(p.engines as { node: string }).node}`);
    expect(refusing, `packages that refuse Node ${lowest!.version}`).toEqual([]);
  });

  it('the check sees a package that refuses it', () => {
    expect(semver.satisfies(semver.minVersion(pkg.engines.node)!, '>= 22.x')).toBe(false);
  });
});
