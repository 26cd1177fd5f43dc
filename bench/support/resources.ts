/**
 * What a measurement cost, so a figure comes with the reason for it: CPU of this process (the
 * system under test runs in it), CPU of the Postgres backends serving the scenario's database,
 * CPU everything else on the machine took meanwhile (other work competes for the same cores),
 * and what the database did (commits, rows written) from pg_stat_database.
 *
 * Postgres CPU is read from /proc/<pid>/stat of the backends pg_stat_activity lists for the
 * database, sampled every 100 ms; it is left out when the server is not on this machine.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import pg from 'pg';

export interface ResourceUse {
  readonly wallMs: number;
  /** CPU of this process (system under test and harness), ms. */
  readonly nodeCpuMs: number;
  /** CPU of the database's backends, ms; undefined when /proc does not show them. */
  readonly pgCpuMs: number | undefined;
  /** CPU all processes of the machine used meanwhile, ms (from /proc/stat). */
  readonly machineCpuMs: number | undefined;
  readonly commits: number;
  readonly rowsWritten: number;
  /** 1-minute load average at the end. */
  readonly load1: number;
}

const TICK_MS = 10; // USER_HZ is 100 on Linux

function procTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  } catch {
    return undefined;
  }
}

function machineBusyMs(): number | undefined {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal …: busy is everything but idle and iowait.
    const total = cpu.reduce((a, b) => a + b, 0);
    return (total - (cpu[3] ?? 0) - (cpu[4] ?? 0)) * TICK_MS;
  } catch {
    return undefined;
  }
}

interface DbCounters {
  commits: number;
  rows: number;
}

async function dbCounters(admin: pg.Client, database: string): Promise<DbCounters> {
  const { rows } = await admin.query<{ commits: string; rows: string }>(
    `SELECT xact_commit AS commits, tup_inserted + tup_updated + tup_deleted AS rows
     FROM pg_stat_database WHERE datname = $1`,
    [database],
  );
  return { commits: Number(rows[0]?.commits ?? 0), rows: Number(rows[0]?.rows ?? 0) };
}

/**
 * Meters one timed section. `start()` after the system is set up (it waits out Postgres's
 * one-second statistics flush, so setup work is not counted), `stop()` when the work is done,
 * `finish()` after the system has shut down (its backends have flushed their statistics).
 */
export class ResourceMeter {
  private readonly admin: pg.Client;
  private connected = false;
  private closed = false;
  private readonly ticks = new Map<number, { first: number; last: number }>();
  private sampler: NodeJS.Timeout | undefined;
  private sampling: Promise<void> = Promise.resolve();
  private started = { wall: 0, cpu: process.cpuUsage(), machine: undefined as number | undefined };
  private before: DbCounters = { commits: 0, rows: 0 };
  private stopped:
    | { wallMs: number; nodeCpuMs: number; machineCpuMs: number | undefined; pgCpuMs: number | undefined }
    | undefined;

  constructor(
    serverUrl: string,
    private readonly database: string,
  ) {
    this.admin = new pg.Client({ connectionString: serverUrl, application_name: 'dagrun-bench-meter' });
  }

  async start(): Promise<void> {
    await this.admin.connect();
    this.connected = true;
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    this.before = await dbCounters(this.admin, this.database);
    await this.sample();
    this.sampler = setInterval(() => {
      this.sampling = this.sampling.then(() => this.sample());
    }, 100);
    this.started = { wall: performance.now(), cpu: process.cpuUsage(), machine: machineBusyMs() };
  }

  async stop(): Promise<void> {
    const wallMs = performance.now() - this.started.wall;
    const cpu = process.cpuUsage(this.started.cpu);
    const machine = machineBusyMs();
    clearInterval(this.sampler);
    await this.sampling;
    await this.sample();
    let pgTicks = 0;
    for (const { first, last } of this.ticks.values()) pgTicks += last - first;
    this.stopped = {
      wallMs,
      nodeCpuMs: (cpu.user + cpu.system) / 1000,
      machineCpuMs:
        machine !== undefined && this.started.machine !== undefined
          ? machine - this.started.machine
          : undefined,
      pgCpuMs: this.ticks.size > 0 ? pgTicks * TICK_MS : undefined,
    };
  }

  /** Call after the system stopped. */
  async finish(): Promise<ResourceUse> {
    if (!this.stopped) throw new Error('ResourceMeter.finish() before stop()');
    // Exiting backends flush their statistics; give the last ones a moment.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const after = await dbCounters(this.admin, this.database);
    return {
      ...this.stopped,
      commits: after.commits - this.before.commits,
      rowsWritten: after.rows - this.before.rows,
      load1: loadavg()[0] ?? 0,
    };
  }

  /** Releases the meter's connection (also after a failed run). */
  async close(): Promise<void> {
    clearInterval(this.sampler);
    if (this.closed) return;
    this.closed = true;
    if (this.connected) await this.admin.end().catch(() => {});
  }

  private async sample(): Promise<void> {
    try {
      const { rows } = await this.admin.query<{ pid: number }>(
        'SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [this.database],
      );
      for (const { pid } of rows) {
        const t = procTicks(pid);
        if (t === undefined) continue;
        const seen = this.ticks.get(pid);
        if (seen) seen.last = t;
        else this.ticks.set(pid, { first: t, last: t });
      }
    } catch {
      // A missed sample only makes the Postgres CPU figure a little low.
    }
  }
}
