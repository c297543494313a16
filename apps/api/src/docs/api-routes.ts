import { INestApplication, RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import { ACCESS_LEVEL, AccessLevel } from '../auth/access.decorator';

/** One route a controller declares, as Nest's router maps it. */
export interface ApiRoute {
  /** GET, POST, … */
  method: string;
  /** Nest's path syntax: /jobs/:id */
  path: string;
  /** who may call it (the access guard's reading of @Access) */
  access: AccessLevel;
  /** "GET /jobs/:id": the key of the route's entry in ROUTE_DOCS */
  key: string;
}

const joinPath = (...parts: string[]): string => `/${parts.map((part) => part.replace(/^\/+|\/+$/g, '')).filter(Boolean).join('/')}`;

const asList = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : [String(value ?? '')]);

/**
 * Every route of every controller, read from the metadata Nest's RouterExplorer maps routes from
 * (controller path + handler path + method): a route added to any controller is listed here with
 * nothing else to update. No global prefix or versioning is in use.
 */
export function listApiRoutes(app: INestApplication): ApiRoute[] {
  const routes: ApiRoute[] = [];
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as (new (...args: never[]) => object) | null;
      if (!controller) continue;
      const controllerAccess = Reflect.getMetadata(ACCESS_LEVEL, controller) as AccessLevel | undefined;
      const prototype = controller.prototype as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(prototype)) {
        const handler = Object.getOwnPropertyDescriptor(prototype, name)?.value as unknown;
        if (name === 'constructor' || typeof handler !== 'function') continue;
        const handlerPath = Reflect.getMetadata(PATH_METADATA, handler) as unknown;
        if (handlerPath === undefined) continue;
        const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
        const access = (Reflect.getMetadata(ACCESS_LEVEL, handler) as AccessLevel | undefined) ?? controllerAccess ?? 'user';
        for (const base of asList(Reflect.getMetadata(PATH_METADATA, controller))) {
          for (const own of asList(handlerPath)) {
            const path = joinPath(base, own);
            routes.push({ method, path, access, key: `${method} ${path}` });
          }
        }
      }
    }
  }
  return routes;
}

/** Nest's /jobs/:id → OpenAPI's /jobs/{id}. */
export const openApiPath = (path: string): string => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
