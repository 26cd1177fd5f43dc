/**
 * Graph algorithms over nodes `0..n-1` (a task's declaration index), all iterative: DAGs with
 * tens of thousands of tasks exist and recursion would overflow the stack. Edges point from a
 * dependency to the task that depends on it, i.e. in the direction work flows.
 */

/** A directed graph in compressed adjacency form: node v's successors are `targets[offsets[v]..offsets[v+1])`. */
export interface Graph {
  readonly nodeCount: number;
  readonly offsets: Int32Array;
  readonly targets: Int32Array;
}

/** Builds a {@link Graph}; edge i goes from `from[i]` to `to[i]`. Successors keep edge order. */
export function buildGraph(nodeCount: number, from: ArrayLike<number>, to: ArrayLike<number>): Graph {
  const offsets = new Int32Array(nodeCount + 1);
  for (let i = 0; i < from.length; i++) offsets[from[i]! + 1]!++;
  for (let v = 0; v < nodeCount; v++) offsets[v + 1]! += offsets[v]!;
  const fill = offsets.slice(0, nodeCount);
  const targets = new Int32Array(from.length);
  for (let i = 0; i < from.length; i++) targets[fill[from[i]!]!++] = to[i]!;
  return { nodeCount, offsets, targets };
}

/**
 * Strongly connected components (Tarjan's algorithm with an explicit stack). Returns each
 * node's component id; components are numbered in the order Tarjan completes them.
 */
export function stronglyConnectedComponents(graph: Graph): Int32Array {
  const { nodeCount, offsets, targets } = graph;
  const index = new Int32Array(nodeCount).fill(-1);
  const low = new Int32Array(nodeCount);
  const component = new Int32Array(nodeCount).fill(-1);
  const onStack = new Uint8Array(nodeCount);
  const nextEdge = new Int32Array(nodeCount);
  const sccStack: number[] = [];
  const callStack: number[] = [];
  let counter = 0;
  let components = 0;

  for (let root = 0; root < nodeCount; root++) {
    if (index[root] !== -1) continue;
    callStack.push(root);
    index[root] = low[root] = counter++;
    nextEdge[root] = offsets[root]!;
    sccStack.push(root);
    onStack[root] = 1;
    while (callStack.length > 0) {
      const v = callStack[callStack.length - 1]!;
      if (nextEdge[v]! < offsets[v + 1]!) {
        const w = targets[nextEdge[v]!++]!;
        if (index[w] === -1) {
          index[w] = low[w] = counter++;
          nextEdge[w] = offsets[w]!;
          sccStack.push(w);
          onStack[w] = 1;
          callStack.push(w);
        } else if (onStack[w] === 1 && index[w]! < low[v]!) {
          low[v] = index[w]!;
        }
        continue;
      }
      callStack.pop();
      if (low[v] === index[v]) {
        let w: number;
        do {
          w = sccStack.pop()!;
          onStack[w] = 0;
          component[w] = components;
        } while (w !== v);
        components++;
      }
      const parent = callStack[callStack.length - 1];
      if (parent !== undefined && low[v]! < low[parent]!) low[parent] = low[v]!;
    }
  }
  return component;
}

/** A cycle, and the whole knot (strongly connected component) it was found in. */
export interface Cycle {
  /** `[a, b, …, a]`: each node has an edge to the next. */
  readonly path: readonly number[];
  /** Every node of the knot, ascending; more than the cycle when cycles overlap. */
  readonly knot: readonly number[];
}

/**
 * One cycle for every strongly connected component that has one: the shortest cycle through
 * the component's lowest-numbered node, found by breadth-first search inside the component.
 * Enumerating *every* cycle can take exponential time; one per component names each knot.
 * Cycles are ordered by their first node.
 */
export function findCycles(graph: Graph): Cycle[] {
  const { nodeCount, offsets, targets } = graph;
  const component = stronglyConnectedComponents(graph);
  // Most components of a real DAG are single acyclic nodes; list members only for the others.
  const size = new Int32Array(nodeCount);
  for (let v = 0; v < nodeCount; v++) size[component[v]!]!++;
  const members = new Map<number, number[]>();
  for (let v = 0; v < nodeCount; v++) {
    const c = component[v]!;
    if (size[c]! < 2 && !hasEdge(graph, v, v)) continue;
    const list = members.get(c);
    if (list === undefined) members.set(c, [v]);
    else list.push(v);
  }

  const cycles: Cycle[] = [];
  const handled = new Set<number>();
  const parent = new Int32Array(nodeCount).fill(-1);
  for (let start = 0; start < nodeCount; start++) {
    const c = component[start]!;
    const knot = members.get(c);
    if (knot === undefined || handled.has(c)) continue;
    handled.add(c);
    const touched: number[] = [start];
    parent[start] = start;
    const queue = [start];
    let closing = -1;
    for (let head = 0; head < queue.length && closing === -1; head++) {
      const v = queue[head]!;
      for (let e = offsets[v]!; e < offsets[v + 1]!; e++) {
        const w = targets[e]!;
        if (component[w] !== c) continue;
        if (w === start) {
          closing = v;
          break;
        }
        if (parent[w] !== -1) continue;
        parent[w] = v;
        touched.push(w);
        queue.push(w);
      }
    }
    // Walk back from the closing node, then turn the path round to follow the edges. (closing
    // is never -1: every node of a knotted component lies on a cycle.)
    const backwards: number[] = [];
    for (let v = closing; v !== start && v !== -1; v = parent[v]!) backwards.push(v);
    if (closing !== -1) cycles.push({ path: [start, ...backwards.reverse(), start], knot });
    for (const v of touched) parent[v] = -1;
  }
  return cycles;
}

function hasEdge(graph: Graph, from: number, to: number): boolean {
  for (let e = graph.offsets[from]!; e < graph.offsets[from + 1]!; e++)
    if (graph.targets[e] === to) return true;
  return false;
}

/**
 * Kahn's algorithm with a min-heap of ready nodes, so that among tasks that could run next the
 * one declared first comes first: the order depends only on the spec, never on hashing.
 * Returns undefined if the graph has a cycle.
 */
export function topologicalOrder(graph: Graph): number[] | undefined {
  const { nodeCount, offsets, targets } = graph;
  const indegree = new Int32Array(nodeCount);
  for (let e = 0; e < targets.length; e++) indegree[targets[e]!]!++;
  const heap = new MinHeap(nodeCount);
  for (let v = 0; v < nodeCount; v++) if (indegree[v] === 0) heap.push(v);
  const order: number[] = [];
  while (heap.size > 0) {
    const v = heap.pop();
    order.push(v);
    for (let e = offsets[v]!; e < offsets[v + 1]!; e++) {
      const w = targets[e]!;
      if (--indegree[w]! === 0) heap.push(w);
    }
  }
  return order.length === nodeCount ? order : undefined;
}

/** A binary min-heap of small non-negative integers. */
class MinHeap {
  private readonly items: Int32Array;
  size = 0;

  constructor(capacity: number) {
    this.items = new Int32Array(Math.max(capacity, 1));
  }

  push(value: number): void {
    const items = this.items;
    let i = this.size++;
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (items[up]! <= value) break;
      items[i] = items[up]!;
      i = up;
    }
    items[i] = value;
  }

  pop(): number {
    const items = this.items;
    const top = items[0]!;
    const last = items[--this.size]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= this.size) break;
      if (child + 1 < this.size && items[child + 1]! < items[child]!) child++;
      if (items[child]! >= last) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = last;
    return top;
  }
}
