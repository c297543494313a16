import { ServiceError } from '@app/contracts';
import { decodeCursor, encodeCursor } from './job-index';
import { readJobListQuery } from './job-list-query';

const refusal = (query: Record<string, unknown>) => {
  try {
    readJobListQuery(query);
  } catch (error) {
    return { code: (error as ServiceError).code, field: (error as ServiceError).field };
  }
  return undefined;
};

describe('GET /jobs query', () => {
  it('defaults to 20 newest jobs of any status', () => {
    expect(readJobListQuery({})).toEqual({ limit: 20 });
  });

  it('takes a status, a limit from 1 to 100 and a cursor from an earlier page', () => {
    const cursor = encodeCursor({ at: 1_764_000_000_123, id: '0b8e7a52-5f4c-4b7e-9d1a-2c3f4e5a6b7c' });
    expect(readJobListQuery({ status: 'failed', limit: '100', cursor })).toEqual({
      status: 'failed',
      limit: 100,
      after: { at: 1_764_000_000_123, id: '0b8e7a52-5f4c-4b7e-9d1a-2c3f4e5a6b7c' },
    });
    expect(readJobListQuery({ limit: '1' }).limit).toBe(1);
  });

  it.each([
    [{ status: 'done' }, 'status'],
    [{ status: ['queued', 'active'] }, 'status'],
    [{ limit: '0' }, 'limit'],
    [{ limit: '101' }, 'limit'],
    [{ limit: '-1' }, 'limit'],
    [{ limit: '2.5' }, 'limit'],
    [{ limit: '' }, 'limit'],
    [{ cursor: 'abc' }, 'cursor'],
    [{ cursor: Buffer.from('12.not-an-id').toString('base64url') }, 'cursor'],
    [{ offset: '20' }, 'offset'],
  ])('%j → 400 validation_failed on %s', (query, field) => {
    expect(refusal(query)).toEqual({ code: 'validation_failed', field });
  });

  it('cursors round-trip and refuse what they did not make', () => {
    const entry = { at: 5, id: '0b8e7a52-5f4c-4b7e-9d1a-2c3f4e5a6b7c' };
    expect(decodeCursor(encodeCursor(entry))).toEqual(entry);
    expect(decodeCursor('%%%')).toBeUndefined();
    expect(decodeCursor('')).toBeUndefined();
  });
});
