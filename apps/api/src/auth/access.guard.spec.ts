import { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ServiceError } from '@app/contracts';
import { AccessLevel } from './access.decorator';
import { AccessGuard } from './access.guard';
import { Credentials, Principal, RequestWithPrincipal } from './credentials';

function run(credentials: Credentials, level: AccessLevel, authorization?: string): Principal | undefined | string {
  const request = { headers: authorization ? { authorization } : {} } as RequestWithPrincipal;
  const context = {
    getHandler: () => undefined,
    getClass: () => undefined,
    switchToHttp: () => ({ getRequest: () => request }),
  } as unknown as ExecutionContext;
  const reflector = { getAllAndOverride: () => level } as unknown as Reflector;
  try {
    new AccessGuard(reflector, credentials).canActivate(context);
    return request.principal;
  } catch (error) {
    return (error as ServiceError).code;
  }
}

describe('AccessGuard', () => {
  const keysAndAdmin = new Credentials(['key-a'], 'admin');
  const keysOnly = new Credentials(['key-a'], undefined);
  const open = new Credentials([], undefined);
  const adminOnly = new Credentials([], 'admin');

  it('user routes: a key, never the admin token', () => {
    expect(run(keysAndAdmin, 'user', 'Bearer key-a')).toMatchObject({ kind: 'key' });
    expect(run(keysAndAdmin, 'user')).toBe('unauthorized');
    expect(run(keysAndAdmin, 'user', 'Bearer nope')).toBe('forbidden');
    expect(run(keysAndAdmin, 'user', 'Bearer admin')).toBe('forbidden');
  });

  it('owner routes: a key or the admin token', () => {
    expect(run(keysAndAdmin, 'owner', 'Bearer key-a')).toMatchObject({ kind: 'key' });
    expect(run(keysAndAdmin, 'owner', 'Bearer admin')).toEqual({ kind: 'admin' });
    expect(run(adminOnly, 'owner', 'Bearer admin')).toEqual({ kind: 'admin' });
    expect(run(adminOnly, 'owner')).toMatchObject({ kind: 'anonymous' });
  });

  it('admin routes: the admin token only, and closed when keys are set without one', () => {
    expect(run(keysAndAdmin, 'admin', 'Bearer admin')).toEqual({ kind: 'admin' });
    expect(run(keysAndAdmin, 'admin', 'Bearer key-a')).toBe('forbidden');
    expect(run(keysAndAdmin, 'admin')).toBe('unauthorized');
    expect(run(keysOnly, 'admin', 'Bearer key-a')).toBe('forbidden');
    expect(run(keysOnly, 'admin')).toBe('forbidden');
    expect(run(adminOnly, 'admin')).toBe('unauthorized');
    // the embedded default (no keys, no admin token) stays open
    expect(run(open, 'admin')).toMatchObject({ kind: 'anonymous' });
  });

  it('public routes: anyone, identified when the token is valid', () => {
    expect(run(keysAndAdmin, 'public')).toBeUndefined();
    expect(run(keysAndAdmin, 'public', 'Bearer wrong')).toBeUndefined();
    expect(run(keysAndAdmin, 'public', 'Bearer key-a')).toMatchObject({ kind: 'key' });
    expect(run(open, 'public')).toMatchObject({ kind: 'anonymous' });
  });
});
