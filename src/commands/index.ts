/**
 * Command handlers: the write side's entry points, used by the CLI and the API. Each validates its
 * input, loads the state it needs, decides with a pure decider and appends.
 */
import { createHash } from 'node:crypto';
import { canonicalJson, type NormalizedDag } from '../dag/index.js';
import type { DagEvent } from '../events/schemas/index.js';
import { streams } from '../events/schemas/index.js';
import { type DagState, dagDecider } from './dag-decider.js';
import { fold } from './decider.js';
import type { CommandContext, HandleResult } from './handle-command.js';
import { handleCommand } from './handle-command.js';
import { runIdForIdempotencyKey, uuidv7 } from './ids.js';
import { runCommandDecider } from './run-decider.js';

export type { DagState } from './dag-decider.js';
export type { CommandContext } from './handle-command.js';

/** sha256 of the canonical JSON: equal for equal specs, whatever their key order or formatting. */
export function specHash(spec: NormalizedDag): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('hex');
}

export interface RegisterDagResult {
  readonly dagId: string;
  readonly version: number;
  /** False when the same spec was registered before: nothing was appended. */
  readonly changed: boolean;
}

export async function registerDag(
  ctx: CommandContext,
  spec: NormalizedDag,
  now = new Date(),
): Promise<RegisterDagResult> {
  const dagId = spec.name;
  const result = await handleCommand(ctx, streams.dag(dagId), dagDecider, {
    type: 'RegisterDag',
    dagId,
    spec,
    specHash: specHash(spec),
    now: now.toISOString(),
  });
  return { dagId, version: result.state.latest?.version ?? 0, changed: result.appended.length > 0 };
}

export async function pauseDag(ctx: CommandContext, dagId: string, reason?: string, now = new Date()) {
  return summarize(
    await handleCommand(ctx, streams.dag(dagId), dagDecider, {
      type: 'PauseDag',
      dagId,
      now: now.toISOString(),
      ...(reason ? { reason } : {}),
    }),
  );
}

export async function resumeDag(ctx: CommandContext, dagId: string, now = new Date()) {
  return summarize(
    await handleCommand(ctx, streams.dag(dagId), dagDecider, {
      type: 'ResumeDag',
      dagId,
      now: now.toISOString(),
    }),
  );
}

function summarize(result: HandleResult<DagState>) {
  return { status: result.state.status, changed: result.appended.length > 0 };
}

/** Reads a DAG's current state (latest version, paused or not). */
export async function loadDag(ctx: Pick<CommandContext, 'store'>, dagId: string): Promise<DagState> {
  const events = await ctx.store.readStream(streams.dag(dagId));
  return fold(
    dagDecider,
    events.map((e) => ({ type: e.type, data: e.data }) as DagEvent),
  );
}

export interface RequestRunInput {
  readonly dagId: string;
  readonly params?: Readonly<Record<string, unknown>>;
  readonly idempotencyKey?: string | undefined;
}

export interface RequestRunResult {
  readonly runId: string;
  readonly dagVersion: number;
  /** False when an earlier request with the same idempotency key already created this run. */
  readonly created: boolean;
}

export async function requestRun(
  ctx: CommandContext,
  input: RequestRunInput,
  now = new Date(),
): Promise<RequestRunResult> {
  const runId =
    input.idempotencyKey !== undefined
      ? runIdForIdempotencyKey(input.dagId, input.idempotencyKey)
      : uuidv7(now.getTime());
  const dag = await loadDag(ctx, input.dagId);
  const result = await handleCommand(ctx, streams.run(runId), runCommandDecider, {
    type: 'RequestRun',
    runId,
    dagId: input.dagId,
    dag,
    params: input.params ?? {},
    idempotencyKey: input.idempotencyKey,
    now: now.toISOString(),
  });
  return {
    runId,
    dagVersion: result.state.requested?.dagVersion ?? 0,
    created: result.appended.length > 0,
  };
}

export async function cancelRun(ctx: CommandContext, runId: string, reason?: string, now = new Date()) {
  const result = await handleCommand(ctx, streams.run(runId), runCommandDecider, {
    type: 'CancelRun',
    runId,
    now: now.toISOString(),
    ...(reason ? { reason } : {}),
  });
  return { runId, changed: result.appended.length > 0 };
}

/** Retries a dead-lettered task: a new attempt, its downstream back to pending, the run running again. */
export async function retryDeadLetter(ctx: CommandContext, runId: string, taskId: string, now = new Date()) {
  await handleCommand(ctx, streams.run(runId), runCommandDecider, {
    type: 'RetryDeadLetter',
    runId,
    taskId,
    now: now.toISOString(),
  });
  return { runId, taskId };
}

/** Closes a dead-letter item without retrying; the task stays dead-lettered. */
export async function discardDeadLetter(
  ctx: CommandContext,
  runId: string,
  taskId: string,
  now = new Date(),
) {
  await handleCommand(ctx, streams.run(runId), runCommandDecider, {
    type: 'DiscardDeadLetter',
    runId,
    taskId,
    now: now.toISOString(),
  });
  return { runId, taskId };
}
