/**
 * How long does validating a big DAG take? Generates a 10,000-task DAG with about 50,000
 * dependency edges as YAML (deterministically: a fixed-seed generator), then times `parseDag`
 * on it end to end: the headline figure.
 *
 *   node --import tsx bench/dag-validation.ts
 *
 * parseDag reads valid input on a fast path (js-yaml, then the checks made on JSON input) and
 * everything else on the located path (the `yaml` library, so that every issue has a line and
 * column); see src/dag/parse-dag.ts. Both figures are reported:
 * - the headline: the valid DAG, which takes the fast path;
 * - `detail.invalidMedianMs`: the same DAG with one error in its last task. The fast path finds
 *   a problem, and the located path reads the whole file again to report it, so this is the
 *   located path's time plus the fast path's;
 * - `detail.locatedPathMedianMs`: the located path alone on the valid DAG, which is what parseDag
 *   cost before the fast path existed.
 * The breakdown (`jsYamlParseMedianMs`, `yamlParseMedianMs`, `validationOnlyMedianMs`) shows the
 * floor of each path: the two parsers alone, and our checks on the DAG as data.
 */
import { pathToFileURL } from 'node:url';
import { CORE_SCHEMA, load } from 'js-yaml';
import { parse } from 'yaml';
import { normalizeDagObject, parseDag, TASK_TYPES } from '../src/dag/index.js';
import { parseDagFast, parseDagSlow } from '../src/dag/parse-dag.js';

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
/** The located path takes over a second a run; fewer runs of it are enough to see it. */
const SLOW_RUNS = 5;

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

function time(run: () => void, runs: number, warmups = WARMUP_RUNS): number[] {
  for (let i = 0; i < warmups; i++) run();
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
  // One problem, in the last task: the fast path reads everything before it finds it.
  const invalidYaml = `${yaml}    timeout: soon\n`;
  const bytes = Buffer.byteLength(yaml);
  // The generated file is bigger than the 1 MiB default meant for API uploads.
  const options = { maxBytes: 4 * 1024 * 1024 };
  const fast = parseDagFast(yaml, options);
  if (!fast.ok) throw new Error(`the generated DAG does not take the fast path: ${fast.reason}`);
  const invalid = parseDag(invalidYaml, options);
  if (invalid.ok || invalid.issues.length !== 1)
    throw new Error('the invalid DAG should have exactly one issue');

  const full = time(() => parseDag(yaml, options), runs);
  // The rest explains the headline figure; fewer runs will do.
  const invalidRuns = time(() => parseDag(invalidYaml, options), SLOW_RUNS, 1);
  const locatedOnly = time(() => parseDagSlow(yaml, options), SLOW_RUNS, 1);
  const data: unknown = parse(yaml);
  const breakdownRuns = Math.ceil(runs / 3);
  const validationOnly = time(() => normalizeDagObject(data), breakdownRuns);
  const jsYamlOnly = time(() => load(yaml, { schema: CORE_SCHEMA }), breakdownRuns);
  const yamlOnly = time(() => parse(yaml), SLOW_RUNS, 1);

  const median = (samples: readonly number[]): number => round(percentile(samples, 0.5));
  const medianMs = median(full);
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
      // parseDag on the DAG with one error at the end: the fast path, then the located path.
      invalidMedianMs: median(invalidRuns),
      invalidLine: invalid.issues[0]!.line ?? 0,
      // The located path alone on the valid DAG: parseDag before the fast path.
      locatedPathMedianMs: median(locatedOnly),
      slowRuns: SLOW_RUNS,
      // js-yaml's load() and the yaml library's parse(): the floors of the two paths.
      jsYamlParseMedianMs: median(jsYamlOnly),
      yamlParseMedianMs: median(yamlOnly),
      // normalizeDagObject on the same DAG as data: our checks without any YAML parse.
      validationOnlyMedianMs: median(validationOnly),
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await runDagValidationBench();
  console.log(JSON.stringify(result));
}
