/**
 * No Docker engine runs here, so the deployment files are checked by reading them: services,
 * ports, env names, volumes and commands must match the code.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ENV_VARIABLES } from '@app/config';
import { WorkerLockDefaults } from '@app/contracts';

const ROOT = join(__dirname, '..', '..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  ports?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  container_name?: string;
  deploy?: { resources?: { reservations?: { devices?: { driver: string; capabilities: string[] }[] } } };
  depends_on?: Record<string, { condition: string }>;
  stop_grace_period?: string;
}

const compose = parse(read('docker-compose.yml')) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> };
const { redis, api, worker, 'audio-redis': audioRedis } = compose.services;
const packageJson = JSON.parse(read('package.json')) as { scripts: Record<string, string> };

/** The JS entry a Dockerfile's CMD runs, mapped back to its TypeScript source. */
function cmdSource(dockerfile: string): string {
  const cmd = /^CMD\s+(\[.*\])\s*$/m.exec(read(dockerfile));
  if (!cmd) throw new Error(`${dockerfile} has no exec-form CMD`);
  const entry = (JSON.parse(cmd[1]) as string[]).find((arg) => arg.endsWith('.js'));
  if (!entry) throw new Error(`${dockerfile} CMD runs no .js file`);
  return entry.replace(/^dist\//, '').replace(/\.js$/, '.ts');
}

describe('docker-compose.yml', () => {
  it('has the queue redis, the audio redis, api and worker', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'audio-redis', 'redis', 'worker']);
  });

  it('keeps audio in a Redis without persistence (no RDB, no AOF, no volume) that never evicts', () => {
    const command = audioRedis.command ?? [];
    const after = (flag: string) => command[command.indexOf(flag) + 1];
    expect(command.includes('--save') && after('--save')).toBe('');
    expect(after('--appendonly')).toBe('no');
    expect(after('--maxmemory-policy')).toBe('noeviction');
    expect(audioRedis.volumes).toBeUndefined();
    for (const service of [api, worker]) {
      expect(service.environment?.AUDIO_REDIS_URL).toBe('redis://audio-redis:6379');
      expect(service.depends_on?.['audio-redis'].condition).toBe('service_healthy');
    }
  });

  it('runs Redis with AOF and noeviction (BullMQ must never lose keys)', () => {
    expect(redis.command).toEqual(expect.arrayContaining(['--appendonly', 'yes', '--maxmemory-policy', 'noeviction']));
    expect(redis.volumes?.some((v) => v.endsWith(':/data'))).toBe(true);
  });

  it('publishes the API port the API listens on', () => {
    const [host, container] = (api.ports?.[0] ?? '').split(':');
    expect(api.environment?.PORT).toBe(container);
    expect(host).toBe('8000');
    expect(read('Dockerfile.api')).toMatch(new RegExp(`^EXPOSE ${container}$`, 'm'));
  });

  it('makes the API listen on every interface in its container (the code defaults to loopback)', () => {
    expect(api.environment?.HOST).toBe('0.0.0.0');
    expect(read('Dockerfile.api')).toMatch(/^ENV .*\bHOST=0\.0\.0\.0\b/m);
  });

  it('points both apps at the redis service', () => {
    expect(api.environment?.REDIS_URL).toBe('redis://redis:6379');
    expect(worker.environment?.REDIS_URL).toBe('redis://redis:6379');
    expect(api.depends_on?.redis.condition).toBe('service_healthy');
    expect(worker.depends_on?.redis.condition).toBe('service_healthy');
  });

  it('uses only environment variables the code reads', () => {
    for (const service of [api, worker]) {
      for (const name of Object.keys(service.environment ?? {})) expect(ENV_VARIABLES).toContain(name);
    }
  });

  it('gives the worker the variables of the original Python service, a GPU and the models volume', () => {
    for (const name of ['HF_AUTH_TOKEN', 'DEVICE', 'COMPUTE_TYPE', 'MODEL_DIR', 'WHISPER_MODEL', 'MODEL_CACHE_SIZE']) {
      expect(worker.environment).toHaveProperty(name);
    }
    expect(worker.environment?.DEVICE).toBe('cuda');
    const devices = worker.deploy?.resources?.reservations?.devices ?? [];
    expect(devices[0]).toMatchObject({ driver: 'nvidia', capabilities: ['gpu'] });
    expect(worker.volumes).toContain(`models:${worker.environment?.MODEL_DIR}`);
    expect(compose.volumes).toHaveProperty('models');
  });

  it('keeps the worker scalable with --scale worker=N', () => {
    expect(worker.container_name).toBeUndefined();
    expect(worker.ports).toBeUndefined();
  });

  it('builds each app from its own Dockerfile', () => {
    expect(api.build?.dockerfile).toBe('Dockerfile.api');
    expect(worker.build?.dockerfile).toBe('Dockerfile.worker');
  });
});

