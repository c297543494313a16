/**
 * `npm run load -- --short` as CI runs it: its own API + worker on the test database, async enqueue
 * then sync, and the script's own sanity check (no errors, p99 under a generous bound) decides the
 * exit code. Here we also read its table: both phases ran, none failed.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT, TEST_REDIS_URL } from '../support/service-harness';

jest.setTimeout(240_000);

function runLoadShort(): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'scripts', 'load', 'main.js'), '--short'], {
      env: { ...process.env, TEST_REDIS_URL },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('npm run load -- --short', () => {
  it('enqueues and transcribes under load with no errors and sane latencies', async () => {
    const { code, output } = await runLoadShort();
    console.log(output.split('\n').filter((l) => l.startsWith('|') || l.startsWith('backlog')).join('\n'));
    expect(output).toContain('load --short: sane');
    expect(code).toBe(0);
    const rows = output.split('\n').filter((l) => /^\| (async enqueue|sync \(2 × workers\)) \| \d+ \| \d+ s \|/.test(l));
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      const cells = row.split('|').map((c) => c.trim());
      // | phase | connections | duration | requests | requests/s | p50 | p99 | errors |
      expect(Number(cells[4])).toBeGreaterThan(0);
      expect(Number(cells[8])).toBe(0);
    }
    expect(output).toMatch(/\| async enqueue \| \d+ MB → \d+ MB \| \d+ MB → \d+ MB \|/);
  });
});
