import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildGraph,
  findCycles,
  stronglyConnectedComponents,
  topologicalOrder,
} from '../../../src/dag/graph.js';
import { normalizeDagObject, parseDag } from '../../../src/dag/index.js';
import { dagOf, yaml } from './helpers.js';

/** A DAG spec as YAML: task i is `t<i>`, and `edges` are [upstream, downstream] index pairs. */
function specYaml(count: number, edges: readonly (readonly [number, number])[]): string {
  const deps: number[][] = Array.from({ length: count }, () => []);
  for (const [from, to] of edges) deps[to]!.push(from);
  const lines = ['name: generated', 'tasks:'];
  for (let i = 0; i < count; i++) {
    const list = deps[i]!.map((d) => `t${d}`).join(', ');
    lines.push(`  - {id: t${i}, type: shell, command: "echo ${i}", dependencies: [${list}]}`);
  }
  return yaml(...lines);
}

/**
 * Random acyclic graphs: every edge goes from a lower to a higher index (so there is no cycle),
 * then the indexes are shuffled so that declaration order does not give the answer away.
 */
const acyclicGraph = fc
  .integer({ min: 1, max: 40 })
  .chain((count) =>
    fc.record({
      count: fc.constant(count),
      pairs: fc.array(fc.tuple(fc.nat(count - 1), fc.nat(count - 1)), { maxLength: count * 3 }),
      permutation: fc.shuffledSubarray([...Array(count).keys()], { minLength: count, maxLength: count }),
    }),
  )
  .map(({ count, pairs, permutation }) => {
    const unique = new Map<string, readonly [number, number]>();
    for (const [a, b] of pairs) {
      if (a === b) continue;
      const edge = [permutation[Math.min(a, b)]!, permutation[Math.max(a, b)]!] as const;
      unique.set(`${edge[0]}-${edge[1]}`, edge);
    }
    return { count, edges: [...unique.values()] };
  });

