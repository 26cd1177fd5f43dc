/**
 * The trace survives a change of leader: no span stays open across it, the links live in the
 * log. Leader 1 queues an attempt that no worker claims and stops; leader 2 rebuilds the run
 * from the log and hands the attempt out again with the traceparent its TaskQueued carries, so
 * the attempt span is still a child of leader 1's dispatch span. Leader 2's own decisions hang
 * under a run span of its own, a child of the same request span.
 */
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, describe, expect, it } from 'vitest';
import { cancelRun, registerDag, requestRun, retryDeadLetter } from '../../../src/commands/index.js';
import { parseDagOrThrow } from '../../../src/dag/index.js';
import { streams } from '../../../src/events/schemas/index.js';
import type { RecordedEvent } from '../../../src/events/types.js';
import { startSpan, startTracing, traceparentOf } from '../../../src/observability/tracing.js';
import { Dispatcher } from '../../../src/scheduler/dispatcher.js';
import { type LeaderOptions, SCHEDULER_FENCE, SchedulerLeader } from '../../../src/scheduler/leader.js';
import { createTestDatabase } from '../../support/database.js';
import { silentLog, startLeaderAndWorker, testStore, waitForRunEnd } from '../../support/engine.js';

const db = await createTestDatabase();
const store = testStore(db);
const memory = new InMemorySpanExporter();
const tracing = await startTracing(
  { exporters: [], otlpTracesUrl: undefined, serviceName: undefined },
  'scheduler',
  { exporters: [memory] },
);
afterAll(async () => {
  await tracing.shutdown();
  await store.close();
});

const dag = parseDagOrThrow(
  [
    'name: handover',
    'tasks:',
    '  - { id: first, type: noop }',
    '  - { id: second, type: noop, dependencies: [first] }',
    '',
  ].join('\n'),
);

async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function startLeader(dispatcher: Dispatcher, term: number, options: Partial<LeaderOptions> = {}) {
  return new SchedulerLeader({ store, dispatcher, term, log: silentLog, ...options });
}

const spanIdOf = (traceparent: unknown) => String(traceparent).split('-')[2];
/** The spans of one run with this name whose `attribute` is `value`. */
const named = (runId: string, name: string, attribute: string, value: string | number): ReadableSpan[] =>
  memory
    .getFinishedSpans()
    .filter(
      (s) => s.name === name && s.attributes['dagrun.run.id'] === runId && s.attributes[attribute] === value,
    );

