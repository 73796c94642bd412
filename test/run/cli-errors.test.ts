/** Bad flags and bad files stop `run` before it measures anything: exit 2 and one line naming the culprit. */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, ROOT } from './support.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'trb-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const badWorkload = path.join(dir, 'workload.json');
writeFileSync(badWorkload, JSON.stringify({ schema: 'tls-reuse-bench/workload@1', name: 'x', logger: { intervalSeconds: 'fast' } }));

const certs = path.join(ROOT, 'fixtures/certs');
const garbagePem = path.join(dir, 'garbage.pem');
writeFileSync(garbagePem, '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n');
const readme = path.join(ROOT, 'README.md');
const dollar = path.join(dir, 'a$b');
mkdirSync(dollar);
for (const f of ['chain.pem', 'leaf.key', 'root.pem']) copyFileSync(path.join(certs, 'rsa2048', f), path.join(dollar, f));
const own = (chain: string, key: string, ca: string) => ['--cert', chain, '--key', key, '--ca', ca];

describe('run rejects bad input with exit 2', () => {
  const cases: [string, string[], RegExp][] = [
    ['an unknown suite', ['--suite', 'huge'], /^error: --suite: expected quick, default or full, got "huge"$/],
    ['an unknown mode', ['--modes', 'fresh,pooled'], /^error: --modes: expected one or more of fresh, persistent, resumed .*got "pooled"$/],
    ['an unknown TLS version', ['--tls', '1.4'], /^error: --tls: .*got "1\.4"$/],
    ['zero endpoints', ['--endpoints', '0'], /^error: --endpoints: expected a whole number from 1 to 10000, got "0"$/],
    ['zero runs', ['--runs', '0'], /^error: --runs: expected a whole number from 1 to 100, got "0"$/],
    ['a fractional number of runs', ['--runs', '2.5'], /^error: --runs: expected a whole number from 1 to 100, got "2\.5"$/],
    ['a non-numeric length', ['--virtual-minutes', 'long'], /^error: --virtual-minutes: expected a number .*got "long"$/],
    ['a bad duration', ['--session-timeout', 'soon'], /^error: --session-timeout: expected a duration like 3600s, 15m or 1h, got "soon"$/],
    ['a custom chain without its key', ['--cert', './mine.pem'], /^error: --key: required with --cert \.\/mine\.pem/],
    ['a custom chain that does not exist', ['--cert', '/nonexistent/chain.pem', '--key', '/nonexistent/k.pem', '--ca', '/nonexistent/ca.pem'], /^error: --cert: cannot read \/nonexistent\/chain\.pem \(ENOENT\)$/],
    ['a garbage PEM as the chain', own(garbagePem, `${certs}/rsa2048/leaf.key`, `${certs}/rsa2048/root.pem`), /^error: --cert: .*garbage\.pem: certificate 1 cannot be read/],
    ['a README as the chain', own(readme, readme, readme), /^error: --cert: .*README\.md holds no PEM certificate/],
    ['a README as the key', own(`${certs}/rsa2048/chain.pem`, readme, `${certs}/rsa2048/root.pem`), /^error: --key: .*README\.md is not a PEM private key/],
    ['a README as the root', own(`${certs}/rsa2048/chain.pem`, `${certs}/rsa2048/leaf.key`, readme), /^error: --ca: .*README\.md holds no PEM certificate/],
    ['the key of another chain', own(`${certs}/rsa2048/chain.pem`, `${certs}/ecdsa-p256/leaf.key`, `${certs}/rsa2048/root.pem`), /^error: --key: .* is not the private key of the first certificate/],
    ['a root that does not verify the chain', own(`${certs}/rsa2048/chain.pem`, `${certs}/rsa2048/leaf.key`, `${certs}/ecdsa-p256/root.pem`), /^error: --ca: .* does not verify /],
    ['a chain path with $ for nginx', [...own(`${dollar}/chain.pem`, `${dollar}/leaf.key`, `${dollar}/root.pem`), '--server', 'nginx'], /^error: --cert: .*a\$b\/chain\.pem: a path given to nginx must not contain/],
    ['a missing workload file', ['--workload', '/nonexistent/w.json'], /^error: --workload: cannot read \/nonexistent\/w\.json \(ENOENT\)$/],
    ['an unknown workload name', ['--workload', 'tiny-diffs'], /^error: --workload: no file tiny-diffs and no workload named tiny-diffs in fixtures\/workloads\/$/],
    ['an unknown workload axis', ['--workload', 'body=300'], /^error: --workload: unknown axis "body" \(expected log-body=BYTES, config-size=BYTES or rate=REQUESTS-PER-MINUTE\)$/],
    ['a log body that is not a size', ['--workload', 'log-body=big'], /^error: --workload: log-body: expected whole bytes from 2 to 1000000, got "big"$/],
    ['a log body under the smallest result post', ['--workload', 'log-body=100'], /^error: --workload: log-body=100: a result post of this workload is at least \d+ bytes/],
    ['a config size under the smallest config', ['--workload', 'config-size=10'], /^error: --workload: config-size=10: a config response is at least 62 bytes$/],
    ['a rate under what the other channels send', ['--workload', 'small-diffs,rate=2'], /^error: --workload: rate=2: the workload's other requests alone make 3\.1 a minute/],
    ['two workload files', ['--workload', 'small-diffs,osquery-default'], /^error: --workload: two workloads given/],
    ['a workload with a bad field', ['--workload', badWorkload, '--no-capture'], /^error: .*workload\.json: \$\.\S+: /],
    ['an unknown flag', ['--colour'], /^error: run: .*--colour.*\(see tls-reuse-bench run --help\)$/],
    ['a stray argument', ['default'], /^error: run: unexpected argument "default"/],
  ];
  for (const [name, args, message] of cases) {
    it(name, async () => {
      const result = await cli(['run', '--out', path.join(dir, 'out'), ...args]);
      expect(result.exitCode).toBe(2);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr.trim()).toMatch(message);
    });
  }

  it('an unknown command', async () => {
    const result = await cli(['frobnicate']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/^error: unknown command "frobnicate"/);
  });
});