describe('topological order', () => {
  it('given independent tasks, then they keep their declaration order', () => {
    const dag = dagOf(specYaml(4, []));
    expect(dag.topologicalOrder).toEqual(['t0', 't1', 't2', 't3']);
  });

  it('given a choice between ready tasks, then the one declared first goes first (Kahn, not DFS)', () => {
    // t3 → t0, t2 → t1: ready at start are t2 and t3; t2 is declared first.
    const dag = dagOf(
      specYaml(4, [
        [3, 0],
        [2, 1],
      ]),
    );
    expect(dag.topologicalOrder).toEqual(['t2', 't1', 't3', 't0']);
    expect(dag.downstream).toEqual({ t0: [], t1: [], t2: ['t1'], t3: ['t0'] });
  });

  it('given the same spec twice, then the order is identical (no hash-order dependence)', () => {
    const source = specYaml(30, [
      [5, 1],
      [7, 1],
      [1, 0],
      [29, 3],
      [3, 2],
    ]);
    expect(dagOf(source).topologicalOrder).toEqual(dagOf(source).topologicalOrder);
  });

  it('property: for random DAGs, parsing succeeds and the order respects every edge', () => {
    fc.assert(
      fc.property(acyclicGraph, ({ count, edges }) => {
        const result = parseDag(specYaml(count, edges));
        expect(result.ok).toBe(true);
        if (!result.ok) return;
        const position = new Map(result.dag.topologicalOrder.map((id, i) => [id, i]));
        expect(position.size).toBe(count);
        for (const [from, to] of edges)
          expect(position.get(`t${from}`)!).toBeLessThan(position.get(`t${to}`)!);
        for (const task of result.dag.tasks) {
          for (const dependency of task.dependencies)
            expect(result.dag.downstream[dependency]).toContain(task.id);
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('cycles', () => {
  const parseCycle = (message: string): string[] => {
    const match = /^dependency cycle: (.+?) \(each task depends on the one before it\)/.exec(message);
    if (match === null) throw new Error(`not a cycle message: ${message}`);
    return match[1]!.split(' → ');
  };

  it('property: for random DAGs with one back edge, a cycle is reported and it is a real cycle', () => {
    // Close a loop of any length: pick a task with descendants and one of its descendants (at
    // any distance), and make the task depend on it.
    const withBackEdge = fc
      .record({
        graph: acyclicGraph.filter(({ edges }) => edges.length > 0),
        pickA: fc.nat(),
        pickB: fc.nat(),
      })
      .map(({ graph: { count, edges }, pickA, pickB }) => {
        const descendants = (start: number): number[] => {
          const seen = new Set<number>();
          const pending = [start];
          while (pending.length > 0) {
            const v = pending.pop()!;
            for (const [from, to] of edges) {
              if (from === v && !seen.has(to)) {
                seen.add(to);
                pending.push(to);
              }
            }
          }
          return [...seen].sort((x, y) => x - y);
        };
        const sources = [...new Set(edges.map(([from]) => from))].sort((x, y) => x - y);
        const a = sources[pickA % sources.length]!;
        const below = descendants(a);
        const b = below[pickB % below.length]!;
        return { count, edges: [...edges, [b, a] as const] };
      });
    fc.assert(
      fc.property(withBackEdge, ({ count, edges }) => {
        const result = parseDag(specYaml(count, edges));
        expect(result.ok).toBe(false);
        if (result.ok) return;
        const cycles = result.issues.filter((issue) => issue.kind === 'cycle');
        expect(cycles.length).toBeGreaterThanOrEqual(1);
        const edgeSet = new Set(edges.map(([a, b]) => `t${a}>t${b}`));
        for (const issue of cycles) {
          const path = parseCycle(issue.message);
          expect(path[0]).toBe(path[path.length - 1]);
          expect(new Set(path.slice(1)).size).toBe(path.length - 1); // simple: no task twice
          for (let i = 0; i + 1 < path.length; i++)
            expect(edgeSet.has(`${path[i]}>${path[i + 1]}`)).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('given a long cycle, then the shortest cycle through the first-declared task is shown', () => {
    // t0 → t1 → t2 → t3 → t0, plus a shortcut t1 → t3.
    const edges = [
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 0],
      [1, 3],
    ] as const;
    const result = parseDag(specYaml(4, edges));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => parseCycle(i.message))).toEqual([['t0', 't1', 't3', 't0']]);
  });

  it('given a 10,000-task ring, then the cycle is found without a stack overflow', () => {
    const count = 10_000;
    const tasks = Array.from({ length: count }, (_, i) => ({
      id: `t${i}`,
      type: 'shell',
      command: 'ls',
      dependencies: [`t${(i + count - 1) % count}`],
    }));
    const result = normalizeDagObject({ name: 'ring', tasks });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toHaveLength(1);
    const path = parseCycle(result.issues[0]!.message);
    expect(path).toHaveLength(count + 1);
    expect(path.slice(0, 3)).toEqual(['t0', 't1', 't2']);
  });
});

describe('graph algorithms', () => {
  it('given a self-loop, then it is its own cycle', () => {
    const graph = buildGraph(2, [0, 1], [1, 1]);
    expect(findCycles(graph)).toEqual([{ path: [1, 1], knot: [1] }]);
  });

  it('given two knots, then components separate them and each gets one cycle', () => {
    const graph = buildGraph(5, [0, 1, 2, 3, 4], [1, 0, 3, 4, 2]);
    const component = stronglyConnectedComponents(graph);
    expect(component[0]).toBe(component[1]);
    expect(component[2]).toBe(component[4]);
    expect(component[0]).not.toBe(component[2]);
    expect(findCycles(graph).map((c) => c.path)).toEqual([
      [0, 1, 0],
      [2, 3, 4, 2],
    ]);
  });

  it('given a cyclic graph, then there is no topological order', () => {
    expect(topologicalOrder(buildGraph(3, [0, 1, 2], [1, 2, 0]))).toBeUndefined();
    expect(topologicalOrder(buildGraph(3, [2, 1], [1, 0]))).toEqual([2, 1, 0]);
  });
});

describe('a large DAG', () => {
  it('given 10,000 tasks and ~50,000 edges, then it validates and orders every task', () => {
    const count = 10_000;
    const tasks = Array.from({ length: count }, (_, i) => ({
      id: `task-${i}`,
      type: 'shell',
      command: `echo ${i}`,
      dependencies: i === 0 ? [] : [1, 2, 3, 5, 8].map((back) => `task-${Math.max(0, i - back)}`),
    }));
    const result = normalizeDagObject({ name: 'large', tasks });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.dag.topologicalOrder).toHaveLength(count);
    expect(result.dag.topologicalOrder.slice(0, 3)).toEqual(['task-0', 'task-1', 'task-2']);
    expect(result.dag.tasks[9]!.dependencies).toEqual(['task-1', 'task-4', 'task-6', 'task-7', 'task-8']);
  });

  it('given 10,000 tasks as YAML, then parseDag accepts them (with a raised size limit)', () => {
    const lines = ['name: large', 'tasks:'];
    for (let i = 0; i < 10_000; i++) {
      const deps = i === 0 ? '' : `, dependencies: [t${i - 1}${i > 1 ? `, t${i - 2}` : ''}]`;
      lines.push(`  - {id: t${i}, type: shell, command: ls${deps}}`);
    }
    const result = parseDag(yaml(...lines), { maxBytes: 4 * 1024 * 1024 });
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.dag.topologicalOrder[9_999]).toBe('t9999');
  }, 60_000);
});
