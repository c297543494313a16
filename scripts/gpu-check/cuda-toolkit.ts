/**
 * What the CUDA build needs and why it failed: pure functions over file listings and build output,
 * so the decision is unit-tested without a GPU.
 */

/** The library whisper.cpp's CUDA backend links against; nvcc alone (a bare toolkit) lacks it. */
export const CUBLAS_PATTERN = /^libcublas\.so(\.\d+)*$/;

/** Folders a CUDA toolkit puts its libraries in, most specific first. */
export function cudaLibraryDirs(env: NodeJS.ProcessEnv, toolkitRoots: string[]): string[] {
  const roots = [env.CUDA_HOME, env.CUDA_PATH, ...toolkitRoots].filter((r): r is string => !!r);
  const dirs = roots.flatMap((root) => [`${root}/lib64`, `${root}/lib`, `${root}/targets/x86_64-linux/lib`, `${root}/targets/sbsa-linux/lib`]);
  dirs.push('/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/local/lib');
  for (const dir of (env.LD_LIBRARY_PATH ?? '').split(':')) if (dir) dirs.push(dir);
  return [...new Set(dirs)];
}

/** The first cuBLAS found in `listing` (folder → its file names) or in `ldconfig -p` output. */
export function findCublas(listing: Map<string, string[]>, ldconfigOutput = ''): string | undefined {
  for (const [dir, names] of listing) {
    const hit = names.find((name) => CUBLAS_PATTERN.test(name));
    if (hit) return `${dir}/${hit}`;
  }
  const line = ldconfigOutput.split('\n').find((l) => /\blibcublas\.so\b/.test(l));
  return line ? line.split('=>').pop()?.trim() : undefined;
}

export type BuildFailure =
  | { kind: 'no-cublas'; message: string }
  | { kind: 'no-nvcc'; message: string }
  | { kind: 'other'; message: string };

export const NO_CUBLAS_MESSAGE =
  'the CUDA toolkit here has nvcc but no cuBLAS (libcublas): whisper.cpp\'s CUDA build configures and then fails at linking. ' +
  'Install the full CUDA toolkit (e.g. apt-get install cuda-toolkit-13-0 or libcublas-dev) or run gpu-check on a GPU host.';

/** Sorts a failed `build-native` run by the output it printed; the tail helps only in the 'other' case. */
export function classifyBuildFailure(output: string): BuildFailure {
  if (/cublas/i.test(output) && /(cannot find|not found|undefined reference|No such file|was not found|-lcublas)/i.test(output)) {
    return { kind: 'no-cublas', message: NO_CUBLAS_MESSAGE };
  }
  if (/(No CMAKE_CUDA_COMPILER could be found|nvcc: not found|Failed to find nvcc|CUDA Toolkit not found|Could NOT find CUDAToolkit)/i.test(output)) {
    return { kind: 'no-nvcc', message: 'no CUDA compiler (nvcc) found: install the CUDA toolkit, or put its bin/ on PATH (CUDACXX=/usr/local/cuda/bin/nvcc)' };
  }
  const tail = output.trimEnd().split('\n').slice(-15).join('\n');
  return { kind: 'other', message: `the CUDA build failed; its last lines:\n${tail}` };
}

/** `nvidia-smi --query-gpu=compute_cap --format=csv,noheader` ("9.0") → CMake's "90"; several GPUs → "80;90". */
export function cudaArchitectures(computeCapOutput: string): string | undefined {
  const archs = [...new Set(computeCapOutput.split('\n').map((l) => l.trim()).filter((l) => /^\d+\.\d+$/.test(l)).map((l) => l.replace('.', '')))];
  return archs.length > 0 ? archs.join(';') : undefined;
}
