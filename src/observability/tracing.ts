/**
 * Tracing with OpenTelemetry. One tracer per process, set up once at start-up from the OTEL_*
 * settings (src/config), and helpers to start a span under a W3C traceparent and to read the
 * traceparent of a span.
 *
 * A span's context crosses process boundaries only as a traceparent string: in event metadata
 * (RunRequested carries the request span's, TaskQueued its dispatch span's, attempt events their
 * attempt span's) and on the dispatch wire (WorkItem.traceparent). The next span — in any
 * process, after any failover — starts from the string it finds there. So parents are passed
 * explicitly, no context manager (AsyncLocalStorage) is installed, and spans are short: none
 * stays open across an await on another process, let alone a failover.
 *
 * Off (OTEL_TRACES_EXPORTER=none, the default) there is no tracer and the SDK is not even
 * loaded: `tracingEnabled()` is false, `startSpan` hands back one shared non-recording span and
 * `traceparentOf` undefined, so callers compute nothing. The API still passes an incoming
 * traceparent header into the metadata of the events a request appends.
 */
import {
  type Attributes,
  DiagLogLevel,
  diag,
  INVALID_SPAN_CONTEXT,
  isSpanContextValid,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Config } from '../config/index.js';
import { DAGRUN_VERSION } from '../version.js';
import type { Logger } from './logger.js';

export { type Span, SpanKind };

/** The tracing settings (OTEL_* variables), as parsed by src/config. */
export type TracingConfig = Config['tracing'];

/** The spans dagrun makes, by name (low cardinality: the ids are attributes). */
export const SPAN = {
  /** The scheduler leader taking a run up: a child of the request span (RunRequested's traceparent). */
  run: 'dagrun.run',
  /** The leader queueing one attempt: a child of the run span; TaskQueued carries its traceparent. */
  dispatch: 'dagrun.dispatch',
  /** A worker claiming and running one attempt: a child of the dispatch span. */
  attempt: 'dagrun.attempt',
} as const;

/** dagrun's own span attributes (HTTP ones follow the semantic conventions). */
export const ATTR = {
  runId: 'dagrun.run.id',
  dagId: 'dagrun.dag.id',
  dagVersion: 'dagrun.dag.version',
  taskId: 'dagrun.task.id',
  taskType: 'dagrun.task.type',
  attempt: 'dagrun.attempt',
  term: 'dagrun.term',
  workerId: 'dagrun.worker.id',
  correlationId: 'dagrun.correlation_id',
  /** The event that settled the attempt (AttemptSucceeded, …), `refused` or `not_claimed`. */
  outcome: 'dagrun.attempt.outcome',
  failureKind: 'dagrun.failure.kind',
  /** How many decisions a run span's batch appended. */
  decisions: 'dagrun.decisions',
} as const;

let tracer: Tracer | undefined;

/** The non-recording span handed out while tracing is off (its context is invalid: no traceparent). */
const NOOP_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

export interface Tracing {
  readonly enabled: boolean;
  /** Exports every span ended so far. */
  flush(): Promise<void>;
  /** Exports what is left and turns tracing off. Call once, last thing before exit. */
  shutdown(): Promise<void>;
}

export interface StartTracingOptions {
  /**
   * More exporters beside the configured ones (tests: an in-memory exporter). Each exports every
   * span as it ends; giving one turns tracing on even when OTEL_TRACES_EXPORTER is none.
   */
  readonly exporters?: readonly SpanExporter[];
  /** Where the SDK's own warnings go (a collector that cannot be reached, …). */
  readonly log?: Logger;
}

const OFF: Tracing = { enabled: false, flush: async () => {}, shutdown: async () => {} };

/** The longest `shutdown` waits for the last spans to be exported. */
const SHUTDOWN_MS = 3000;

/**
 * Sets up this process's tracer from the config. `role` names the process (`api`, `scheduler`,
 * `worker`, `standalone`, `run`): the service name is `dagrun-<role>` unless OTEL_SERVICE_NAME
 * says otherwise. OTLP spans are batched (OTEL_BSP_* tune it); console spans are printed as each
 * ends. Other standard variables the SDK reads itself: OTEL_TRACES_SAMPLER(_ARG),
 * OTEL_EXPORTER_OTLP_(TRACES_)HEADERS and _TIMEOUT, OTEL_SPAN_*_LIMIT.
 */
