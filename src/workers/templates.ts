/**
 * Templates in task definitions: `{{ params.x }}`, `{{ tasks.<id>.output }}` and
 * `{{ tasks.<id>.output.<field>[.<field>…] }}`. Every reference must resolve — an unknown one is
 * an error, never an empty string, because a command that silently lost an argument is worse
 * than one that did not run.
 *
 * How a value is written depends on where it lands (`Quoting`): in a shell command string it
 * becomes one single-quoted word, so no value can inject shell syntax; in a URL it is
 * percent-encoded; elsewhere (argv elements, headers, JSON strings) it is plain text.
 */

/** What a `{{ … }}` refers to. */
export type TemplateReference =
  | { readonly kind: 'param'; readonly name: string }
  | { readonly kind: 'taskOutput'; readonly taskId: string; readonly path: readonly string[] };

/** A template split into literal text and references. */
export type TemplatePart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'reference'; readonly reference: TemplateReference; readonly source: string };

/** The values references resolve against. */
export interface TemplateContext {
  readonly params: Readonly<Record<string, string | number | boolean>>;
  /** Parsed output of each finished upstream task, by task id. */
  readonly upstream: Readonly<Record<string, unknown>>;
}

/**
 * How a substituted value is written: `shell` as a POSIX single-quoted word, `url` with
 * encodeURIComponent, `text` unchanged.
 */
export type Quoting = 'shell' | 'url' | 'text';

/** A template that does not parse or a reference that does not resolve. */
export class TemplateError extends Error {
  constructor(
    message: string,
    readonly source: string,
  ) {
    super(message);
    this.name = 'TemplateError';
  }
}

/** Param names: the DAG allows [A-Za-z_][A-Za-z0-9_]*; `-` passes here too, leaving the stricter rule to the DAG validator. */
const name = /^[A-Za-z_][A-Za-z0-9_-]*$/;
/** One dot-separated segment of a task id or of a field path. */
const segment = /^[A-Za-z0-9_-]+$/;

/** Splits `text` into literal parts and references; throws TemplateError on a malformed `{{`. */
export function parseTemplate(text: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let at = 0;
  while (at < text.length) {
    const open = text.indexOf('{{', at);
    if (open < 0) break;
    if (open > at) parts.push({ kind: 'text', text: text.slice(at, open) });
    const close = text.indexOf('}}', open + 2);
    if (close < 0) throw new TemplateError(`unclosed "{{" at offset ${open}`, text.slice(open));
    const source = text.slice(open, close + 2);
    parts.push({
      kind: 'reference',
      reference: parseReference(text.slice(open + 2, close).trim(), source),
      source,
    });
    at = close + 2;
  }
  if (at < text.length) parts.push({ kind: 'text', text: text.slice(at) });
  return parts;
}

/**
 * Task ids may contain dots (`extract.users`), so the id is every segment up to the first one
 * named `output`: `tasks.extract.users.output.count` is field `count` of task `extract.users`.
 */
function parseReference(expression: string, source: string): TemplateReference {
  const [root, ...rest] = expression.split('.');
  if (root === 'params' && rest.length === 1 && name.test(rest[0]!)) {
    return { kind: 'param', name: rest[0]! };
  }
  const output = rest.indexOf('output');
  if (root === 'tasks' && output > 0 && rest.every((part) => segment.test(part))) {
    return { kind: 'taskOutput', taskId: rest.slice(0, output).join('.'), path: rest.slice(output + 1) };
  }
  throw new TemplateError(
    `${source} is not a reference; expected {{ params.<name> }} or {{ tasks.<id>.output[.<field>…] }}`,
    source,
  );
}

/** Every reference in `text`, e.g. for validating a DAG before it runs. */
export function templateReferences(text: string): TemplateReference[] {
  return parseTemplate(text).flatMap((part) => (part.kind === 'reference' ? [part.reference] : []));
}

/** Renders `text`, writing each value as `quoting` says. Throws TemplateError. */
export function renderTemplate(text: string, context: TemplateContext, quoting: Quoting): string {
  return parseTemplate(text)
    .map((part) => {
      switch (part.kind) {
        case 'text':
          return part.text;
        case 'reference':
          return quote(valueText(resolveReference(part.reference, context, part.source)), quoting);
        default:
          return assertNever(part);
      }
    })
    .join('');
}

/**
 * Renders every string inside a JSON value as text (object keys are left alone). Substituted
 * values become text inside the string they appear in; the value's JSON type is not spliced in.
 */
export function renderJsonTemplate(value: unknown, context: TemplateContext): unknown {
  if (typeof value === 'string') return renderTemplate(value, context, 'text');
  if (Array.isArray(value)) return value.map((item) => renderJsonTemplate(item, context));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, renderJsonTemplate(item, context)]),
    );
  }
  return value;
}

/** Quotes `text` as one POSIX shell word: inside single quotes nothing is special but `'`. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

function quote(text: string, quoting: Quoting): string {
  switch (quoting) {
    case 'shell':
      return shellQuote(text);
    case 'url':
      return encodeURIComponent(text);
    case 'text':
      return text;
    default:
      return assertNever(quoting);
  }
}

/** Resolves a reference; own properties only, so `params.constructor` is unknown, not a function. */
export function resolveReference(
  reference: TemplateReference,
  context: TemplateContext,
  source: string,
): unknown {
  switch (reference.kind) {
    case 'param': {
      if (!Object.hasOwn(context.params, reference.name)) {
        const known = Object.keys(context.params).sort().join(', ') || 'none';
        throw new TemplateError(`${source}: unknown param "${reference.name}" (known: ${known})`, source);
      }
      return context.params[reference.name];
    }
    case 'taskOutput': {
      if (!Object.hasOwn(context.upstream, reference.taskId)) {
        throw new TemplateError(
          `${source}: "${reference.taskId}" is not a finished upstream task of this task`,
          source,
        );
      }
      let value = context.upstream[reference.taskId];
      if (value === undefined)
        throw new TemplateError(`${source}: task "${reference.taskId}" has no output`, source);
      let at = `tasks.${reference.taskId}.output`;
      for (const segment of reference.path) {
        const container = value;
        const has = container !== null && typeof container === 'object' && Object.hasOwn(container, segment);
        if (!has) throw new TemplateError(`${source}: ${at} has no field "${segment}"`, source);
        value = (container as Record<string, unknown>)[segment];
        at = `${at}.${segment}`;
      }
      return value;
    }
    default:
      return assertNever(reference);
  }
}

/** Strings as they are; anything else as its JSON text (`42`, `true`, `null`, `{"a":1}`). */
function valueText(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? 'null');
}

function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}
