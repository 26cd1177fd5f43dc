/**
 * Rewrites zod's issues as plain English drafts: one per problem (zod can raise two for one
 * value), one per unknown key (zod lists them together), each at a full path from the root.
 */
import type { z } from 'zod';
import {
  type DagIssueKind,
  type DraftIssue,
  describePath,
  describeValue,
  formatPath,
  type PathSegment,
  valueAt,
} from './issues.js';
import type { CheckedIssueParams } from './schema.js';
import { closestMatch, didYouMean, suggestField } from './suggest.js';

/** Where a zod parse happened, so its issues can be given full paths and good hints. */
export interface TranslateContext {
  /** Where the parsed value sits in the whole document, e.g. `['tasks', 3]`. */
  readonly base: readonly PathSegment[];
  /** The value that was parsed, to show users what they wrote. */
  readonly input: unknown;
  /** The keys accepted at a path relative to the parsed value. */
  readonly knownKeys: (path: readonly PathSegment[]) => readonly string[];
  /** A better explanation for an unknown key than "did you mean", if there is one. */
  readonly unknownKeyHint?: (path: readonly PathSegment[], key: string) => string | undefined;
}

const EXPECTED: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

/** Translates every zod issue of one `safeParse`, keeping their order. */
export function translateZodIssues(
  issues: readonly z.core.$ZodIssue[],
  context: TranslateContext,
): DraftIssue[] {
  const drafts: DraftIssue[] = [];
  const seen = new Set<string>();
  const add = (draft: DraftIssue): void => {
    const key = formatPath(draft.path);
    if (seen.has(key)) return;
    seen.add(key);
    drafts.push(draft);
  };
  for (const issue of issues) {
    const relative = issue.path.filter((segment): segment is PathSegment => typeof segment !== 'symbol');
    const path = [...context.base, ...relative];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const hint =
          context.unknownKeyHint?.(relative, key) ??
          didYouMean(suggestField(key, context.knownKeys(relative)));
        add({
          path: [...path, key],
          kind: 'unknown_field',
          at: 'key',
          message: `unknown field '${key}' in ${describePath(path)}${hint}`,
        });
      }
    } else {
      add(translateOne(issue, path, valueAt(context.input, relative)));
    }
  }
  return drafts;
}

function missing(path: readonly PathSegment[]): DraftIssue {
  const parent = path.slice(0, -1);
  return {
    path,
    kind: 'missing_field',
    message: `missing required field '${String(path[path.length - 1])}' in ${describePath(parent)}`,
  };
}

type ValueIssue = Exclude<z.core.$ZodIssue, { code: 'unrecognized_keys' }>;

function translateOne(issue: ValueIssue, path: readonly PathSegment[], input: unknown): DraftIssue {
  const where = describePath(path);
  const draft = (kind: DagIssueKind, message: string): DraftIssue => ({
    path,
    kind,
    message: `${where}: ${message}`,
  });
  switch (issue.code) {
    case 'invalid_type': {
      if (input === undefined) return missing(path);
      const expected = EXPECTED[issue.expected] ?? `a ${issue.expected}`;
      const quoteHint =
        issue.expected === 'string' && (typeof input === 'number' || typeof input === 'boolean')
          ? `; put it in quotes ('${String(input)}') to keep it as text`
          : '';
      return draft('invalid_type', `expected ${expected}, got ${describeValue(input)}${quoteHint}`);
    }
    case 'invalid_value': {
      const allowed = issue.values.map(String);
      const suggestion = typeof input === 'string' ? closestMatch(input, allowed) : undefined;
      const choices = allowed.length === 1 ? `'${allowed[0]}'` : `one of ${allowed.join(', ')}`;
      return draft(
        'invalid_value',
        `${describeValue(input)} is not allowed; use ${choices}${didYouMean(suggestion)}`,
      );
    }
    case 'too_small': {
      const min = Number(issue.minimum);
      if (issue.origin === 'string') {
        return draft(
          'invalid_value',
          min <= 1 ? 'must not be empty' : `must be at least ${min} characters long`,
        );
      }
      if (issue.origin === 'array' || issue.origin === 'set') {
        return draft('invalid_value', `must list at least ${min} item${min === 1 ? '' : 's'}`);
      }
      const bound = issue.inclusive ? 'at least' : 'more than';
      return draft('invalid_value', `must be ${bound} ${min}, got ${describeValue(input)}`);
    }
    case 'too_big': {
      const max = Number(issue.maximum);
      if (issue.origin === 'string') return draft('invalid_value', `must be at most ${max} characters long`);
      if (issue.origin === 'array' || issue.origin === 'set')
        return draft('invalid_value', `must list at most ${max} items`);
      const bound = issue.inclusive ? 'at most' : 'less than';
      return draft('invalid_value', `must be ${bound} ${max}, got ${describeValue(input)}`);
    }
    case 'invalid_key': {
      // A record key failed its own check; that check's message already names the key.
      const inner = issue.issues[0];
      const kind =
        inner?.code === 'custom'
          ? ((inner.params as CheckedIssueParams | undefined)?.kind ?? 'invalid_value')
          : 'invalid_value';
      const parent = describePath(path.slice(0, -1));
      return {
        path,
        kind,
        at: 'key',
        message: `${parent}: ${inner?.message ?? `invalid key ${describeValue(path[path.length - 1])}`}`,
      };
    }
    case 'custom': {
      const params = issue.params as CheckedIssueParams | undefined;
      const kind = params?.kind ?? 'invalid_value';
      if (kind === 'missing_field') return missing(path);
      if (params?.atKey === true) {
        return { path, kind, at: 'key', message: `${describePath(path.slice(0, -1))}: ${issue.message}` };
      }
      return draft(kind, issue.message);
    }
    case 'invalid_format':
      return draft('invalid_value', `${describeValue(input)} is not in the expected format`);
    case 'not_multiple_of':
      return draft('invalid_value', `must be a multiple of ${String(issue.divisor)}`);
    case 'invalid_union':
    case 'invalid_element':
      return draft('invalid_value', `${describeValue(input)} is not allowed here`);
    default: {
      const unexpected: never = issue;
      return draft('invalid_value', `is not valid (${(unexpected as { code: string }).code})`);
    }
  }
}
