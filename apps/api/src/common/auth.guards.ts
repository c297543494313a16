import { timingSafeEqual } from 'node:crypto';
import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { SERVICE_CONFIG, ServiceConfig } from '@app/config';
import { ErrorCode, ServiceError } from '@app/contracts';

function presentedToken(request: Request): string | undefined {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice('Bearer '.length).trim();
  const apiKey = request.headers['x-api-key'];
  return typeof apiKey === 'string' ? apiKey : undefined;
}

function matches(token: string, expected: string): boolean {
  const a = Buffer.from(token);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** When API_KEYS is set, every request except health checks needs one of them. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(@Inject(SERVICE_CONFIG) private readonly config: ServiceConfig) {}

  canActivate(context: ExecutionContext): boolean {
    if (this.config.apiKeys.length === 0) return true;
    const request = context.switchToHttp().getRequest<Request>();
    if (request.path.startsWith('/health')) return true;
    const token = presentedToken(request);
    if (!token) throw new ServiceError(ErrorCode.Unauthorized, 'an API key is required (Authorization: Bearer <key> or X-API-Key)');
    // the admin token also opens the API, so /gc works with a single Authorization header
    const accepted = this.config.adminToken ? [...this.config.apiKeys, this.config.adminToken] : this.config.apiKeys;
    if (!accepted.some((key) => matches(token, key))) throw new ServiceError(ErrorCode.Forbidden, 'this API key is not accepted');
    return true;
  }
}

/** When ADMIN_TOKEN is set, admin endpoints (/gc) need it as a bearer token. */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  constructor(@Inject(SERVICE_CONFIG) private readonly config: ServiceConfig) {}

  canActivate(context: ExecutionContext): boolean {
    if (!this.config.adminToken) return true;
    const request = context.switchToHttp().getRequest<Request>();
    const header = request.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : undefined;
    if (!token) throw new ServiceError(ErrorCode.Unauthorized, 'this endpoint needs the admin token (Authorization: Bearer <ADMIN_TOKEN>)');
    if (!matches(token, this.config.adminToken)) throw new ServiceError(ErrorCode.Forbidden, 'wrong admin token');
    return true;
  }
}
