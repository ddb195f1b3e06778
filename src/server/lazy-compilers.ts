/*
 * Fastify's own schema compilers (Ajv for what requests bring, fast-json-stringify for responses),
 * each route's functions compiled on the route's first request instead of at start-up. A server
 * compiles some 200 schemas at start-up otherwise, most for routes it may not see for days, and
 * the generated code and the garbage of generating it cost about 12 MB of resident memory. The
 * compilers are Fastify's defaults, with the options Fastify would give them, so validation and
 * serialisation are unchanged; only when they are compiled moves (and with it, a malformed schema
 * fails its route's first request rather than the start: the route tests meet every schema).
 *
 * Fastify treats compilers given this way as custom, which only changes how it treats a `headers`
 * schema (it no longer lower-cases its property names): no route declares one.
 */
import { createRequire } from 'node:module';
import type { FastifyServerOptions } from 'fastify';

type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;
type ValidatorFactory = NonNullable<CompilersFactory['buildValidator']>;
type SerializerFactory = NonNullable<CompilersFactory['buildSerializer']>;

/** The compiler packages Fastify itself depends on and would load (the same versions, not copies), loaded with the first compilation. */
const fastifyRequire = createRequire(createRequire(import.meta.url).resolve('fastify'));
let defaultValidators: ValidatorFactory | undefined;
let defaultSerializers: SerializerFactory | undefined;

/** A function compiled on its first call; a validator's `errors` (which Fastify reads after a failure) are passed on. */
function compiledOnFirstCall<F extends (...args: any[]) => unknown>(compile: () => F): F {
  let compiled: F | undefined;
  const lazy = function (this: unknown, ...args: unknown[]) {
    compiled ??= compile();
    const result = compiled.apply(this, args);
    (lazy as unknown as { errors: unknown }).errors = (compiled as unknown as { errors?: unknown }).errors;
    return result;
  };
  return lazy as unknown as F;
}

export const lazyCompilers: CompilersFactory = {
  buildValidator: (externalSchemas, options) => {
    let compiler: ReturnType<ValidatorFactory> | undefined;
    return (route) =>
      compiledOnFirstCall(() => {
        defaultValidators ??= (fastifyRequire('@fastify/ajv-compiler') as () => ValidatorFactory)();
        compiler ??= defaultValidators(externalSchemas, options);
        return compiler(route);
      });
  },
  buildSerializer: (externalSchemas, options) => {
    let compiler: ReturnType<SerializerFactory> | undefined;
    return (route) =>
      compiledOnFirstCall(() => {
        defaultSerializers ??= (fastifyRequire('@fastify/fast-json-stringify-compiler') as () => SerializerFactory)();
        compiler ??= defaultSerializers(externalSchemas, options);
        return compiler(route);
      });
  },
};