describe('Dockerfiles', () => {
  it('start the real entry points', () => {
    expect(cmdSource('Dockerfile.api')).toBe('apps/api/src/main.ts');
    expect(cmdSource('Dockerfile.worker')).toBe('apps/worker/src/main.ts');
    expect(existsSync(join(ROOT, cmdSource('Dockerfile.api')))).toBe(true);
    expect(existsSync(join(ROOT, cmdSource('Dockerfile.worker')))).toBe(true);
  });

  it('only run npm scripts that exist', () => {
    for (const file of ['Dockerfile.api', 'Dockerfile.worker']) {
      for (const match of read(file).matchAll(/npm run ([\w:-]+)/g)) expect(packageJson.scripts).toHaveProperty(match[1]);
    }
  });

  it('build whisper.cpp with CUDA on a CUDA base image for the worker', () => {
    const dockerfile = read('Dockerfile.worker');
    expect(dockerfile).toMatch(/FROM nvidia\/cuda:\$\{CUDA_VERSION\}-devel/);
    expect(dockerfile).toMatch(/FROM nvidia\/cuda:\$\{CUDA_VERSION\}-cudnn-runtime/);
    expect(dockerfile).toMatch(/WHISPER_CUDA=1/);
    expect(read('scripts/build-native.js')).toMatch(/GGML_CUDA=ON/);
    expect(dockerfile).toMatch(/ffmpeg/);
    expect(dockerfile).toMatch(/build\/native\/whisper_addon\.node/);
  });

  it('skip the onnxruntime CUDA download during npm ci (offline-safe)', () => {
    for (const file of ['Dockerfile.api', 'Dockerfile.worker']) expect(read(file)).toMatch(/ONNXRUNTIME_NODE_INSTALL=skip/);
  });

  it('give the worker image the CUDA execution provider of onnxruntime after npm ci, and check it is there', () => {
    const dockerfile = read('Dockerfile.worker');
    const install = /RUN ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules\/onnxruntime-node\/script\/install\.js/.exec(dockerfile);
    expect(install).not.toBeNull();
    // after the skipped npm ci and after npm prune, before the runtime stage copies node_modules
    expect(install!.index).toBeGreaterThan(dockerfile.indexOf('RUN npm ci'));
    expect(install!.index).toBeGreaterThan(dockerfile.indexOf('npm prune'));
    expect(install!.index).toBeLessThan(dockerfile.lastIndexOf('FROM '));
    expect(dockerfile).toMatch(/test -f node_modules\/onnxruntime-node\/bin\/napi-v6\/linux\/x64\/libonnxruntime_providers_cuda\.so/);
    // the manifest the install script reads really names that file for cuda12
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const metadata = require(join(ROOT, 'node_modules/onnxruntime-node/script/install-metadata.js')) as { manifests: Record<string, Record<string, unknown>> };
    expect(Object.keys(metadata.manifests['linux/x64:cuda12'])).toContain('./libonnxruntime_providers_cuda.so');
  });

  it('lets a worker finish its job on stop (grace period above the lock duration)', () => {
    expect(parseInt(worker.stop_grace_period ?? '0', 10) * 1000).toBeGreaterThan(WorkerLockDefaults.lockDurationMs);
  });
});
