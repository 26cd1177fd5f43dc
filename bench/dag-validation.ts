/**
 * How long does validating a big DAG take? Generates a 10,000-task DAG with about 50,000
 * dependency edges as YAML (deterministically: a fixed-seed generator), then times `parseDag`
 * on it, and `normalizeDagObject` on the same DAG as data to separate YAML parsing from our own
 * checks.
 *
 *   node --import tsx bench/dag-validation.ts
 *
 * What to expect: the yaml library's own parse() is most of the time (its lexer and parser
 * allocate a generator per token; on a 2-vCPU VM the 1.4 MB file takes about a second to parse
 * with nothing else done). `detail.yamlParseMedianMs` shows that floor and
 * `detail.validationOnlyMedianMs` our share, so a regression on either side is visible.
 */
import { pathToFileURL } from 'node:url';
import { parse } from 'yaml';
import { normalizeDagObject, parseDag, TASK_TYPES } from '../src/dag/index.js';

/**
 * One benchmark's figures. `name`/`value`/`unit`/`detail` are the shape bench/event-store.ts
 * reports, so one runner can print both; the timings are also top-level for a quick read.
 */
export interface BenchResult {
  readonly name: string;
  /** The median, in `unit`. */
  readonly value: number;
  readonly unit: 'ms';
  readonly medianMs: number;
  readonly minMs: number;
  readonly p95Ms: number;
  readonly runs: number;
  /** How the figure was obtained, and what it is made of. */
  readonly detail: Record<string, number | string | boolean>;
}

const TASKS = 10_000;
const EDGES_PER_TASK = 5;
const WARMUP_RUNS = 3;
const RUNS = 15;

/** A linear congruential generator: the same DAG on every machine and every run. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Each task depends on up to five earlier ones, mostly nearby, sometimes far back. */
export function generateDagYaml(
  tasks = TASKS,
  edgesPerTask = EDGES_PER_TASK,
): { yaml: string; edges: number } {
  const random = generator(42);
  const id = (i: number): string => `task-${String(i).padStart(5, '0')}`;
  const lines = ['name: bench-10k', 'defaults:', '  timeout: 10m', 'tasks:'];
  let edges = 0;
  for (let i = 0; i < tasks; i++) {
    lines.push(`  - id: ${id(i)}`);
    const type = TASK_TYPES[i % TASK_TYPES.length]!;
    switch (type) {
      case 'shell':
        lines.push('    type: shell', `    command: echo ${i}`);
        break;
      case 'python':
        lines.push('    type: python', `    script: steps/step_${i}.py`);
        break;
      case 'http':
        lines.push('    type: http', `    url: https://example.com/tasks/${i}`);
        break;
      case 'noop':
        lines.push('    type: noop');
        break;
      default: {
        const unexpected: never = type;
        throw new Error(`no generator for task type ${String(unexpected)}`);
      }
    }
    const dependencies = new Set<number>();
    for (let k = 0; k < Math.min(edgesPerTask, i); k++) {
      const far = random() < 0.2;
      const back = far ? 1 + Math.floor(random() * i) : 1 + Math.floor(random() * Math.min(i, 50));
      dependencies.add(i - back);
    }
    if (dependencies.size > 0) lines.push(`    dependencies: [${[...dependencies].map(id).join(', ')}]`);
    edges += dependencies.size;
  }
  return { yaml: `${lines.join('\n')}\n`, edges };
}

function time(run: () => void, runs: number): number[] {
  for (let i = 0; i < WARMUP_RUNS; i++) run();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    run();
    samples.push(performance.now() - start);
  }
  return samples.sort((a, b) => a - b);
}

const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
const round = (ms: number): number => Math.round(ms * 10) / 10;

/** Runs the benchmark; the result's extra fields break the time down. */
export async function runDagValidationBench(runs = RUNS): Promise<BenchResult> {
  const { yaml, edges } = generateDagYaml();
  const bytes = Buffer.byteLength(yaml);
  // The generated file is bigger than the 1 MiB default meant for API uploads.
  const options = { maxBytes: 4 * 1024 * 1024 };
  const check = parseDag(yaml, options);
  if (!check.ok) throw new Error(`the generated DAG is invalid: ${check.issues[0]?.message}`);

  const full = time(() => parseDag(yaml, options), runs);
  // The breakdown needs fewer runs: it explains the headline figure, it is not the figure.
  const data: unknown = parse(yaml);
  const validationOnly = time(() => normalizeDagObject(data), Math.ceil(runs / 3));
  const yamlOnly = time(() => parse(yaml), Math.ceil(runs / 3));

  const medianMs = round(percentile(full, 0.5));
  return {
    name: 'dag-validation-10k',
    value: medianMs,
    unit: 'ms',
    medianMs,
    minMs: round(full[0]!),
    p95Ms: round(percentile(full, 0.95)),
    runs,
    detail: {
      tasks: TASKS,
      edges,
      bytes,
      // normalizeDagObject on the same DAG as data: our checks without the YAML parse.
      validationOnlyMedianMs: round(percentile(validationOnly, 0.5)),
      // The yaml library's own parse(), for comparison: the floor for any YAML input.
      yamlParseMedianMs: round(percentile(yamlOnly, 0.5)),
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await runDagValidationBench();
  console.log(JSON.stringify(result));
}
