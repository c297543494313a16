import type { NextFunction, Request, Response } from 'express';
import { Credentials } from '../auth/credentials';
import { QUEUE_BOARD_COOKIE, QUEUE_BOARD_COOKIE_TTL_S, QueueBoardAccess } from './queue-board.access';

interface Outcome {
  passed: boolean;
  status?: number;
  code?: string;
  location?: string;
  cookie?: string;
}

/** Runs the middleware on a request with these headers and query; what it answered or whether it passed. */
function run(access: QueueBoardAccess, headers: Record<string, string> = {}, query: Record<string, unknown> = {}): Outcome {
  const outcome: Outcome = { passed: false };
  const request = { headers, query, originalUrl: `/admin/queues${query.token ? `?token=${String(query.token)}` : ''}`, secure: false, path: '/admin/queues' } as unknown as Request;
  const response = {
    req: request,
    headersSent: false,
    setHeader: (name: string, value: string) => {
      if (name === 'Set-Cookie') outcome.cookie = value;
    },
    status(status: number) {
      outcome.status = status;
      return this;
    },
    json(body: { error: { code: string } }) {
      outcome.code = body.error.code;
      return this;
    },
    redirect(status: number, location: string) {
      outcome.status = status;
      outcome.location = location;
    },
  } as unknown as Response;
  access.middleware()(request, response, (() => (outcome.passed = true)) as NextFunction);
  return outcome;
}

describe('QueueBoardAccess', () => {
  let now = 1_000_000;
  const access = new QueueBoardAccess(new Credentials(['key'], 'admin-token'), 'admin-token', () => now);

  it('the admin token as Bearer opens it; a key or a wrong token is 403, nothing is 401', () => {
    expect(run(access, { authorization: 'Bearer admin-token' }).passed).toBe(true);
    expect(run(access, { authorization: 'Bearer key' })).toMatchObject({ passed: false, status: 403, code: 'forbidden' });
    expect(run(access, { authorization: 'Bearer nope' })).toMatchObject({ passed: false, status: 403 });
    expect(run(access)).toMatchObject({ passed: false, status: 401, code: 'unauthorized' });
  });

  it('?token= sets a signed session cookie that works until it expires, and redirects without the token', () => {
    const login = run(access, {}, { token: 'admin-token' });
    expect(login).toMatchObject({ passed: false, status: 303, location: '/admin/queues' });
    expect(login.cookie).toMatch(new RegExp(`^${QUEUE_BOARD_COOKIE}=\\d+\\.[\\w-]{43}; Max-Age=${QUEUE_BOARD_COOKIE_TTL_S}; Path=/admin; HttpOnly; SameSite=Strict$`));
    const cookie = `other=1; ${login.cookie!.split(';')[0]}`;
    expect(run(access, { cookie }).passed).toBe(true);
    now += QUEUE_BOARD_COOKIE_TTL_S * 1000 - 1;
    expect(run(access, { cookie }).passed).toBe(true);
    now += 2;
    expect(run(access, { cookie })).toMatchObject({ passed: false, status: 401 });
    // a key does not open a session
    expect(run(access, {}, { token: 'key' })).toMatchObject({ status: 403 });
    expect(run(access, {}, { token: ['admin-token', 'x'] })).toMatchObject({ status: 403 });
  });

  it('a cookie signed for another admin token is refused (changing ADMIN_TOKEN ends sessions)', () => {
    const other = new QueueBoardAccess(new Credentials(['key'], 'old-token'), 'old-token', () => now);
    const cookie = run(other, {}, { token: 'old-token' }).cookie!.split(';')[0];
    expect(run(other, { cookie }).passed).toBe(true);
    expect(run(access, { cookie }).status).toBe(401);
  });

  it('as the admin routes: closed with keys and no admin token, open with neither', () => {
    expect(run(new QueueBoardAccess(new Credentials(['key'], undefined), undefined), { authorization: 'Bearer key' })).toMatchObject({ status: 403 });
    expect(run(new QueueBoardAccess(new Credentials([], undefined), undefined)).passed).toBe(true);
  });
});
