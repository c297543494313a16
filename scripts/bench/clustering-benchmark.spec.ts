import { benchmarkClustering } from './clustering-benchmark';

describe('benchmarkClustering', () => {
  it("clusters (pyannote 3.1's settings), assigns and stitches an hour of windows in under a second, finding the true speakers", () => {
    benchmarkClustering({ windows: 300, seed: 2 }); // JIT warm-up
    const r = benchmarkClustering({ windows: 3600, localSpeakers: 3, dimension: 256, speakers: 4, seed: 1 });
    console.log(
      `clustering+assignment+stitching 1 h: ${r.embeddings} embeddings, cluster ${r.clusterMs.toFixed(0)} ms (${r.method}), ` +
        `assign ${r.assignMs.toFixed(0)} ms, stitch ${r.stitchMs.toFixed(0)} ms, ${r.speakersFound} speakers, DER ${(100 * r.der).toFixed(2)} %`,
    );
    expect(r.embeddings).toBeGreaterThan(7000);
    expect(r.speakersFound).toBe(4);
    expect(r.der).toBeLessThan(0.02);
    expect(r.clusterMs + r.assignMs + r.stitchMs).toBeLessThan(2000); // target < 1 s; slack for a loaded machine
  });

  it('a short input takes the exact path', () => {
    const r = benchmarkClustering({ windows: 120, speakers: 3, seed: 5 });
    expect(r.method).toBe('exact');
    expect(r.speakersFound).toBe(3);
  });
});
