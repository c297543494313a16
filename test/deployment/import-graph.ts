/**
 * What an image build compiles and loads, read from the sources the way tsc and Node see them:
 * the files reachable from a tsconfig's entry points through every import (type-only ones too, as
 * tsc compiles those files as well), following the `@app/*` path aliases, and the npm packages the
 * compiled JavaScript `require`s at run time (each file transpiled alone, which `isolatedModules`
 * guarantees is what tsc emits).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative, sep } from 'node:path';
import ts from 'typescript';

export interface ImportGraph {
  /** tsconfig's entry points, relative to the root */
  entries: string[];
  /** every project file tsc compiles for these entries, relative to the root, '/'-separated */
  files: string[];
  /** packages named by any import, type-only ones included (what tsc reads) */
  packagesTyped: string[];
  /** packages the emitted JavaScript requires (what Node loads), with a file that requires each */
  packagesRequired: Map<string, string>;
  /** top folders of the files: 'apps/api', 'libs/contracts', 'scripts', 'test', … */
  folders: string[];
}

const BUILTINS = new Set(builtinModules);
/** JavaScript per source file: the API and worker graphs share libraries, transpile each once. */
const emitted = new Map<string, string>();

/** `@scope/name/deep` → `@scope/name`, `name/deep` → `name`; null for relative paths and Node built-ins. */
export function packageName(specifier: string): string | null {
  if (specifier.startsWith('.') || specifier.startsWith('/')) return null;
  if (specifier.startsWith('node:') || BUILTINS.has(specifier.split('/')[0])) return null;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** The folder a project file belongs to: `apps/<app>`, `libs/<lib>`, or its top folder. */
export function topFolder(file: string): string {
  const parts = file.split('/');
  return parts[0] === 'apps' || parts[0] === 'libs' ? parts.slice(0, 2).join('/') : parts.length > 1 ? parts[0] : file;
}

export function readTsconfig(root: string, tsconfig: string): ts.ParsedCommandLine {
  const parsed = ts.getParsedCommandLineOfConfigFile(join(root, tsconfig), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  if (!parsed) throw new Error(`cannot read ${tsconfig}`);
  return parsed;
}

/** Specifiers a JavaScript text loads: require('x'), require.resolve('x'). */
function requiredSpecifiers(js: string): string[] {
  return [...js.matchAll(/\brequire(?:\.resolve)?\(\s*["'`]([^"'`]+)["'`]/g)].map((m) => m[1]);
}

export function importGraph(root: string, tsconfig: string): ImportGraph {
  const parsed = readTsconfig(root, tsconfig);
  const options = parsed.options;
  const host = ts.createCompilerHost(options, true);
  const cache = ts.createModuleResolutionCache(root, (f) => f, options);
  const rel = (file: string) => relative(root, file).split(sep).join('/');
  const isProjectFile = (file: string) => !rel(file).startsWith('..') && !rel(file).split('/').includes('node_modules');

  const seen = new Set<string>();
  const packagesTyped = new Set<string>();
  const packagesRequired = new Map<string, string>();
  const queue = parsed.fileNames.map((f) => ts.sys.resolvePath(f));

  const resolve = (specifier: string, from: string): string | undefined =>
    ts.resolveModuleName(specifier, from, options, host, cache).resolvedModule?.resolvedFileName;

  while (queue.length > 0) {
    const file = queue.shift()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');

    for (const { fileName: specifier } of ts.preProcessFile(text, true, true).importedFiles) {
      const target = resolve(specifier, file);
      if (target && isProjectFile(target)) {
        queue.push(target);
        continue;
      }
      const pkg = packageName(specifier);
      if (pkg) packagesTyped.add(pkg);
    }

    let js = emitted.get(file);
    if (js === undefined) {
      js = ts.transpileModule(text, { compilerOptions: options, fileName: file }).outputText;
      emitted.set(file, js);
    }
    for (const specifier of requiredSpecifiers(js)) {
      const target = resolve(specifier, file);
      if (target && isProjectFile(target)) continue;
      const pkg = packageName(specifier);
      if (pkg && !packagesRequired.has(pkg)) packagesRequired.set(pkg, rel(file));
    }
  }

  const files = [...seen].map(rel).sort();
  return {
    entries: parsed.fileNames.map((f) => rel(ts.sys.resolvePath(f))),
    files,
    packagesTyped: [...packagesTyped].sort(),
    packagesRequired,
    folders: [...new Set(files.map(topFolder))].sort(),
  };
}

interface LockPackage {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/**
 * Every package installed for `roots` according to package-lock.json (dependencies, optional and
 * peer dependencies, nested node_modules resolved the way Node finds them).
 */
export function lockClosure(lock: { packages: Record<string, LockPackage> }, roots: Iterable<string>): Set<string> {
  const names = new Set<string>();
  const visited = new Set<string>();
  const locate = (from: string, name: string): string | undefined => {
    let dir = from;
    for (;;) {
      const candidate = `${dir ? `${dir}/` : ''}node_modules/${name}`;
      if (lock.packages[candidate]) return candidate;
      if (!dir) return undefined;
      const up = dir.lastIndexOf('/node_modules/');
      dir = up < 0 ? '' : dir.slice(0, up);
    }
  };
  const queue = [...roots].map((name) => ({ from: '', name }));
  while (queue.length > 0) {
    const { from, name } = queue.shift()!;
    const location = locate(from, name);
    if (!location || visited.has(location)) continue;
    visited.add(location);
    names.add(name);
    const entry = lock.packages[location];
    for (const deps of [entry.dependencies, entry.optionalDependencies, entry.peerDependencies]) {
      for (const dep of Object.keys(deps ?? {})) queue.push({ from: location, name: dep });
    }
  }
  return names;
}

/** A Dockerfile's COPY instructions that read the build context (not `--from=` another stage). */
export function contextCopies(dockerfile: string): { sources: string[]; destination: string }[] {
  const copies: { sources: string[]; destination: string }[] = [];
  for (const line of dockerfile.replace(/\\\n/g, ' ').split('\n')) {
    const match = /^\s*COPY\s+(.*)$/i.exec(line);
    if (!match) continue;
    const args = match[1].trim().split(/\s+/);
    if (args.some((a) => a.startsWith('--from'))) continue;
    const paths = args.filter((a) => !a.startsWith('--'));
    copies.push({ sources: paths.slice(0, -1).map((p) => p.replace(/^\.\//, '').replace(/\/$/, '')), destination: paths[paths.length - 1] });
  }
  return copies;
}

/**
 * .dockerignore as Docker reads it: one pattern a line, `*`/`?`/`**` globs, `!` re-includes, the
 * last matching line wins, and a pattern that matches a folder matches everything inside it.
 */
export function dockerignore(text: string): (file: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = (negate ? l.slice(1) : l).replace(/^\/+/, '').replace(/\/+$/, '');
      const source = pattern
        .split('/')
        .map((part) => (part === '**' ? '\u0000' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')))
        .join('/')
        .replace(/\u0000\//g, '(?:.*/)?')
        .replace(/\/\u0000/g, '(?:/.*)?')
        .replace(/\u0000/g, '.*');
      return { negate, regex: new RegExp(`^${source}$`) };
    });
  return (file: string) => {
    const parts = file.split('/');
    const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let ignored = false;
    for (const rule of rules) if (candidates.some((c) => rule.regex.test(c))) ignored = !rule.negate;
    return ignored;
  };
}

/** Files under `path` (a file or a folder, relative to root), relative to root and '/'-separated. */
export function filesUnder(root: string, path: string): string[] {
  const absolute = join(root, path);
  if (!existsSync(absolute)) return [];
  if (!statSync(absolute).isDirectory()) return [path];
  return readdirSync(absolute, { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? filesUnder(root, `${path}/${entry.name}`) : entry.isFile() ? [`${path}/${entry.name}`] : []))
    .sort();
}
