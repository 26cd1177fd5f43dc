/**
 * What a plain (unquoted) scalar means under the YAML 1.2 core schema, decided by the `yaml`
 * library's own core tags: the reader that locates issues (yaml-safety.ts) resolves scalars with
 * exactly these, so the fast path compares js-yaml's reading against them and gives up where the
 * two disagree (see yaml-fast-path.ts).
 */
import { isScalar, type ParseOptions, type ScalarTag, Schema } from 'yaml';

// The tags the composer tries on a plain scalar, in its order (compose-scalar.js: the first
// default tag whose test matches; `merge` is off, so no tag is a default for keys only).
const CORE_TAGS: readonly ScalarTag[] = new Schema({ schema: 'core' }).tags.filter(
  (tag): tag is ScalarTag => tag.collection === undefined && tag.default === true && tag.test !== undefined,
);
// The composer's defaults, as far as the core tags read them (only `intAsBigInt` is).
const RESOLVE_OPTIONS: ParseOptions = { intAsBigInt: false };
const ignore = (): void => {};

/** Every core-schema number starts with one of these. */
const NUMBER_STARTS = '0123456789+-.';
/** And `~`, and `null`, `true`, `false` in their three spellings, with one of these. */
const WORD_STARTS = '~nNtTfF';

/**
 * Whether a plain scalar can resolve to anything but a string, in either library: a number, or
 * one of the words, which are at most five characters long. Both libraries share these facts, so
 * a scalar outside this set is the same string in both, and need not be compared.
 */
export function mayResolveToNonString(text: string): boolean {
  const first = text.charAt(0);
  return NUMBER_STARTS.includes(first) || (text.length <= 5 && WORD_STARTS.includes(first));
}

/** The value of a plain scalar whose text is `text`, as the `yaml` library's core schema reads it. */
export function coreScalarValue(text: string): unknown {
  for (const tag of CORE_TAGS) {
    if (tag.test!.test(text)) {
      const resolved = tag.resolve(text, ignore, RESOLVE_OPTIONS);
      return isScalar(resolved) ? resolved.value : resolved;
    }
  }
  return text;
}
