import { PcmSink } from './pcm-sink';

function bytesOf(values: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

describe('PcmSink', () => {
  it('reassembles floats split across chunk boundaries', () => {
    const sink = new PcmSink(10);
    const all = bytesOf([0.5, -0.25, 1, 0.125]);
    for (const [from, to] of [[0, 3], [3, 9], [9, 16]]) expect(sink.write(all.subarray(from, to))).toBe(true);
    expect(Array.from(sink.result())).toEqual([0.5, -0.25, 1, 0.125]);
  });

  it('refuses audio past its cap', () => {
    const sink = new PcmSink(2);
    expect(sink.write(bytesOf([1, 2]))).toBe(true);
    expect(sink.write(bytesOf([3]))).toBe(false);
    expect(sink.sampleCount).toBe(2);
  });

  it('does not commit memory for the unused part of the reservation', () => {
    const before = process.memoryUsage.rss();
    const sink = new PcmSink(16_000 * 3600); // an hour reserved: 230 MB virtual
    sink.write(bytesOf(new Array(16_000).fill(0.1)));
    expect(process.memoryUsage.rss() - before).toBeLessThan(50 * 2 ** 20);
    expect(sink.result().length).toBe(16_000);
  });
});
