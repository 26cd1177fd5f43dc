import { describe, expect, it } from 'vitest';
import { issuesOf, onlyIssue, taskA, yaml } from './helpers.js';

describe('graph problems', () => {
  it('given a misspelt dependency, then the closest task id is suggested at the entry', () => {
    const source = yaml(
      'name: p',
      'tasks:',
      '  - {id: extract, type: shell, command: ls}',
      '  - id: load',
      '    type: shell',
      '    command: ls',
      '    dependencies: [extract, extrct]',
    );
    expect(onlyIssue(source)).toEqual({
      kind: 'unknown_dependency',
      path: 'tasks[1].dependencies[1]',
      line: 7,
      column: 29,
      message: "tasks[1].dependencies[1]: unknown task 'extrct'; did you mean 'extract'?",
    });
  });

  it('given a duplicate id, then the second is pointed at and the first one’s line is named', () => {
    const source = yaml(
      'name: p',
      'tasks:',
      '  - id: a',
      '    type: shell',
      '    command: ls',
      '  - id: a',
      '    type: shell',
      '    command: ls',
    );
    expect(onlyIssue(source)).toEqual({
      kind: 'duplicate_task_id',
      path: 'tasks[1].id',
      line: 6,
      column: 9,
      message: "duplicate task id 'a' in tasks[1]; tasks[0] (line 3) already uses it",
    });
  });

  it('given a task that depends on itself, then that entry is reported', () => {
    expect(onlyIssue(taskA('    dependencies: [a]'))).toEqual({
      kind: 'self_dependency',
      path: 'tasks[0].dependencies[0]',
      line: 6,
      column: 20,
      message: "tasks[0].dependencies[0]: task 'a' depends on itself",
    });
  });

  it('given a cycle, then its full path is reported at the dependency that closes it', () => {
    const source = yaml(
      'name: p',
      'tasks:',
      '  - {id: a, type: shell, command: ls, dependencies: [c]}',
      '  - {id: b, type: shell, command: ls, dependencies: [a]}',
      '  - {id: c, type: shell, command: ls, dependencies: [b]}',
      '  - {id: d, type: shell, command: ls, dependencies: [c]}',
    );
    expect(onlyIssue(source)).toEqual({
      kind: 'cycle',
      path: 'tasks[0].dependencies[0]',
      line: 3,
      column: 54,
      message: 'dependency cycle: a → b → c → a (each task depends on the one before it)',
    });
  });

  it('given two separate cycles, then each is reported', () => {
    const source = yaml(
      'name: p',
      'tasks:',
      '  - {id: a, type: shell, command: ls, dependencies: [b]}',
      '  - {id: b, type: shell, command: ls, dependencies: [a]}',
      '  - {id: x, type: shell, command: ls, dependencies: [y]}',
      '  - {id: y, type: shell, command: ls, dependencies: [x]}',
    );
    expect(issuesOf(source).map((i) => [i.path, i.message])).toEqual([
      ['tasks[0].dependencies[0]', 'dependency cycle: a → b → a (each task depends on the one before it)'],
      ['tasks[2].dependencies[0]', 'dependency cycle: x → y → x (each task depends on the one before it)'],
    ]);
  });

  it('given overlapping cycles, then the whole knot of tasks is named', () => {
    const source = yaml(
      'name: p',
      'tasks:',
      '  - {id: a, type: shell, command: ls, dependencies: [c]}',
      '  - {id: b, type: shell, command: ls, dependencies: [a]}',
      '  - {id: c, type: shell, command: ls, dependencies: [b, d]}',
      '  - {id: d, type: shell, command: ls, dependencies: [b]}',
    );
    expect(onlyIssue(source).message).toBe(
      'dependency cycle: a → b → c → a (each task depends on the one before it); 4 tasks are tangled in cycles with each other: a, b, c, d',
    );
  });
});

describe('empty DAGs', () => {
  it.each([
    ['an empty file', '', "the DAG is empty; it needs a 'name' and a list of 'tasks'"],
    ['only a comment', '# nothing yet\n', "the DAG is empty; it needs a 'name' and a list of 'tasks'"],
    ['no tasks field', 'name: p\n', "the DAG has no tasks; add a 'tasks' list with at least one task"],
    ['an empty task list', 'name: p\ntasks: []\n', 'tasks: the list is empty; a DAG needs at least one task'],
  ])('given %s, then the DAG is refused as empty', (_, source, message) => {
    const issue = onlyIssue(source);
    expect([issue.kind, issue.message]).toEqual(['empty_dag', message]);
  });

  it('given tasks as a mapping instead of a list, then the type is reported, not emptiness', () => {
    const issue = onlyIssue(yaml('name: p', 'tasks:', '  a: {type: shell, command: ls}'));
    expect(issue).toEqual({
      kind: 'invalid_type',
      path: 'tasks',
      line: 3,
      column: 3,
      message: 'tasks: expected a list of tasks, got a mapping',
    });
  });

  it('given a top-level list, then it must be a mapping', () => {
    const issue = onlyIssue('- a\n- b\n');
    expect([issue.kind, issue.path, issue.message]).toEqual([
      'invalid_type',
      '',
      "the DAG must be a mapping with 'name' and 'tasks', not a list",
    ]);
  });
});
