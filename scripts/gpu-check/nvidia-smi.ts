/** GPU memory from `nvidia-smi --query-gpu=index,name,memory.used,memory.total --format=csv,noheader,nounits`. */
export interface GpuMemory {
  index: number;
  name: string;
  usedMiB: number;
  totalMiB: number;
}

export const GPU_QUERY_ARGS = ['--query-gpu=index,name,memory.used,memory.total', '--format=csv,noheader,nounits'];

export function parseGpuMemory(csv: string): GpuMemory[] {
  return csv
    .split('\n')
    .map((line) => line.split(',').map((cell) => cell.trim()))
    .filter((cells) => cells.length === 4 && cells.every((c) => c !== ''))
    .map(([index, name, used, total]) => ({ index: Number(index), name, usedMiB: Number(used), totalMiB: Number(total) }))
    .filter((gpu) => Number.isFinite(gpu.index) && Number.isFinite(gpu.usedMiB) && Number.isFinite(gpu.totalMiB));
}

/** Peak per GPU over samples: the most memory a run used. */
export function peakGpuMemory(samples: GpuMemory[][]): GpuMemory[] {
  const peak = new Map<number, GpuMemory>();
  for (const gpu of samples.flat()) {
    const seen = peak.get(gpu.index);
    if (!seen || gpu.usedMiB > seen.usedMiB) peak.set(gpu.index, gpu);
  }
  return [...peak.values()].sort((a, b) => a.index - b.index);
}
