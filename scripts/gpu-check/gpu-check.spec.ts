import { classifyBuildFailure, cudaArchitectures, cudaLibraryDirs, findCublas, NO_CUBLAS_MESSAGE } from './cuda-toolkit';
import { parseGpuMemory, peakGpuMemory } from './nvidia-smi';
import { comparisonTable, median } from './report';

describe('gpu-check: cuBLAS detection', () => {
  it('finds libcublas.so in a toolkit folder, or in ldconfig -p', () => {
    const bare = new Map([['/usr/local/cuda-13.0/lib64', ['libcudart.so', 'libcudart.so.13', 'libnvvm.so']]]);
    expect(findCublas(bare)).toBeUndefined();
    const full = new Map([['/usr/local/cuda-13.0/lib64', ['libcudart.so', 'libcublasLt.so.13', 'libcublas.so.13.0.2']]]);
    expect(findCublas(full)).toBe('/usr/local/cuda-13.0/lib64/libcublas.so.13.0.2');
    // libcublasLt alone is not cuBLAS
    expect(findCublas(new Map([['/x', ['libcublasLt.so.13']]]))).toBeUndefined();
    const ldconfig = '\tlibcudart.so.13 (libc6,x86-64) => /usr/lib/libcudart.so.13\n\tlibcublas.so.12 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcublas.so.12\n';
    expect(findCublas(new Map(), ldconfig)).toBe('/usr/lib/x86_64-linux-gnu/libcublas.so.12');
    expect(findCublas(new Map(), '\tlibcudart.so.13 (libc6,x86-64) => /usr/lib/libcudart.so.13\n')).toBeUndefined();
  });

  it('looks in CUDA_HOME and LD_LIBRARY_PATH before the system folders', () => {
    const dirs = cudaLibraryDirs({ CUDA_HOME: '/opt/cuda', LD_LIBRARY_PATH: '/extra:' }, ['/usr/local/cuda']);
    expect(dirs[0]).toBe('/opt/cuda/lib64');
    expect(dirs).toContain('/usr/local/cuda/targets/x86_64-linux/lib');
    expect(dirs).toContain('/extra');
    expect(dirs).not.toContain('');
  });
});

describe('gpu-check: build failures', () => {
  it('a link step without cuBLAS is the clear no-cuBLAS message', () => {
    const ld = 'FAILED: whisper_addon.node\n/usr/bin/ld: cannot find -lcublas: No such file or directory\ncollect2: error: ld returned 1 exit status';
    expect(classifyBuildFailure(ld)).toEqual({ kind: 'no-cublas', message: NO_CUBLAS_MESSAGE });
    const cmake = 'CMake Error at ggml/src/ggml-cuda/CMakeLists.txt:\n  Target "ggml-cuda" links to:\n    CUDA::cublas\n  but the target was not found.';
    expect(classifyBuildFailure(cmake).kind).toBe('no-cublas');
  });

  it('no nvcc, and anything else with the tail of the output', () => {
    expect(classifyBuildFailure('-- The CUDA compiler identification is unknown\nNo CMAKE_CUDA_COMPILER could be found.').kind).toBe('no-nvcc');
    const other = classifyBuildFailure(`${'noise\n'.repeat(40)}error: identifier "__half" is undefined\n`);
    expect(other.kind).toBe('other');
    expect(other.message).toContain('__half');
    expect(other.message.split('\n').length).toBeLessThanOrEqual(16);
  });

  it('CUDA architectures from nvidia-smi compute_cap', () => {
    expect(cudaArchitectures('9.0\n')).toBe('90');
    expect(cudaArchitectures('8.0\n9.0\n9.0\n')).toBe('80;90');
    expect(cudaArchitectures('No devices were found\n')).toBeUndefined();
  });
});

describe('gpu-check: nvidia-smi and the report', () => {
  it('parses memory rows and keeps each GPU\'s peak', () => {
    const first = parseGpuMemory('0, NVIDIA H200, 1024, 143771\n1, NVIDIA H200, 0, 143771\n');
    expect(first).toEqual([
      { index: 0, name: 'NVIDIA H200', usedMiB: 1024, totalMiB: 143771 },
      { index: 1, name: 'NVIDIA H200', usedMiB: 0, totalMiB: 143771 },
    ]);
    expect(parseGpuMemory('NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver.\n')).toEqual([]);
    const second = parseGpuMemory('0, NVIDIA H200, 900, 143771\n1, NVIDIA H200, 2048, 143771\n');
    expect(peakGpuMemory([first, second]).map((g) => g.usedMiB)).toEqual([1024, 2048]);
  });

  it('the table divides CPU by CUDA', () => {
    const lines = comparisonTable([{ label: 'jfk', cpuMs: 3000, cudaMs: 500 }], [{ index: 0, name: 'H200', usedMiB: 812, totalMiB: 143771 }]);
    expect(lines[2]).toBe('| jfk | 3.00 s | 0.50 s | **6.00×** |');
    expect(lines[3]).toContain('812 MiB of 143771 MiB');
    expect(median([5, 1, 3])).toBe(3);
    expect(() => median([])).toThrow();
  });
});
