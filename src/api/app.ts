/**
 * The express app: the request pipeline around tsoa's generated routes. Order matters:
 * correlation and metrics first (every answer carries an id and is counted), then auth (an
 * unauthenticated request is refused before its body is read), the deadline, media types and
 * load shedding (all cheap, before parsing), the body parsers (1 MiB by default: 413 above), the
 * routes, and last the one problem+json error handler.
 */
import express, { type Express } from 'express';
import swaggerUi from 'swagger-ui-express';
import { registerHttpMetrics } from '../observability/metrics.js';
import { authenticate } from './auth.js';
import { type ApiDeps, setDeps } from './context.js';
import openapi from './generated/openapi.json' with { type: 'json' };
import { RegisterRoutes } from './generated/routes.js';
import {
  correlate,
  correlationContext,
  deadline,
  measure,
  requireKnownMediaType,
  shedLoad,
  YAML_TYPES,
} from './middleware.js';
import { problemHandler, routeNotFound } from './problems.js';

/** The OpenAPI document tsoa generated from the controllers. */
export const openApiDocument: Readonly<Record<string, unknown>> = openapi;

export function createApiApp(deps: ApiDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  setDeps(app.locals, deps);
  const limit = deps.config.maxBodyBytes;
  app.use(correlate);
  app.use(measure(registerHttpMetrics(deps.registry)));
  app.use(authenticate);
  app.use(deadline);
  app.use(requireKnownMediaType);
  app.use(shedLoad);
  app.use(
    express.json({ limit, type: ['application/json', 'application/*+json'], reviver: refuseShadowingKeys }),
  );
  app.use(express.text({ limit, type: YAML_TYPES }));
  app.use(correlationContext);
  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument);
  });
  app.use('/docs', swaggerUi.serve, swaggerUi.setup(openApiDocument as swaggerUi.JsonObject));
  RegisterRoutes(app);
  app.use(routeNotFound);
  app.use(problemHandler);
  return app;
}

/**
 * Object keys a JSON body may not use: an own `toString` or `valueOf` that is not a function
 * (JSON can only make it data) breaks every `String(value)` on the object — tsoa's validator
 * among them, which then throws instead of answering 400. Refused as a parse error (400).
 */
const SHADOWING_KEYS = new Set(['toString', 'valueOf', 'toJSON', 'constructor', '__proto__']);

function refuseShadowingKeys(key: string, value: unknown): unknown {
  if (SHADOWING_KEYS.has(key)) throw new SyntaxError(`the key "${key}" is not allowed in a request body`);
  return value;
}
