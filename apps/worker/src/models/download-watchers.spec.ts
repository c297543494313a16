import { DownloadWatchers } from './download-watchers';

describe('DownloadWatchers', () => {
  it('fans the progress of one load out to every job waiting for that model, by file name', () => {
    const watchers = new DownloadWatchers();
    const first: string[] = [];
    const second: string[] = [];
    const other: string[] = [];
    watchers.watch('whisper:ggml-small.bin:cpu', (file, received, total) => first.push(`${file} ${received}/${total}`));
    const stopSecond = watchers.watch('whisper:ggml-small.bin:cpu', (file, received) => second.push(`${file} ${received}`));
    watchers.watch('whisper:ggml-base.bin:cpu', (file) => other.push(file));
    const report = watchers.reporter('whisper:ggml-small.bin:cpu');
    report(10, 100, '/srv/models/ggml-small.bin');
    stopSecond();
    report(100, 100, '/srv/models/ggml-small.bin');
    expect(first).toEqual(['ggml-small.bin 10/100', 'ggml-small.bin 100/100']);
    expect(second).toEqual(['ggml-small.bin 10']);
    expect(other).toEqual([]);
  });

  it('a load nobody watches reports to nobody', () => {
    expect(() => new DownloadWatchers().reporter('whisper:x:cpu')(1, 2, '/m/x')).not.toThrow();
  });
});
