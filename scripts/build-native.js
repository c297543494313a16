#!/usr/bin/env node
// @ts-check
/**
 * Builds build/native/whisper_addon.node and build/native/bin/whisper-cli from the
 * whisper.cpp tree shipped in nodejs-whisper (see libs/whisper/native/CMakeLists.txt).
 *
 * Runs before TypeScript is compiled, hence plain CommonJS.
 *
 *   node scripts/build-native.js [--force]
 *
 * Env: WHISPER_CUDA=1 or DEVICE=cuda  -> -DGGML_CUDA=ON
 *      GGML_NATIVE=OFF                -> portable CPU code (Docker images)
 *      CMAKE_CUDA_ARCHITECTURES       -> passed through (shortens CUDA builds)
 *      CMAKE_BUILD_PARALLEL_LEVEL     -> build jobs (default: number of cores)
 */
'use strict';

const { spawnSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const SOURCE_DIR = path.join(ROOT, 'libs', 'whisper', 'native');
const BUILD_DIR = path.join(ROOT, 'build', 'native');
const STAMP_FILE = path.join(BUILD_DIR, 'build-stamp.json');
const CONFIGURED_FILE = path.join(BUILD_DIR, 'configured-options.json');
const OUTPUTS = [path.join(BUILD_DIR, 'whisper_addon.node'), path.join(BUILD_DIR, 'bin', exe('whisper-cli'))];

/** @param {string} name */
function exe(name) {
  return process.platform === 'win32' ? `${name}.exe` : name;
}

/** @param {string} message @returns {never} */
function fail(message) {
  console.error(`build-native: ${message}`);
  process.exit(1);
}

/** @param {string | undefined} value */
function isOn(value) {
  return value !== undefined && /^(1|on|true|yes)$/i.test(value.trim());
}

/** @param {string | undefined} value */
function isOff(value) {
  return value !== undefined && /^(0|off|false|no)$/i.test(value.trim());
}

function whisperCppDir() {
  let pkg;
  try {
    pkg = require.resolve('nodejs-whisper/package.json', { paths: [ROOT] });
  } catch {
    return fail('nodejs-whisper is not installed (it provides the whisper.cpp sources); run npm install');
  }
  const dir = path.join(path.dirname(pkg), 'cpp', 'whisper.cpp');
  if (!fs.existsSync(path.join(dir, 'include', 'whisper.h'))) {
    return fail(`whisper.cpp sources not found in ${dir}`);
  }
  return dir;
}

function nodeAddonApiDir() {
  /** @type {{ include_dir: string }} */
  let api;
  try {
    api = require(require.resolve('node-addon-api', { paths: [ROOT] }));
  } catch {
    return fail('node-addon-api is not installed; run npm install');
  }
  // include_dir is relative to the cwd at require time (older versions quote it).
  return path.resolve(api.include_dir.replace(/^"|"$/g, ''));
}

/** node_api.h: npm's nodedir if configured, then the headers next to this node binary, then system paths. */
function nodeIncludeDir() {
  const candidates = [];
  const nodedir = process.env.npm_config_nodedir;
  if (nodedir) candidates.push(path.join(nodedir, 'include', 'node'));
  candidates.push(path.resolve(path.dirname(process.execPath), '..', 'include', 'node'));
  candidates.push('/usr/include/node', '/usr/local/include/node');
  const found = candidates.find((dir) => fs.existsSync(path.join(dir, 'node_api.h')));
  if (!found) {
    return fail(
      `Node.js headers (node_api.h) not found in: ${candidates.join(', ')}. ` +
        'Install the Node.js development headers (e.g. apt-get install libnode-dev) or set npm_config_nodedir.',
    );
  }
  return found;
}

/** @param {string} command @param {string[]} args */
function probe(command, args) {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return result.error || result.status !== 0 ? undefined : result.stdout;
}

function checkToolchain() {
  const cmakeVersion = probe('cmake', ['--version']);
  if (!cmakeVersion) {
    fail('cmake not found in PATH; install CMake >= 3.18 (e.g. apt-get install cmake)');
  }
  const compilers = [process.env.CXX, 'c++', 'g++', 'clang++'].filter((c) => typeof c === 'string' && c !== '');
  if (process.platform !== 'win32' && !compilers.some((c) => probe(/** @type {string} */ (c), ['--version']))) {
    fail('no C++ compiler found (tried $CXX, c++, g++, clang++); install one (e.g. apt-get install g++)');
  }
}

/** Ninja when available; an existing build tree keeps the generator it was configured with. */
function generatorArgs() {
  const cache = path.join(BUILD_DIR, 'CMakeCache.txt');
  if (fs.existsSync(cache)) return [];
  if (process.env.CMAKE_GENERATOR) return [];
  return probe('ninja', ['--version']) ? ['-G', 'Ninja'] : [];
}

function cmakeOptions() {
  const cuda = isOn(process.env.WHISPER_CUDA) || process.env.DEVICE === 'cuda';
  const options = {
    CMAKE_BUILD_TYPE: 'Release',
    WHISPER_CPP_DIR: whisperCppDir(),
    NODE_INCLUDE_DIR: nodeIncludeDir(),
    NODE_ADDON_API_DIR: nodeAddonApiDir(),
    // Always explicit: CMake caches values, so omitting one would keep the last build's.
    GGML_CUDA: cuda ? 'ON' : 'OFF',
    GGML_NATIVE: isOff(process.env.GGML_NATIVE) ? 'OFF' : 'ON',
  };
  if (process.env.CMAKE_CUDA_ARCHITECTURES) {
    return { ...options, CMAKE_CUDA_ARCHITECTURES: process.env.CMAKE_CUDA_ARCHITECTURES };
  }
  return options;
}

/** @param {string} dir @returns {string[]} */
function listFiles(dir) {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const full = path.join(dir, entry.name);
      return entry.isDirectory() ? listFiles(full) : [full];
    })
    .sort();
}

