/**
 * One trace from an API request to the attempts, across real processes. The test process serves
 * the API (tracing into an in-memory exporter); `dagrun scheduler` and `dagrun worker` run as
 * separate processes, configured by the standard variables (OTEL_TRACES_EXPORTER=otlp,
 * OTEL_EXPORTER_OTLP_ENDPOINT) to export to an OTLP receiver in this test. Nothing links the
 * spans but the traceparents that travel in event metadata (API → scheduler) and on the dispatch
 * wire (scheduler → worker), so the chain request → run → dispatch → attempt can only hold if
 * both crossings carry them.
 */
import { randomBytes } from 'node:crypto';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streams } from '../../../src/events/schemas/index.js';
import type { RecordedEvent } from '../../../src/events/types.js';
import { startTracing, type Tracing } from '../../../src/observability/tracing.js';
import { eventually, startTestApi, type TestApi } from '../../integration/api/support.js';
import { TestCluster } from '../../support/cluster.js';
import { etcdEndpoints } from '../../support/database.js';
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '../../support/otlp-receiver.js';

const memory = new InMemorySpanExporter();
// Before the API starts: its request spans go to the in-memory exporter.
const tracing: Tracing = await startTracing(
  { exporters: [], otlpTracesUrl: undefined, serviceName: undefined },
  'api',
  { exporters: [memory] },
);
const api: TestApi = await startTestApi({ engine: false });
let receiver: OtlpReceiver;
let cluster: TestCluster;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  cluster = new TestCluster({
    databaseUrl: api.db.url,
    etcdEndpoints: etcdEndpoints(),
    env: {
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      // Export within a tenth of a second of a span's end, not the default 5 s.
      OTEL_BSP_SCHEDULE_DELAY: '100',
    },
  });
  await cluster.startScheduler();
  await cluster.startWorker({ concurrency: 2 });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
  await receiver?.close();
  await tracing.shutdown();
}, 60_000);

const dag = [
  'name: traced',
  'tasks:',
  '  - { id: first, type: shell, command: "echo one" }',
  '  - { id: second, type: shell, command: "echo two", dependencies: [first] }',
  '',
].join('\n');

/** The span id in a W3C traceparent. */
const spanIdOf = (traceparent: unknown) => String(traceparent).split('-')[2];
const traceIdOf = (traceparent: unknown) => String(traceparent).split('-')[1];

describe('tracing across processes', () => {
  it('links request → run → dispatch → attempt in one trace, through event metadata and the dispatch wire', async () => {
    expect((await api.call('POST', '/api/v1/dags', { yaml: dag })).status).toBe(201);
    // The client's own span: the request span must continue its trace.
    const client = { traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex') };
    const requested = await api.call('POST', '/api/v1/dags/traced/runs', {
      json: {},
      headers: { traceparent: `00-${client.traceId}-${client.spanId}-01` },
    });
    expect([201, 202]).toContain(requested.status);
    const runId: string = requested.body.id;

    const runEvents = await eventually(async () => {
      const events = await api.store.readStream(streams.run(runId));
      return events.some((e) => e.type === 'RunSucceeded') ? events : undefined;
    }, 60_000).catch((error) => {
      throw new Error(`${String(error)}\n${cluster.tails()}`);
    });
    const attemptEvents = async (taskId: string) => api.store.readStream(streams.attempt(runId, taskId, 1));

    // Spans of the other processes arrive once their batches are exported (each process on its
    // own timer): wait for the run span, both dispatch spans and both attempt spans.
    const remote = await eventually(async () => {
      const mine = receiver.spans.filter((s) => s.attributes['dagrun.run.id'] === runId);
      const count = (name: string) => mine.filter((s) => s.name === name).length;
      const all = count('dagrun.run') >= 1 && count('dagrun.dispatch') >= 2 && count('dagrun.attempt') >= 2;
      return all ? mine : undefined;
    }, 30_000);
    const one = (name: string, taskId?: string): ReceivedSpan => {
      const found = remote.filter(
        (s) => s.name === name && (taskId === undefined || s.attributes['dagrun.task.id'] === taskId),
      );
      expect(found, `${name} ${taskId ?? ''}`).toHaveLength(1);
      return found[0]!;
    };

    // The request span: in this process's in-memory exporter, a child of the client's span.
    const request = await eventually(async () =>
      memory.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER && s.name.endsWith('/runs')),
    );
    expect(request.name).toMatch(/^POST \/api\/v1\/dags\/:\w+\/runs$/);
    expect(request.attributes['http.response.status_code']).toBe(requested.status);
    const traceId = request.spanContext().traceId;
    expect(traceId).toBe(client.traceId);
    expect(request.parentSpanContext?.spanId).toBe(client.spanId);
    const runRequested = runEvents.find((e) => e.type === 'RunRequested') as RecordedEvent;
    expect(runRequested.metadata.traceparent).toBe(`00-${traceId}-${request.spanContext().spanId}-01`);

    // The run span: the scheduler process taking up RunRequested, a child of the request span.
    const run = one('dagrun.run');
    expect(run.service).toBe('dagrun-scheduler');
    expect(run.traceId).toBe(traceId);
    expect(run.parentSpanId).toBe(request.spanContext().spanId);
    expect(run.attributes).toMatchObject({ 'dagrun.dag.id': 'traced', 'dagrun.dag.version': 1 });
    const succeeded = runEvents.find((e) => e.type === 'RunSucceeded') as RecordedEvent;
    expect(spanIdOf(succeeded.metadata.traceparent)).toBe(run.spanId);

    for (const taskId of ['first', 'second']) {
      // The dispatch span: the leader queueing the attempt; TaskQueued carries its traceparent.
      const dispatch = one('dagrun.dispatch', taskId);
      expect(dispatch.service).toBe('dagrun-scheduler');
      expect(dispatch.kind).toBe(4); // producer
      expect(dispatch.traceId).toBe(traceId);
      expect(dispatch.parentSpanId).toBe(run.spanId);
      const queued = runEvents.find(
        (e) => e.type === 'TaskQueued' && (e.data as { taskId: string }).taskId === taskId,
      ) as RecordedEvent;
      expect(traceIdOf(queued.metadata.traceparent)).toBe(traceId);
      expect(spanIdOf(queued.metadata.traceparent)).toBe(dispatch.spanId);

      // The attempt span: the worker process running it, a child of the dispatch span; the
      // attempt's events carry the attempt span's traceparent.
      const attempt = one('dagrun.attempt', taskId);
      expect(attempt.service).toBe('dagrun-worker');
      expect(attempt.kind).toBe(5); // consumer
      expect(attempt.traceId).toBe(traceId);
      expect(attempt.parentSpanId).toBe(dispatch.spanId);
      expect(attempt.attributes).toMatchObject({
        'dagrun.attempt': 1,
        'dagrun.task.type': 'shell',
        'dagrun.attempt.outcome': 'AttemptSucceeded',
      });
      const events = await attemptEvents(taskId);
      expect(events.map((e) => e.type)).toEqual(['AttemptStarted', 'AttemptSucceeded']);
      for (const event of events) {
        expect(traceIdOf(event.metadata.traceparent)).toBe(traceId);
        expect(spanIdOf(event.metadata.traceparent)).toBe(attempt.spanId);
      }
    }

    // Nothing of the run was traced in this process but the request: the rest crossed over.
    const local = memory.getFinishedSpans().map((s) => s.name);
    expect(local).not.toContain('dagrun.run');
    expect(local).not.toContain('dagrun.attempt');
  }, 120_000);
});
