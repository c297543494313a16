import type { JobProgress } from '@app/contracts';
import { PROGRESS_SETTLE_MS, SettlingProgress } from './settling-progress';

describe('SettlingProgress', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const at = (stage: JobProgress['stage'], percent: number): JobProgress => ({ stage, percent });

  it('writes the first progress at once and only the newest of the next window', () => {
    const written: JobProgress[] = [];
    const progress = new SettlingProgress((p) => written.push(p));
    progress.push(at('decode', 1));
    expect(written).toEqual([at('decode', 1)]);
    progress.push(at('vad', 2));
    progress.push(at('load_model', 5));
    expect(written).toHaveLength(1);
    jest.advanceTimersByTime(PROGRESS_SETTLE_MS);
    expect(written).toEqual([at('decode', 1), at('load_model', 5)]);
    // a long stage keeps showing, at most once per window
    progress.push(at('transcribe', 10));
    progress.push(at('transcribe', 11));
    jest.advanceTimersByTime(PROGRESS_SETTLE_MS);
    progress.push(at('transcribe', 12));
    jest.advanceTimersByTime(PROGRESS_SETTLE_MS);
    expect(written.slice(2)).toEqual([at('transcribe', 11), at('transcribe', 12)]);
  });

  it('a job that ends drops what is pending and writes nothing more', () => {
    const written: JobProgress[] = [];
    const progress = new SettlingProgress((p) => written.push(p));
    progress.push(at('decode', 1));
    progress.push(at('vad', 2));
    progress.stop();
    progress.push(at('load_model', 5));
    jest.advanceTimersByTime(10 * PROGRESS_SETTLE_MS);
    expect(written).toEqual([at('decode', 1)]);
  });
});
