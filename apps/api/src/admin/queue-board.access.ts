import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { ErrorCode } from '@app/contracts';
import { Credentials, presentedToken } from '../auth/credentials';
import { sendError } from '../http/raw-error';

/** Where Bull Board is served. */
export const QUEUE_BOARD_PATH = '/admin/queues';
/** The browser session a `?token=` visit opens: signed, HttpOnly, for /admin only. */
export const QUEUE_BOARD_COOKIE = 'tx_queue_board';
export const QUEUE_BOARD_COOKIE_TTL_S = 30 * 60;

/**
 * Bull Board's page: its scripts and stylesheet come from this origin, it has inline styles and
 * data: icons, and it calls its own API. Its web font (Google Fonts) is not loaded: no third party
 * learns who opens the board, and the page works offline.
 */
const BOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

type Decision = 'allow' | { code: ErrorCode; message: string };

/**
 * Who may open Bull Board: the admin token as a Bearer header (scripts, curl), or a browser with the
 * session cookie that `/admin/queues?token=<ADMIN_TOKEN>` sets (browsers cannot send a header on
 * navigation). The cookie holds an expiry and an HMAC keyed by the admin token, never the token:
 * it lasts QUEUE_BOARD_COOKIE_TTL_S, every API replica accepts it, and changing ADMIN_TOKEN voids
 * it. Same rules as the admin routes otherwise: with API_KEYS but no ADMIN_TOKEN the board is
 * closed (403); with neither (the embedded default) it is open.
 */
export class QueueBoardAccess {
  private readonly cookieKey?: Buffer;

  constructor(
    private readonly credentials: Credentials,
    adminToken: string | undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.cookieKey = adminToken ? createHash('sha256').update(`queue-board-session\0${adminToken}`, 'utf8').digest() : undefined;
  }

  /** Express middleware in front of the board's router. */
  middleware(): (request: Request, response: Response, next: NextFunction) => void {
    return (request, response, next) => {
      response.setHeader('Content-Security-Policy', BOARD_CSP);
      const token = request.query.token;
      if (token !== undefined) return this.openSession(token, request, response);
      const decision = this.decide(request);
      if (decision === 'allow') return next();
      sendError(response, decision.code, decision.message);
    };
  }

  private decide(request: Request): Decision {
    if (!this.credentials.adminConfigured) {
      if (!this.credentials.keysConfigured) return 'allow';
      return { code: ErrorCode.Forbidden, message: 'the queue board is disabled: set ADMIN_TOKEN to use it' };
    }
    const bearer = presentedToken(request);
    if (bearer !== undefined) {
      return this.credentials.identify(bearer)?.kind === 'admin' ? 'allow' : { code: ErrorCode.Forbidden, message: 'the queue board needs the admin token; API keys do not open it' };
    }
    if (this.validSession(request)) return 'allow';
    return {
      code: ErrorCode.Unauthorized,
      message: `the queue board needs the admin token: Authorization: Bearer <ADMIN_TOKEN>, or open ${QUEUE_BOARD_PATH}?token=<ADMIN_TOKEN> in a browser`,
    };
  }

  /** `?token=`: the admin token opens a session cookie and the same address without the token (303); anything else is refused. */
  private openSession(token: unknown, request: Request, response: Response): void {
    if (!this.cookieKey || typeof token !== 'string' || this.credentials.identify(token)?.kind !== 'admin') {
      const message = this.cookieKey ? 'this token does not open the queue board' : 'the queue board has no admin token to sign in with (ADMIN_TOKEN is unset)';
      return sendError(response, ErrorCode.Forbidden, message);
    }
    const expires = this.now() + QUEUE_BOARD_COOKIE_TTL_S * 1000;
    const secure = request.secure || request.headers['x-forwarded-proto'] === 'https' ? '; Secure' : '';
    response.setHeader(
      'Set-Cookie',
      `${QUEUE_BOARD_COOKIE}=${expires}.${this.sign(expires)}; Max-Age=${QUEUE_BOARD_COOKIE_TTL_S}; Path=/admin; HttpOnly; SameSite=Strict${secure}`,
    );
    const target = new URL(request.originalUrl, 'http://board.invalid');
    target.searchParams.delete('token');
    response.redirect(303, `${target.pathname}${target.search}`);
  }

  private validSession(request: Request): boolean {
    const value = readCookie(request.headers.cookie, QUEUE_BOARD_COOKIE);
    const match = value ? /^(\d{1,16})\.([A-Za-z0-9_-]{43})$/.exec(value) : null;
    if (!match || !this.cookieKey) return false;
    const expires = Number(match[1]);
    const expected = Buffer.from(this.sign(expires), 'utf8');
    const given = Buffer.from(match[2], 'utf8');
    return timingSafeEqual(expected, given) && expires > this.now();
  }

  private sign(expires: number): string {
    return createHmac('sha256', this.cookieKey as Buffer).update(String(expires)).digest('base64url');
  }
}

/** One cookie's value from a Cookie header. */
function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}
