/**
 * Live progress of one run in the terminal: each task's state, attempt and duration, a progress
 * bar, and failures with their errors. On a TTY the block is redrawn in place (at most ~10 times
 * a second); elsewhere (CI logs, pipes) each change is printed once, as a line.
 */
import type { Failure } from '../events/schemas/metadata.js';
import type { RecordedEvent } from '../events/types.js';
import type { RunPlan } from '../scheduler/core/plan.js';
import { initialRunState, isTerminal, type RunState, type TaskStatus } from '../scheduler/core/state.js';
import { foldRecorded } from '../scheduler/run-loader.js';

interface TaskTiming {
  startedAt?: number;
  finishedAt?: number;
}

const symbols: Record<TaskStatus, string> = {
  pending: '·',
  queued: '○',
  running: '▶',
  retry_wait: '↻',
  succeeded: '✔',
  dead_lettered: '✖',
  upstream_failed: '⊘',
  skipped: '↷',
  cancelled: '■',
};

export interface ProgressOptions {
  readonly write: (text: string) => void;
  readonly tty: boolean;
  readonly columns?: number;
  readonly now?: () => number;
}

export class RunProgress {
  readonly state: RunState;
  private readonly timings = new Map<string, TaskTiming>();
  private readonly lastLine = new Map<string, string>();
  private drawnLines = 0;
  private lastDraw = 0;
  private readonly now: () => number;

  constructor(
    runId: string,
    plan: RunPlan,
    private readonly options: ProgressOptions,
  ) {
    this.state = initialRunState(runId, plan);
    this.now = options.now ?? Date.now;
  }

  apply(event: RecordedEvent): void {
    foldRecorded(this.state, event);
    const data = event.data as {
      taskId?: string;
      startedAt?: string;
      finishedAt?: string;
      abandonedAt?: string;
      releasedAt?: string;
    };
    if (data.taskId && event.streamName.startsWith('attempt-')) {
      const timing = this.timings.get(data.taskId) ?? {};
      if (event.type === 'AttemptStarted' && data.startedAt) {
        timing.startedAt = Date.parse(data.startedAt);
        timing.finishedAt = undefined;
      } else {
        // A release closes the attempt like an outcome: it never ran.
        const end = data.finishedAt ?? data.abandonedAt ?? data.releasedAt;
        if (end) timing.finishedAt = Date.parse(end);
      }
      this.timings.set(data.taskId, timing);
    }
  }

  /** Draws (TTY) or prints changed lines (non-TTY). `force` ignores the redraw throttle. */
  render(force = false): void {
    if (this.options.tty) {
      const now = this.now();
      if (!force && now - this.lastDraw < 100) return;
      this.lastDraw = now;
      const lines = this.lines();
      const clear = this.drawnLines > 0 ? `\x1b[${this.drawnLines}F\x1b[J` : '';
      this.options.write(`${clear}${lines.join('\n')}\n`);
      this.drawnLines = lines.length;
      return;
    }
    for (const task of this.state.tasks.values()) {
      const line = this.taskLine(task.plan.id);
      const key = `${task.status}#${task.attempt}`;
      if (this.lastLine.get(task.plan.id) !== key) {
        this.lastLine.set(task.plan.id, key);
        if (task.status !== 'pending') this.options.write(`${line}\n`);
      }
    }
  }

  lines(): string[] {
    const total = this.state.tasks.size;
    const done = this.state.terminalCount;
    const width = Math.max(10, Math.min(40, (this.options.columns ?? 80) - 30));
    const filled = Math.round((done / Math.max(1, total)) * width);
    const header = `run ${this.state.runId}  [${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${done}/${total}  ${this.state.status}`;
    return [header, ...[...this.state.tasks.keys()].map((id) => this.taskLine(id))];
  }

  private taskLine(taskId: string): string {
    const task = this.state.tasks.get(taskId);
    if (!task) return taskId;
    const timing = this.timings.get(taskId);
    const duration =
      timing?.startedAt !== undefined
        ? formatMs(
            (timing.finishedAt ?? (isTerminal(task.status) ? timing.startedAt : this.now())) -
              timing.startedAt,
          )
        : '';
    const attempt = task.attempt > 1 ? ` (attempt ${task.attempt})` : '';
    const failure =
      task.status === 'dead_lettered' || task.status === 'retry_wait' ? task.lastFailure : undefined;
    return `  ${symbols[task.status]} ${taskId.padEnd(24)} ${task.status.padEnd(15)} ${duration.padStart(7)}${attempt}${
      failure ? `  ${describeFailure(failure)}` : ''
    }`;
  }
}

export function describeFailure(failure: Failure): string {
  const firstLine = failure.message.split('\n')[0] ?? '';
  return `${failure.kind}: ${firstLine.length > 120 ? `${firstLine.slice(0, 117)}...` : firstLine}`;
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}
