import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ErrorCode, ServiceError } from '@app/contracts';
import { ACCESS_LEVEL, AccessLevel } from './access.decorator';
import { ANONYMOUS_OWNER, Credentials, Principal, presentedToken, RequestWithPrincipal } from './credentials';

const ANONYMOUS: Principal = { kind: 'anonymous', owner: ANONYMOUS_OWNER };

/**
 * One guard for every route. API_KEYS unset: the API is open (the embedded default), admin routes
 * too unless ADMIN_TOKEN is set. API_KEYS set: a key for user routes, the admin token for admin
 * routes, and admin routes are closed (403) when ADMIN_TOKEN is unset.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(Credentials) private readonly credentials: Credentials,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const level = this.reflector.getAllAndOverride<AccessLevel | undefined>(ACCESS_LEVEL, [context.getHandler(), context.getClass()]) ?? 'user';
    const request = context.switchToHttp().getRequest<RequestWithPrincipal>();
    const token = presentedToken(request);
    const identity = token ? this.credentials.identify(token) : undefined;
    request.principal = this.decide(level, token, identity);
    return true;
  }

  private decide(level: AccessLevel, token: string | undefined, identity: Principal | undefined): Principal | undefined {
    const keysConfigured = this.credentials.keysConfigured;
    if (level === 'public') return identity ?? (keysConfigured ? undefined : ANONYMOUS);
    if (level === 'admin') return this.admin(token, identity);
    if (!keysConfigured) return level === 'owner' && identity?.kind === 'admin' ? identity : ANONYMOUS;
    if (!token) throw new ServiceError(ErrorCode.Unauthorized, 'an API key is required (Authorization: Bearer <key> or X-API-Key)');
    if (identity?.kind === 'admin') {
      if (level === 'owner') return identity;
      throw new ServiceError(ErrorCode.Forbidden, 'the admin token opens admin routes only: use an API key');
    }
    if (!identity) throw new ServiceError(ErrorCode.Forbidden, 'this API key is not accepted');
    return identity;
  }

  private admin(token: string | undefined, identity: Principal | undefined): Principal {
    if (!this.credentials.adminConfigured) {
      // with keys but no admin token, no key may act for everyone
      if (this.credentials.keysConfigured) throw new ServiceError(ErrorCode.Forbidden, 'admin routes are disabled: set ADMIN_TOKEN to use them');
      return ANONYMOUS;
    }
    if (!token) throw new ServiceError(ErrorCode.Unauthorized, 'this endpoint needs the admin token (Authorization: Bearer <ADMIN_TOKEN>)');
    if (identity?.kind !== 'admin') throw new ServiceError(ErrorCode.Forbidden, 'this endpoint needs the admin token; API keys do not open admin routes');
    return identity;
  }
}
