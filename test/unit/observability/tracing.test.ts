import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { ConfigError } from '../../../src/errors.js';
import {
  endSpan,
  parseTraceparent,
  startSpan,
  startTracing,
  type Tracing,
  traceparentOf,
  tracingEnabled,
} from '../../../src/observability/tracing.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('tracing settings (OTEL_*)', () => {
  it('is off by default and with none or OTEL_SDK_DISABLED', () => {
    expect(loadConfig({}).tracing).toEqual({
      exporters: [],
      otlpTracesUrl: undefined,
      serviceName: undefined,
    });
    expect(loadConfig({ OTEL_TRACES_EXPORTER: 'none' }).tracing.exporters).toEqual([]);
    expect(loadConfig({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'true' }).tracing.exporters).toEqual(
      [],
    );
  });

  it('reads a list of exporters, the service name, and the traces URL from the base endpoint', () => {
    const config = loadConfig({
      OTEL_TRACES_EXPORTER: 'otlp, console',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
      OTEL_SERVICE_NAME: 'orders-dagrun',
    });
    expect(config.tracing).toEqual({
      exporters: ['otlp', 'console'],
      otlpTracesUrl: 'http://collector:4318/v1/traces',
      serviceName: 'orders-dagrun',
    });
  });

  it('takes OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, over the base endpoint', () => {
    const config = loadConfig({
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example/ingest',
    });
    expect(config.tracing.otlpTracesUrl).toBe('https://traces.example/ingest');
  });

  it('refuses an exporter it does not have, and an endpoint that is no URL', () => {
    expect(() => loadConfig({ OTEL_TRACES_EXPORTER: 'zipkin' })).toThrow(ConfigError);
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector' })).toThrow(
      /OTEL_EXPORTER_OTLP_ENDPOINT/,
    );
  });
});

describe('traceparents', () => {
  it('parses a W3C traceparent into a remote span context', () => {
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-01`)).toEqual({
      traceId: TRACE,
      spanId: SPAN,
      traceFlags: 1,
      isRemote: true,
    });
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-00`)?.traceFlags).toBe(0);
  });

  it('rejects version ff, all-zero ids and malformed values', () => {
    expect(parseTraceparent(`ff-${TRACE}-${SPAN}-01`)).toBeUndefined();
    expect(parseTraceparent(`00-${'0'.repeat(32)}-${SPAN}-01`)).toBeUndefined();
    expect(parseTraceparent(`00-${TRACE}-${'0'.repeat(16)}-01`)).toBeUndefined();
    expect(parseTraceparent(`00-${TRACE.toUpperCase()}-${SPAN}-01`)).toBeUndefined();
    expect(parseTraceparent(undefined)).toBeUndefined();
  });
});

describe('spans', () => {
  let tracing: Tracing | undefined;
  afterEach(async () => {
    await tracing?.shutdown();
    tracing = undefined;
  });

  it('cost nothing while tracing is off: one shared span with no traceparent', async () => {
    tracing = await startTracing(loadConfig({}).tracing, 'test');
    expect(tracing.enabled).toBe(false);
    expect(tracingEnabled()).toBe(false);
    const a = startSpan('a', { parent: `00-${TRACE}-${SPAN}-01` });
    expect(a).toBe(startSpan('b'));
    expect(a.isRecording()).toBe(false);
    expect(traceparentOf(a)).toBeUndefined();
  });

  it('start under a traceparent, give their own, and are exported with the service name', async () => {
    const memory = new InMemorySpanExporter();
    tracing = await startTracing(loadConfig({}).tracing, 'scheduler', { exporters: [memory] });
    expect(tracingEnabled()).toBe(true);
    const parent = startSpan('parent', { parent: `00-${TRACE}-${SPAN}-01`, kind: SpanKind.SERVER });
    const traceparent = traceparentOf(parent);
    expect(traceparent).toMatch(new RegExp(`^00-${TRACE}-[0-9a-f]{16}-01$`));
    const child = startSpan('child', { parent: traceparent, attributes: { 'dagrun.run.id': 'r1' } });
    endSpan(child, new Error('boom'));
    endSpan(parent);
    const [exportedChild, exportedParent] = memory.getFinishedSpans();
    expect(exportedParent?.parentSpanContext?.spanId).toBe(SPAN);
    expect(exportedChild?.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(exportedChild?.spanContext().traceId).toBe(TRACE);
    expect(exportedChild?.status).toEqual({ code: 2, message: 'boom' });
    expect(exportedChild?.attributes['dagrun.run.id']).toBe('r1');
    expect(exportedChild?.resource.attributes['service.name']).toBe('dagrun-scheduler');
    await tracing.shutdown();
    expect(tracingEnabled()).toBe(false);
  });

  it('start a new trace without a parent, and keep an unsampled parent unsampled', async () => {
    tracing = await startTracing(loadConfig({}).tracing, 'worker', {
      exporters: [new InMemorySpanExporter()],
    });
    const root = startSpan('root');
    expect(root.spanContext().traceId).not.toBe(TRACE);
    const unsampled = startSpan('quiet', { parent: `00-${TRACE}-${SPAN}-00` });
    expect(unsampled.isRecording()).toBe(false);
    expect(traceparentOf(unsampled)).toMatch(new RegExp(`^00-${TRACE}-[0-9a-f]{16}-00$`));
  });
});
