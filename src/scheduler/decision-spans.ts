/**
 * The spans of the leader's decisions (the model is in src/observability/tracing.ts). The first
 * batch a leader appends for a run opens the run span — this leader taking the run up, a child
 * of the request span whose traceparent RunRequested carries — and every TaskQueued opens a
 * dispatch span, a child of the run span. Each decision's metadata carries its span's
 * traceparent (TaskQueued: its dispatch span's, which the work item takes to the worker; the
 * others: the run span's). The spans end once the batch is appended and handed to the
 * dispatcher, so none outlives the leader; a leader that takes over opens a run span of its own.
 * The dispatch of a task a DLQ retry requeued is linked to the span of that retry's request.
 */
import type { RunEvent } from '../events/schemas/index.js';
import type { EventMetadata } from '../events/types.js';
import {
  ATTR,
  endSpan,
  SPAN,
  type Span,
  SpanKind,
  startSpan,
  traceparentOf,
  tracingEnabled,
} from '../observability/tracing.js';
import type { RunState } from './core/state.js';

/** What the spans need of a run the leader follows. */
export interface TracedRun {
  readonly state: RunState;
  /** RunRequested's traceparent: the request span the run span hangs under. */
  readonly requestTrace?: string | undefined;
  /** This leader's run span, once it has taken the run up: the parent of its dispatch spans. */
  trace?: string | undefined;
  /** Per task, the traceparent of the DLQ retry that requeued it, until its next dispatch. */
  requeueTraces?: Map<string, string>;
  /** Per task, the traceparent its last TaskQueued carries: a re-dispatch after a failover keeps it. */
  queuedTraces?: Map<string, string>;
}

/** What the leader reads of an event to keep a run's traces (a RecordedEvent will do). */
interface TraceEvent {
  readonly type: string;
  readonly data: unknown;
  readonly metadata: { readonly traceparent?: string | undefined };
}

/**
 * Keeps what a run-stream event says about traces: a TaskQueued's traceparent (and that its task
 * was dispatched, so a DLQ retry before it is done with), a TaskRequeued's (while tracing is on:
 * only a dispatch span can use it).
 */
export function rememberTraces(run: TracedRun, event: TraceEvent): void {
  const traceparent = event.metadata.traceparent;
  const { taskId } = event.data as { taskId?: string };
  if (taskId === undefined) return;
  if (event.type === 'TaskQueued') {
    run.requeueTraces?.delete(taskId);
    if (!traceparent) return;
    run.queuedTraces ??= new Map();
    run.queuedTraces.set(taskId, traceparent);
  } else if (event.type === 'TaskRequeued' && traceparent && tracingEnabled()) {
    run.requeueTraces ??= new Map();
    run.requeueTraces.set(taskId, traceparent);
  }
}

/** The traceparent the leader's own appends for `run` carry (abandonments), while tracing is on. */
export function traceOf(run: TracedRun): string | undefined {
  return tracingEnabled() ? (run.trace ?? run.requestTrace) : undefined;
}

export class DecisionSpans {
  private constructor(
    private readonly spans: readonly Span[],
    /** Per event of the batch, the traceparent its metadata carries. */
    private readonly traces: readonly (string | undefined)[],
  ) {}

  /** Opens the spans of a batch about to be appended; undefined while tracing is off. */
  static begin(
    run: TracedRun,
    events: readonly RunEvent[],
    term: number,
    startTime: number,
  ): DecisionSpans | undefined {
    if (!tracingEnabled()) return undefined;
    const spans: Span[] = [];
    const { runId } = run.state;
    if (run.trace === undefined) {
      const span = startSpan(SPAN.run, {
        parent: run.requestTrace,
        startTime,
        attributes: {
          [ATTR.runId]: runId,
          [ATTR.dagId]: run.state.dagId ?? '',
          [ATTR.dagVersion]: run.state.dagVersion ?? 0,
          [ATTR.term]: term,
          [ATTR.decisions]: events.length,
        },
      });
      run.trace = traceparentOf(span);
      spans.push(span);
    }
    const traces = events.map((event) => {
      if (event.type !== 'TaskQueued') return run.trace;
      // A DLQ retry's dispatch stays in the run's trace, linked to the request that asked for it.
      const requeued = run.requeueTraces?.get(event.data.taskId);
      run.requeueTraces?.delete(event.data.taskId);
      const span = startSpan(SPAN.dispatch, {
        parent: run.trace,
        kind: SpanKind.PRODUCER,
        startTime,
        links: [requeued],
        attributes: {
          [ATTR.runId]: runId,
          [ATTR.taskId]: event.data.taskId,
          [ATTR.attempt]: event.data.attempt,
          [ATTR.term]: term,
        },
      });
      spans.push(span);
      return traceparentOf(span);
    });
    return new DecisionSpans(spans, traces);
  }

  /** The metadata of the batch's `index`-th event: `base` with its span's traceparent. */
  metadata<M extends EventMetadata>(base: M, index: number): M {
    const traceparent = this.traces[index];
    return traceparent ? { ...base, traceparent } : base;
  }

  /** The traceparent the `index`-th event carries (a TaskQueued: its dispatch span's). */
  traceparent(index: number): string | undefined {
    return this.traces[index];
  }

  /** Ends every span of the batch; failed ones with the error (a refused append). */
  end(error?: unknown): void {
    for (const span of this.spans) endSpan(span, error);
  }
}
