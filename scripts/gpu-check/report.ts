import { GpuMemory } from './nvidia-smi';

/** One workload timed on both devices (medians in ms). */
export interface DeviceComparison {
  label: string;
  cpuMs: number;
  cudaMs: number;
}

export const median = (values: number[]): number => {
  if (values.length === 0) throw new Error('median of no values');
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
};

/** A markdown table: CPU vs CUDA medians and the speed-up (CPU ÷ CUDA; > 1 means the GPU is faster). */
export function comparisonTable(rows: DeviceComparison[], gpus: GpuMemory[]): string[] {
  const lines = ['| workload | CPU | CUDA | CPU ÷ CUDA |', '| --- | --- | --- | --- |'];
  for (const row of rows) lines.push(`| ${row.label} | ${(row.cpuMs / 1000).toFixed(2)} s | ${(row.cudaMs / 1000).toFixed(2)} s | **${(row.cpuMs / row.cudaMs).toFixed(2)}×** |`);
  for (const gpu of gpus) lines.push(`| GPU ${gpu.index} (${gpu.name}) peak memory during the CUDA runs | ${gpu.usedMiB} MiB of ${gpu.totalMiB} MiB | | |`);
  return lines;
}