export async function startTracing(
  config: TracingConfig,
  role: string,
  options: StartTracingOptions = {},
): Promise<Tracing> {
  const extra = options.exporters ?? [];
  if (config.exporters.length === 0 && extra.length === 0) return OFF;
  // Loaded only when tracing is on: a process without it never pays for the SDK.
  const [{ BasicTracerProvider, BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor }, resources] =
    await Promise.all([import('@opentelemetry/sdk-trace-base'), import('@opentelemetry/resources')]);
  const processors: SpanProcessor[] = [];
  for (const kind of config.exporters) {
    switch (kind) {
      case 'otlp': {
        const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
        const url = config.otlpTracesUrl;
        processors.push(new BatchSpanProcessor(new OTLPTraceExporter(url ? { url } : {})));
        break;
      }
      case 'console':
        processors.push(new SimpleSpanProcessor(new ConsoleSpanExporter()));
        break;
      default: {
        const never: never = kind;
        throw new Error(`unknown trace exporter ${String(never)}`);
      }
    }
  }
  for (const exporter of extra) processors.push(new SimpleSpanProcessor(exporter));
  if (options.log) routeDiagnostics(options.log);
  const provider = new BasicTracerProvider({
    resource: resources.resourceFromAttributes({
      'service.name': config.serviceName ?? `dagrun-${role}`,
      'service.version': DAGRUN_VERSION,
    }),
    spanProcessors: processors,
  });
  const own = provider.getTracer('dagrun', DAGRUN_VERSION);
  tracer = own;
  let stopped: Promise<void> | undefined;
  return {
    enabled: true,
    flush: () => provider.forceFlush(),
    shutdown() {
      stopped ??= (async () => {
        if (tracer === own) tracer = undefined;
        // An unreachable collector must not hold up the exit (the exporter's timeout is 10 s).
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((resolve) => {
          timer = setTimeout(() => resolve('late'), SHUTDOWN_MS).unref();
        });
        const exported = provider.shutdown().then(
          () => 'done' as const,
          (error: unknown) => {
            options.log?.warn('tracing: shutting down failed', { error: String(error) });
            return 'done' as const;
          },
        );
        const done = await Promise.race([exported, late]);
        clearTimeout(timer);
        if (done === 'late')
          options.log?.warn('tracing: spans not exported before exit', { waitedMs: SHUTDOWN_MS });
      })();
      return stopped;
    },
  };
}

/** True while this process traces: callers skip building spans and attributes otherwise. */
export function tracingEnabled(): boolean {
  return tracer !== undefined;
}

export interface StartSpanOptions {
  /** The parent's W3C traceparent (from event metadata or a work item); none or invalid: a new trace. */
  readonly parent?: string | undefined;
  readonly kind?: SpanKind;
  readonly attributes?: Attributes;
  /** When the span began (ms since the epoch); default now. */
  readonly startTime?: number;
  /** Traceparents of spans this one follows from without being their child (invalid ones are dropped). */
  readonly links?: readonly (string | undefined)[];
}

/** Starts a span under a traceparent. While tracing is off: a shared span that records nothing. */
export function startSpan(name: string, options: StartSpanOptions = {}): Span {
  if (!tracer) return NOOP_SPAN;
  const parent = parseTraceparent(options.parent);
  const links = (options.links ?? []).flatMap((link) => {
    const context = parseTraceparent(link);
    return context ? [{ context }] : [];
  });
  return tracer.startSpan(
    name,
    {
      kind: options.kind ?? SpanKind.INTERNAL,
      ...(options.attributes ? { attributes: options.attributes } : {}),
      ...(options.startTime !== undefined ? { startTime: options.startTime } : {}),
      ...(links.length > 0 ? { links } : {}),
    },
    parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : ROOT_CONTEXT,
  );
}

/**
 * The W3C traceparent of a span, to store in event metadata or send to another process;
 * undefined for the span handed out while tracing is off. A span the sampler dropped still has
 * one (flags 00), so the decision not to sample travels with it.
 */
export function traceparentOf(span: Span): string | undefined {
  const context = span.spanContext();
  if (!isSpanContextValid(context)) return undefined;
  const sampled = (context.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;
  return `00-${context.traceId}-${context.spanId}-${sampled ? '01' : '00'}`;
}

/** Ends a span, as failed when `error` is given (an Error or a message). */
export function endSpan(span: Span, error?: unknown): void {
  if (error !== undefined && span.isRecording()) {
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
  }
  span.end();
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** A remote span context from a traceparent (version 00 and later; ff is invalid), or undefined. */
export function parseTraceparent(value: string | undefined): SpanContext | undefined {
  const match = value ? TRACEPARENT.exec(value) : null;
  if (!match || match[1] === 'ff') return undefined;
  const context: SpanContext = {
    traceId: match[2] as string,
    spanId: match[3] as string,
    traceFlags: Number.parseInt(match[4] as string, 16) & TraceFlags.SAMPLED,
    isRemote: true,
  };
  return isSpanContextValid(context) ? context : undefined;
}

/** The SDK reports its own trouble (an unreachable collector) through `diag`: into our log. */
function routeDiagnostics(log: Logger): void {
  diag.setLogger(
    {
      error: (message, ...args) => log.warn(`tracing: ${message}`, { details: args.map(String) }),
      warn: (message, ...args) => log.warn(`tracing: ${message}`, { details: args.map(String) }),
      info: () => {},
      debug: () => {},
      verbose: () => {},
    },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
}
