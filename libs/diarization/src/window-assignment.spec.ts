import { assignWindowSpeakers } from './window-assignment';

/** 2-D unit vector at an angle in degrees. */
const at = (deg: number): number[] => [Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180)];

describe('assignWindowSpeakers', () => {
  const centroids = Float32Array.from([...at(0), ...at(90)]);

  it('sends each active slot to the closest centroid; inactive slots get -1', () => {
    // window 0: slots at 10° and 80°, slot 2 inactive
    const embeddings = Float32Array.from([...at(10), ...at(80), 0, 0]);
    const labels = assignWindowSpeakers({ embeddings, dimension: 2, localSpeakers: 3, centroids, active: Uint8Array.from([1, 1, 0]) });
    expect(Array.from(labels)).toEqual([0, 1, -1]);
  });

  it('never gives two local speakers of one window the same cluster when constrained', () => {
    // both slots are closer to cluster 0 (20° and 30°): the one farther from it (30°) has to take cluster 1
    const embeddings = Float32Array.from([...at(20), ...at(30), 0, 0]);
    const active = Uint8Array.from([1, 1, 0]);
    expect(Array.from(assignWindowSpeakers({ embeddings, dimension: 2, localSpeakers: 3, centroids, active }))).toEqual([0, 1, -1]);
    expect(Array.from(assignWindowSpeakers({ embeddings, dimension: 2, localSpeakers: 3, centroids, active, constrained: false }))).toEqual([0, 0, -1]);
  });

  it('leaves a slot unassigned when a window has more speakers than there are clusters', () => {
    const embeddings = Float32Array.from([...at(0), ...at(5), ...at(88)]);
    const labels = assignWindowSpeakers({ embeddings, dimension: 2, localSpeakers: 3, centroids, active: Uint8Array.from([1, 1, 1]) });
    expect(Array.from(labels).sort()).toEqual([-1, 0, 1]);
    expect(labels[2]).toBe(1);
  });

  it('handles no clusters and bad shapes', () => {
    expect(Array.from(assignWindowSpeakers({ embeddings: new Float32Array(4), dimension: 2, localSpeakers: 2, centroids: new Float32Array(0), active: Uint8Array.from([1, 1]) }))).toEqual([-1, -1]);
    expect(() => assignWindowSpeakers({ embeddings: new Float32Array(3), dimension: 2, localSpeakers: 2, centroids, active: Uint8Array.from([1, 1]) })).toThrow(RangeError);
  });
});