describe('tracing across a change of leader', () => {
  // A new leader folds the whole log, or loads the runs active at the read models' checkpoint.
  it.each(['the whole log', 'a checkpoint'])(
    'links the re-dispatched attempt to the first leader’s dispatch span (leader 2 starts from %s)',
    async (from) => {
      // Stands in for the API's request span: RunRequested carries its traceparent.
      const request = startSpan('POST /api/v1/dags/:id/runs', { kind: SpanKind.SERVER });
      const metadata = {
        correlationId: 'trace-failover',
        actor: 'test',
        traceparent: traceparentOf(request),
      };
      request.end();
      await registerDag({ store, metadata: { correlationId: 'trace-failover', actor: 'test' } }, dag);
      const { runId } = await requestRun({ store, metadata }, { dagId: dag.name, params: {} });

      // Leader 1 queues `first`; no worker is there to claim it.
      const term1 = await store.nextTerm(SCHEDULER_FENCE);
      const leader1 = startLeader(new Dispatcher({ maxBacklog: 100 }), term1);
      await leader1.start();
      const queued = await waitFor(async () =>
        (await store.readStream(streams.run(runId))).find((e) => e.type === 'TaskQueued'),
      );
      await leader1.stop();

      // Leader 2 takes over, with a worker.
      const { term: term2, stop } = await startLeaderAndWorker(db, store, {
        capacity: 2,
        leader:
          from === 'a checkpoint'
            ? { liveRuns: async () => ({ position: queued.position, runIds: [runId] }) }
            : {},
      });
      let runEvents: RecordedEvent[];
      try {
        runEvents = await waitForRunEnd(store, runId);
      } finally {
        await stop();
      }
      expect(runEvents.at(-1)?.type).toBe('RunSucceeded');

      const requestId = request.spanContext().spanId;
      const [run1] = named(runId, 'dagrun.run', 'dagrun.term', term1);
      const [run2] = named(runId, 'dagrun.run', 'dagrun.term', term2);
      expect(run1?.parentSpanContext?.spanId).toBe(requestId);
      expect(run2?.parentSpanContext?.spanId).toBe(requestId);

      // `first`: queued by leader 1, run after the change of leader, still under leader 1's dispatch.
      const [dispatchFirst] = named(runId, 'dagrun.dispatch', 'dagrun.task.id', 'first');
      expect(dispatchFirst?.parentSpanContext?.spanId).toBe(run1?.spanContext().spanId);
      expect(spanIdOf(queued.metadata.traceparent)).toBe(dispatchFirst?.spanContext().spanId);
      const [attemptFirst] = named(runId, 'dagrun.attempt', 'dagrun.task.id', 'first');
      expect(attemptFirst?.attributes['dagrun.term']).toBe(term2);
      expect(attemptFirst?.parentSpanContext?.spanId).toBe(dispatchFirst?.spanContext().spanId);

      // `second`: queued and dispatched by leader 2, under its own run span.
      const [dispatchSecond] = named(runId, 'dagrun.dispatch', 'dagrun.task.id', 'second');
      expect(dispatchSecond?.parentSpanContext?.spanId).toBe(run2?.spanContext().spanId);
      const [attemptSecond] = named(runId, 'dagrun.attempt', 'dagrun.task.id', 'second');
      expect(attemptSecond?.parentSpanContext?.spanId).toBe(dispatchSecond?.spanContext().spanId);

      // One trace throughout.
      const traceIds = new Set(
        [run1, run2, dispatchFirst, attemptFirst, dispatchSecond, attemptSecond].map(
          (s) => s?.spanContext().traceId,
        ),
      );
      expect([...traceIds]).toEqual([request.spanContext().traceId]);
    },
  );

  it('puts the attempts a leader abandons under its run span', async () => {
    const request = startSpan('POST /api/v1/dags/:id/runs', { kind: SpanKind.SERVER });
    const metadata = { correlationId: 'trace-abandon', actor: 'test', traceparent: traceparentOf(request) };
    request.end();
    const slow = parseDagOrThrow(
      'name: abandoned\ntasks:\n  - { id: sleepy, type: shell, command: sleep 30 }\n',
    );
    await registerDag({ store, metadata }, slow);
    const { runId } = await requestRun({ store, metadata }, { dagId: slow.name, params: {} });
    const { term, stop } = await startLeaderAndWorker(db, store);
    let abandoned: RecordedEvent | undefined;
    try {
      await waitFor(async () => (await store.readStream(streams.attempt(runId, 'sleepy', 1)))[0]);
      await cancelRun({ store, metadata }, runId);
      abandoned = await waitFor(async () =>
        (await store.readStream(streams.attempt(runId, 'sleepy', 1))).find(
          (e) => e.type === 'AttemptAbandoned',
        ),
      );
      await waitForRunEnd(store, runId);
    } finally {
      await stop();
    }
    const [runSpan] = named(runId, 'dagrun.run', 'dagrun.term', term);
    expect(runSpan).toBeDefined();
    expect(spanIdOf(abandoned?.metadata.traceparent)).toBe(runSpan?.spanContext().spanId);
    expect(String(abandoned?.metadata.traceparent).split('-')[1]).toBe(request.spanContext().traceId);
  });

  it('links the dispatch after a DLQ retry to the retry request, inside the run’s trace', async () => {
    const request = startSpan('POST /api/v1/dags/:id/runs', { kind: SpanKind.SERVER });
    const metadata = { correlationId: 'trace-dlq', actor: 'test', traceparent: traceparentOf(request) };
    request.end();
    const flaky = parseDagOrThrow(
      'name: retried\ntasks:\n  - { id: flaky, type: shell, command: \'[ "$DAGRUN_ATTEMPT" = 2 ]\', retry: { maxAttempts: 1 } }\n',
    );
    await registerDag({ store, metadata }, flaky);
    const { runId } = await requestRun({ store, metadata }, { dagId: flaky.name, params: {} });
    const { stop } = await startLeaderAndWorker(db, store);
    const retry = startSpan('POST /api/v1/runs/:id/dlq/:task/retry', { kind: SpanKind.SERVER });
    try {
      expect((await waitForRunEnd(store, runId)).at(-1)?.type).toBe('RunFailed');
      await retryDeadLetter(
        { store, metadata: { ...metadata, traceparent: traceparentOf(retry) } },
        runId,
        'flaky',
      );
      retry.end();
      await waitFor(async () =>
        (await store.readStream(streams.run(runId))).find((e) => e.type === 'RunSucceeded'),
      );
    } finally {
      await stop();
    }
    const [dispatch] = named(runId, 'dagrun.dispatch', 'dagrun.attempt', 2);
    expect(dispatch?.spanContext().traceId).toBe(request.spanContext().traceId);
    expect(dispatch?.links.map((l) => l.context.spanId)).toEqual([retry.spanContext().spanId]);
    const [first] = named(runId, 'dagrun.dispatch', 'dagrun.attempt', 1);
    expect(first?.links).toEqual([]);
  });
});