/** Everything that changes the outputs: our sources, the whisper.cpp release, the options. @param {Record<string, string>} options */
function buildHash(options) {
  const hash = crypto.createHash('sha256');
  for (const file of listFiles(SOURCE_DIR)) {
    hash.update(path.relative(SOURCE_DIR, file)).update('\0').update(fs.readFileSync(file)).update('\0');
  }
  const whisperPkg = path.resolve(options.WHISPER_CPP_DIR, '..', '..', 'package.json');
  const whisperCmake = fs.readFileSync(path.join(options.WHISPER_CPP_DIR, 'CMakeLists.txt'), 'utf8');
  const whisperVersion = /project\("whisper\.cpp" VERSION ([^)\s]+)/.exec(whisperCmake)?.[1] ?? 'unknown';
  hash.update(JSON.stringify({ options, whisperVersion, nodejsWhisper: readVersion(whisperPkg), platform: process.platform, arch: process.arch }));
  return hash.digest('hex');
}

/** @param {string} packageJson */
function readVersion(packageJson) {
  try {
    return JSON.parse(fs.readFileSync(packageJson, 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

function readStamp() {
  try {
    return JSON.parse(fs.readFileSync(STAMP_FILE, 'utf8')).hash;
  } catch {
    return undefined;
  }
}

/**
 * CMake computes option defaults (e.g. GGML_AVX2 from GGML_NATIVE) only on the first
 * configure and caches them, so a changed option set needs a fresh cache.
 * @param {Record<string, string>} options
 */
function dropStaleCache(options) {
  let previous;
  try {
    previous = fs.readFileSync(CONFIGURED_FILE, 'utf8');
  } catch {
    return;
  }
  if (previous === JSON.stringify(options)) return;
  console.log('build-native: CMake options changed; configuring from scratch');
  fs.rmSync(path.join(BUILD_DIR, 'CMakeCache.txt'), { force: true });
  fs.rmSync(path.join(BUILD_DIR, 'CMakeFiles'), { recursive: true, force: true });
}

/** @param {string[]} args */
function cmake(args) {
  const result = spawnSync('cmake', args, { stdio: 'inherit' });
  if (result.error) fail(`could not run cmake: ${result.error.message}`);
  return result.status === 0;
}

function main() {
  const force = process.argv.includes('--force');
  const options = cmakeOptions();
  const hash = buildHash(options);
  if (!force && readStamp() === hash && OUTPUTS.every((file) => fs.existsSync(file))) {
    console.log('native addon up to date');
    return;
  }

  checkToolchain();
  const started = Date.now();
  fs.mkdirSync(BUILD_DIR, { recursive: true });
  // A stale stamp must not survive a failed build.
  fs.rmSync(STAMP_FILE, { force: true });
  dropStaleCache(options);

  const defines = Object.entries(options).map(([key, value]) => `-D${key}=${value}`);
  console.log(`build-native: configuring (${defines.filter((d) => d.startsWith('-DGGML')).join(' ')})`);
  if (!cmake(['-S', SOURCE_DIR, '-B', BUILD_DIR, ...generatorArgs(), ...defines])) {
    fail(
      'CMake configure failed (see above).' +
        (options.GGML_CUDA === 'ON'
          ? ' GGML_CUDA=ON needs the CUDA toolkit (nvcc + cuBLAS); on a machine without a GPU also set' +
            ' CMAKE_CUDA_ARCHITECTURES (e.g. "80;86;89;90").'
          : ''),
    );
  }
  fs.writeFileSync(CONFIGURED_FILE, JSON.stringify(options));

  const jobs = process.env.CMAKE_BUILD_PARALLEL_LEVEL || String(Math.max(1, os.availableParallelism()));
  console.log(`build-native: building with ${jobs} jobs`);
  if (!cmake(['--build', BUILD_DIR, '--config', 'Release', '--parallel', jobs])) {
    fail('build failed (see above)');
  }

  const missing = OUTPUTS.filter((file) => !fs.existsSync(file));
  if (missing.length > 0) fail(`build finished but outputs are missing: ${missing.join(', ')}`);

  fs.writeFileSync(STAMP_FILE, `${JSON.stringify({ hash, options, builtAt: new Date().toISOString() }, null, 2)}\n`);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`build-native: built ${OUTPUTS.map((f) => path.relative(ROOT, f)).join(', ')} in ${seconds} s`);
}

main();
