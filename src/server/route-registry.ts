import FindMyWay, { type HTTPMethod } from 'find-my-way';
import type { FastifyInstance, RouteOptions } from 'fastify';

export interface RegisteredRoute {
  method: string;
  url: string;
  options: RouteOptions;
}

/**
 * Keeps a list of every route the server registers, for two jobs: refusing to start when a route
 * declares no permission, and telling a wrong method (405 with `Allow`) from an unknown address
 * (404), which Fastify's own router does not distinguish.
 */
export class RouteRegistry {
  readonly routes: RegisteredRoute[] = [];
  private readonly router = FindMyWay();

  attach(app: FastifyInstance): void {
    app.addHook('onRoute', (options) => {
      const methods = Array.isArray(options.method) ? options.method : [options.method];
      for (const method of methods) {
        this.routes.push({ method, url: options.url, options });
        try {
          this.router.on(method as HTTPMethod, options.url, () => {});
        } catch {
          // Fastify accepts some shapes find-my-way's standalone instance refuses twice; the first wins.
        }
      }
    });
  }

  routesWithoutPermission(): RegisteredRoute[] {
    return this.routes.filter((r) => r.options.config?.permission === undefined);
  }

  allowedMethods(url: string): string[] {
    const path = url.split('?')[0] ?? url;
    return [...new Set(this.routes.map((r) => r.method))].filter((m) => this.router.find(m as HTTPMethod, path) !== null);
  }
}
