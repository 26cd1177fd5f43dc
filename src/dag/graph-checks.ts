/**
 * Checks on the dependency graph: duplicate ids, self-dependencies, unknown dependencies and
 * cycles. They run on the tasks as written, even when some are invalid in other ways, so that a
 * user sees a misspelt dependency and a bad timeout in one go.
 */
import { buildGraph, type Cycle, findCycles, topologicalOrder } from './graph.js';
import { type DraftIssue, describePath, type PathSegment } from './issues.js';
import { closestMatch, didYouMean } from './suggest.js';

/** What {@link checkGraph} found. */
export interface GraphCheckResult {
  readonly issues: readonly DraftIssue[];
  /** Task indexes in topological order; present when the graph has no problem. */
  readonly order?: readonly number[];
}

/** Suggestions compare a name with every task id; past this many, stop suggesting (10k ids each). */
const SUGGESTION_BUDGET = 100;
/** A knot of tasks is listed in full up to this many names. */
const LISTED_KNOT_TASKS = 10;

const dependenciesOf = (task: unknown): readonly unknown[] => {
  if (task === null || typeof task !== 'object') return [];
  const deps = (task as Record<string, unknown>)['dependencies'];
  return Array.isArray(deps) ? deps : [];
};

const idOf = (task: unknown): string | undefined => {
  if (task === null || typeof task !== 'object') return undefined;
  const id = (task as Record<string, unknown>)['id'];
  return typeof id === 'string' ? id : undefined;
};

/**
 * @param lineOf the source line of a path, to tell users where a first definition is.
 */
export function checkGraph(
  tasks: readonly unknown[],
  lineOf: (path: readonly PathSegment[]) => number | undefined,
): GraphCheckResult {
  const issues: DraftIssue[] = [];
  // Node numbers follow declaration order; a duplicated id keeps its first task.
  const nodeOf = new Map<string, number>();
  const taskOfNode: number[] = [];
  const ids = tasks.map(idOf);
  ids.forEach((id, index) => {
    if (id === undefined) return;
    const first = nodeOf.get(id);
    if (first === undefined) {
      nodeOf.set(id, taskOfNode.length);
      taskOfNode.push(index);
      return;
    }
    const firstPath = ['tasks', taskOfNode[first]!, 'id'];
    const line = lineOf(firstPath);
    const where = `${describePath(firstPath.slice(0, 2))}${line === undefined ? '' : ` (line ${line})`}`;
    issues.push({
      path: ['tasks', index, 'id'],
      kind: 'duplicate_task_id',
      message: `duplicate task id '${id}' in tasks[${index}]; ${where} already uses it`,
    });
  });

  const from: number[] = [];
  const to: number[] = [];
  let suggestions = 0;
  tasks.forEach((task, index) => {
    const id = ids[index];
    const node = id === undefined ? undefined : nodeOf.get(id);
    const isFirst = node !== undefined && taskOfNode[node] === index;
    dependenciesOf(task).forEach((dependency, position) => {
      if (typeof dependency !== 'string') return; // reported by the shape checks
      const upstream = nodeOf.get(dependency);
      if (upstream !== undefined && upstream !== node) {
        if (isFirst) {
          from.push(upstream);
          to.push(node);
        }
        return;
      }
      const path = ['tasks', index, 'dependencies', position];
      if (dependency === id) {
        const message = `${describePath(path)}: task '${id}' depends on itself`;
        issues.push({ path, kind: 'self_dependency', message });
      } else if (upstream === undefined) {
        const suggestion =
          suggestions++ < SUGGESTION_BUDGET ? closestMatch(dependency, nodeOf.keys()) : undefined;
        const message = `${describePath(path)}: unknown task '${dependency}'${didYouMean(suggestion)}`;
        issues.push({ path, kind: 'unknown_dependency', message });
      }
    });
  });

  const graph = buildGraph(taskOfNode.length, from, to);
  const idOfNode = (node: number): string => ids[taskOfNode[node]!]!;
  const cycles = findCycles(graph);
  for (const issue of cycleIssues(cycles, tasks, taskOfNode, idOfNode)) issues.push(issue);
  if (issues.length > 0) return { issues };
  const order = topologicalOrder(graph);
  return { issues, order: order?.map((node) => taskOfNode[node]!) };
}

function cycleIssues(
  cycles: readonly Cycle[],
  tasks: readonly unknown[],
  taskOfNode: readonly number[],
  idOfNode: (node: number) => string,
): DraftIssue[] {
  return cycles.map(({ path: cycle, knot }) => {
    const start = cycle[0]!;
    const closing = cycle[cycle.length - 2]!;
    const startTask = taskOfNode[start]!;
    // Point at the dependency that closes the cycle, in the knot's first-declared task.
    const position = dependenciesOf(tasks[startTask]).indexOf(idOfNode(closing));
    const path = ['tasks', startTask, 'dependencies', position];
    const text = cycle.map(idOfNode).join(' → ');
    // Breaking the cycle shown may leave another in the same knot, so name the whole knot.
    const listed = knot.slice(0, LISTED_KNOT_TASKS).map(idOfNode).join(', ');
    const more = knot.length > LISTED_KNOT_TASKS ? ', …' : '';
    const knotText =
      knot.length <= cycle.length - 1
        ? ''
        : `; ${knot.length} tasks are tangled in cycles with each other: ${listed}${more}`;
    return {
      path,
      kind: 'cycle',
      message: `dependency cycle: ${text} (each task depends on the one before it)${knotText}`,
    };
  });
}
