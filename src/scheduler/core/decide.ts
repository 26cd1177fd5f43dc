/**
 * decide: from a run's state and the time, the next decisions. Pure — the clock, the leader's
 * term and the dispatch budget come in as arguments; jitter is a hash of (run, task, attempt),
 * so a replay of the same history decides the same delays.
 *
 * One call returns one step. Its events change the state (a skip can make the next task
 * skippable too), so the leader folds them and calls again until a step returns nothing; see
 * `decideUntilStable`.
 */
import type { RunEvent } from '../../events/schemas/index.js';
import type { Failure } from '../../events/schemas/metadata.js';
import { evolve } from './evolve.js';
import { hashFraction, isRetryable, retryDelayMs } from './retry-policy.js';
import { isRunFinished, type RunState, type TaskState, verdictOf } from './state.js';

export interface DecideContext {
  /** Epoch ms. */
  readonly now: number;
  /** The deciding leader's term; stamped on every decision. */
  readonly term: number;
  /** How many more tasks may be queued now (backpressure); Infinity for no bound. */
  readonly budget: number;
  /** Extra time past a task's timeout before the leader abandons a silent attempt. */
  readonly abandonGraceMs: number;
}

/** An attempt the leader must close with AttemptAbandoned (expected revision 0). */
export interface AbandonOrder {
  readonly taskId: string;
  readonly attempt: number;
  readonly failure: Failure;
}

export interface Decision {
  readonly events: RunEvent[];
  readonly abandon: AbandonOrder[];
  /** The earliest time a timer (retry, deadline) needs another decide; undefined for none. */
  readonly wakeAt: number | undefined;
}

export function decide(state: RunState, ctx: DecideContext): Decision {
  const events: RunEvent[] = [];
  const abandon: AbandonOrder[] = [];
  let wakeAt: number | undefined;
  const wake = (at: number) => {
    wakeAt = wakeAt === undefined ? at : Math.min(wakeAt, at);
  };
  const at = new Date(ctx.now).toISOString();
  const { term } = ctx;

  for (const stray of state.strays.values()) {
    abandon.push({
      ...stray,
      failure: { kind: 'cancelled', message: 'the run no longer expects this attempt' },
    });
  }
  if (state.dagId === undefined || isRunFinished(state.status)) return { events, abandon, wakeAt };

  if (state.cancelRequested) {
    let live = 0;
    for (const id of state.running) {
      const t = state.tasks.get(id) as TaskState;
      if (t.undecidedFailure) continue;
      live++;
      abandon.push({
        taskId: id,
        attempt: t.attempt,
        failure: { kind: 'cancelled', message: 'run cancelled' },
      });
    }
    if (live === 0) events.push({ type: 'RunCancelled', data: { term, finishedAt: at } });
    return { events, abandon, wakeAt };
  }

  for (const id of state.running) {
    const t = state.tasks.get(id) as TaskState;
    const failure = t.undecidedFailure;
    if (failure) {
      events.push(decideFailure(state, t, failure, ctx, at));
    } else if (t.startedAt !== undefined) {
      // A claimed-ahead attempt may wait up to startWithinMs for a slot before its timeout runs.
      const deadline = t.startedAt + t.startWithinMs + t.plan.timeoutMs + ctx.abandonGraceMs;
      if (ctx.now >= deadline) {
        abandon.push({
          taskId: id,
          attempt: t.attempt,
          failure: {
            kind: 'timeout',
            message:
              t.startWithinMs > 0
                ? `no outcome ${t.plan.timeoutMs} ms after the attempt's start window of ${t.startWithinMs} ms`
                : `no outcome ${t.plan.timeoutMs} ms after the attempt started`,
          },
        });
      } else {
        wake(deadline);
      }
    }
  }

  let budget = ctx.budget;
  const queue = (t: TaskState) => {
    events.push({
      type: 'TaskQueued',
      data: { taskId: t.plan.id, attempt: t.attempt + 1, term, queuedAt: at },
    });
    budget--;
  };
  for (const id of state.retryWaiting) {
    const t = state.tasks.get(id) as TaskState;
    const due = t.retryAt ?? 0;
    if (due > ctx.now) wake(due);
    else if (budget > 0) queue(t);
  }
  // Only tasks with a verdict are visited (see state.ts): as many runnable ones as the budget
  // allows, and every one to skip or fail — so a step costs what it decides, not the number of
  // pending tasks.
  for (const id of state.runnable) {
    if (budget <= 0) break;
    queue(state.tasks.get(id) as TaskState);
  }
  for (const id of state.settleable) {
    const t = state.tasks.get(id) as TaskState;
    const verdict = verdictOf(t);
    switch (verdict) {
      case 'skip':
        events.push({
          type: 'TaskSkipped',
          data: { taskId: id, term, reason: `trigger rule ${t.plan.triggerRule}` },
        });
        break;
      case 'upstream_failed':
        events.push({ type: 'TaskUpstreamFailed', data: { taskId: id, term } });
        break;
      case 'run':
      case 'wait':
        // Not filed here (refreshCandidate keeps the sets in step with the verdicts).
        break;
      default: {
        const never: never = verdict;
        throw new Error(`unknown verdict ${String(never)}`);
      }
    }
  }

  if (
    events.length === 0 &&
    abandon.length === 0 &&
    state.terminalCount === state.tasks.size &&
    state.running.size === 0
  ) {
    const deadLettered = [...state.tasks.values()]
      .filter((t) => t.status === 'dead_lettered')
      .map((t) => t.plan.id);
    const failed =
      deadLettered.length > 0 || [...state.tasks.values()].some((t) => t.status === 'upstream_failed');
    events.push(
      failed
        ? { type: 'RunFailed', data: { term, finishedAt: at, deadLettered } }
        : { type: 'RunSucceeded', data: { term, finishedAt: at } },
    );
  }
  return { events, abandon, wakeAt };
}

