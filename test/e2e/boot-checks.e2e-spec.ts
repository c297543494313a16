/**
 * Settings that parse but cannot work stop the process at boot, naming the variable, instead of a
 * worker that quietly joins another deployment's queue, claims a GPU it lacks, or fails every request.
 */
import { URL } from 'node:url';
import { whisperGpuDevices } from '@app/whisper';
import { freePort, RunningProcess, startApi, startWorker, TEST_REDIS_URL } from '../support/service-harness';

/** Generous for 2 busy cores: the checks themselves take milliseconds, loading the modules does not. */
const EXIT_WITHIN_MS = 20_000;

function redisUrlWithPath(path: string): string {
  const url = new URL(TEST_REDIS_URL);
  url.pathname = path;
  return url.toString();
}

/** The exit code, or undefined when the process is still running after timeoutMs. */
function exitCode(service: RunningProcess, timeoutMs: number): Promise<number | null | undefined> {
  const { child } = service;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

describe('configuration checked at boot', () => {
  const running: RunningProcess[] = [];

  afterAll(async () => {
    await Promise.all(running.map((p) => p.stop('SIGKILL')));
  });

  async function expectRefusal(service: RunningProcess, variable: string): Promise<void> {
    running.push(service);
    const code = await exitCode(service, EXIT_WITHIN_MS);
    if (code === undefined) throw new Error(`${service.name} still running after ${EXIT_WITHIN_MS} ms; output:\n${service.output()}`);
    expect(code).not.toBe(0);
    expect(service.output()).toMatch(new RegExp(`Invalid environment variable ${variable}\\b`));
  }

  type WorkerCase = [name: string, env: Record<string, string>, variable: string];
  const workerCases: WorkerCase[] = [
    ['a Redis database the server does not have', { REDIS_URL: redisUrlWithPath('/99') }, 'REDIS_URL'],
    ['a Redis database that is not a number', { REDIS_URL: redisUrlWithPath('/abc') }, 'REDIS_URL'],
    ['a WHISPER_MODEL neither official nor in MODEL_DIR', { WHISPER_MODEL: 'no-such-model' }, 'WHISPER_MODEL'],
  ];
  // on a CUDA build with a GPU, DEVICE=cuda is right and the worker starts
  if (whisperGpuDevices().length === 0) workerCases.push(['DEVICE=cuda on an addon without CUDA', { DEVICE: 'cuda' }, 'DEVICE']);

  it.each(workerCases)('the worker refuses %s', async (_name, env, variable) => {
    await expectRefusal(startWorker(env, `worker ${variable}`), variable);
  });

  it.each([
    ['a Redis database the server does not have', '/99'],
    ['a Redis database that is not a number', '/abc'],
  ])('the API refuses %s', async (_name, path) => {
    await expectRefusal(startApi(await freePort(), { REDIS_URL: redisUrlWithPath(path) }), 'REDIS_URL');
  });
});
