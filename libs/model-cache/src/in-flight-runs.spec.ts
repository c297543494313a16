import { InFlightRuns } from './in-flight-runs';

describe('InFlightRuns', () => {
  it('close() waits for the calls in flight and refuses new ones', async () => {
    const runs = new InFlightRuns('test model');
    const order: string[] = [];
    let finish!: () => void;
    const call = runs.run(() => new Promise<string>((resolve) => (finish = () => resolve('result'))));
    expect(runs.active).toBe(1);
    const closed = runs.close().then(() => order.push('closed'));
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([]);
    await expect(runs.run(async () => 'late')).rejects.toThrow('test model has been released');
    finish();
    expect(await call).toBe('result');
    await closed;
    expect(order).toEqual(['closed']);
    expect(runs.close()).toBe(runs.close());
  });

  it('a failing call still counts down', async () => {
    const runs = new InFlightRuns('m');
    await expect(runs.run(async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(runs.active).toBe(0);
    await runs.close();
    expect(runs.isClosed).toBe(true);
  });
});
