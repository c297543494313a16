import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { Principal, RequestWithPrincipal } from './credentials';

/**
 * Who may call a route:
 * - `user` (default): an API key; never the admin token, so it does not travel on routine traffic
 * - `owner`: an API key (its own jobs only, checked by the handler) or the admin token (every job)
 * - `admin`: the admin token only
 * - `public`: anyone; the handler may show more to a valid key
 */
export type AccessLevel = 'user' | 'owner' | 'admin' | 'public';

export const ACCESS_LEVEL = 'tx:access-level';

export const Access = (level: AccessLevel) => SetMetadata(ACCESS_LEVEL, level);

/** The caller as the access guard identified it (undefined only on public routes without a valid token). */
export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Principal | undefined => context.switchToHttp().getRequest<RequestWithPrincipal>().principal,
);
