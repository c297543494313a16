import { decodeJobError, encodeJobError, ErrorCode, JobCancelledError, ServiceError, throwIfCancelled } from './errors';
import { round3 } from './precision';

describe('cancellation', () => {
  it('throwIfCancelled does nothing while the signal is not aborted (or there is none)', () => {
    expect(() => throwIfCancelled(new AbortController().signal)).not.toThrow();
    expect(() => throwIfCancelled(undefined)).not.toThrow();
  });

  it('throwIfCancelled throws the one cancellation type once aborted', () => {
    const controller = new AbortController();
    controller.abort();
    let thrown: unknown;
    try {
      throwIfCancelled(controller.signal);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(JobCancelledError);
    expect(thrown).toBeInstanceOf(ServiceError);
    expect(thrown).toMatchObject({ code: ErrorCode.JobCancelled, name: 'JobCancelledError', message: 'job was cancelled' });
  });

  it('JobCancelledError is a coded job_cancelled failure across the queue', () => {
    const error = new JobCancelledError('decoding cancelled');
    expect(decodeJobError(encodeJobError(error.code, error.message))).toMatchObject({ code: 'job_cancelled', message: 'decoding cancelled' });
  });
});

describe('round3', () => {
  it('rounds to three decimals, as every number in a result', () => {
    expect(round3(1.23456)).toBe(1.235);
    expect(round3(-0.2104999)).toBe(-0.21);
    expect(round3(10.2)).toBe(10.2);
    expect(round3(0)).toBe(0);
  });
});