function decideFailure(
  state: RunState,
  t: TaskState,
  failure: Failure,
  ctx: DecideContext,
  at: string,
): RunEvent {
  const { taskId, attempt } = { taskId: t.plan.id, attempt: t.attempt };
  const policy = t.plan.retry;
  // Released attempts are numbered but never ran: the policy counts tries, not attempt numbers.
  const tries = attempt - t.released;
  if (tries < policy.maxAttempts && isRetryable(policy, failure)) {
    const u = hashFraction(`${state.runId}/${taskId}/${attempt}`);
    const retryAt = new Date(ctx.now + retryDelayMs(policy, tries, u)).toISOString();
    return { type: 'TaskRetryScheduled', data: { taskId, attempt, term: ctx.term, failure, retryAt } };
  }
  return { type: 'TaskDeadLettered', data: { taskId, attempt, term: ctx.term, failure, deadLetteredAt: at } };
}

/**
 * Decides and folds until a step decides nothing new: the whole cascade of one moment, as one
 * batch of run-stream events. Mutates `state` (it already holds the returned events); a caller
 * whose append then fails must rebuild the state from the log.
 */
export function decideUntilStable(state: RunState, ctx: DecideContext): Decision {
  const events: RunEvent[] = [];
  const abandon = new Map<string, AbandonOrder>();
  let wakeAt: number | undefined;
  let budget = ctx.budget;
  for (;;) {
    const step = decide(state, { ...ctx, budget });
    for (const order of step.abandon) abandon.set(`${order.taskId}#${order.attempt}`, order);
    wakeAt = step.wakeAt;
    if (step.events.length === 0) break;
    for (const event of step.events) {
      if (event.type === 'TaskQueued') budget--;
      evolve(state, { ...event, revision: state.revision + 1 });
      events.push(event);
    }
  }
  return { events, abandon: [...abandon.values()], wakeAt };
}
