/**
 * "Did you mean …?" suggestions for misspelt field names, enum values and task ids.
 */

/**
 * Optimal-string-alignment distance (Levenshtein plus adjacent transpositions, so `dependecies`
 * is one edit from `dependencies`). Gives up early and returns `max + 1` once every alignment
 * costs more than `max`: callers only care about near misses, and ids can be compared by the
 * thousand.
 */
export function editDistance(a: string, b: string, max = Number.POSITIVE_INFINITY): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  if (a === b) return 0;
  let previous2 = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  let current = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, previous2[j - 2]! + 1);
      }
      current[j] = best;
      if (best < rowMin) rowMin = best;
    }
    if (rowMin > max) return max + 1;
    [previous2, previous, current] = [previous, current, previous2];
  }
  return previous[b.length]!;
}

/** How many edits still count as a typo: one for short words, up to three for long ones. */
function tolerance(word: string): number {
  return Math.min(3, Math.max(1, Math.floor(word.length / 4)));
}

/**
 * The candidate closest to `input` (case-insensitively), if it is close enough to be a typo;
 * failing that, the first candidate that `input` (three letters or more) abbreviates, as in
 * `expo` for `exponential`. Ties go to the earliest candidate, so suggestions are deterministic.
 */
export function closestMatch(input: string, candidates: Iterable<string>): string | undefined {
  const needle = input.toLowerCase();
  const max = tolerance(needle);
  let best: string | undefined;
  let bestDistance = max + 1;
  let abbreviated: string | undefined;
  for (const candidate of candidates) {
    const lower = candidate.toLowerCase();
    const distance = editDistance(needle, lower, bestDistance - 1);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
      if (distance === 0) break;
    }
    if (abbreviated === undefined && needle.length >= 3 && lower.startsWith(needle)) abbreviated = candidate;
  }
  return best ?? abbreviated;
}

/**
 * Names people bring from other tools (Airflow, GitHub Actions, docker-compose); too far from
 * ours by spelling for {@link closestMatch} to find them.
 */
const FIELD_SYNONYMS: Readonly<Record<string, string>> = {
  depends_on: 'dependencies',
  dependson: 'dependencies',
  depends: 'dependencies',
  deps: 'dependencies',
  needs: 'dependencies',
  upstream: 'dependencies',
  requires: 'dependencies',
  retries: 'retry',
  max_retries: 'maxAttempts',
  maxretries: 'maxAttempts',
  attempts: 'maxAttempts',
  delay: 'initialDelay',
  cmd: 'command',
  run: 'command',
  tags: 'labels',
  environment: 'env',
  workdir: 'cwd',
  working_dir: 'cwd',
  workingdir: 'cwd',
  endpoint: 'url',
  payload: 'body',
  data: 'body',
  json: 'body',
  status: 'expectedStatus',
  trigger: 'triggerRule',
  parameters: 'params',
  default_args: 'defaults',
};

/** `max_attempts` / `max-attempts` → `maxAttempts`. */
function toCamelCase(name: string): string {
  return name.replace(/[_-]+([a-zA-Z0-9])/g, (_, letter: string) => letter.toUpperCase());
}

/** A known field the user probably meant by `unknown`, or undefined when nothing is close. */
export function suggestField(unknown: string, known: readonly string[]): string | undefined {
  const synonym = FIELD_SYNONYMS[unknown.toLowerCase()];
  if (synonym !== undefined && known.includes(synonym)) return synonym;
  const camel = toCamelCase(unknown);
  if (camel !== unknown && known.includes(camel)) return camel;
  return closestMatch(unknown, known);
}

/** `; did you mean 'x'?`, or an empty string when there is nothing to suggest. */
export function didYouMean(suggestion: string | undefined): string {
  return suggestion === undefined ? '' : `; did you mean '${suggestion}'?`;
}
