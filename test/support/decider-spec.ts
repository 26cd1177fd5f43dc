/**
 * Given events / when command / then events — decider tests that read like the domain.
 */
import { expect } from 'vitest';
import type { Decider } from '../../src/commands/decider.js';
import { fold } from '../../src/commands/decider.js';

export function deciderSpec<S, C, E extends { type: string; data: unknown }>(decider: Decider<S, C, E>) {
  return {
    given(events: readonly E[]) {
      return {
        when(command: C) {
          const run = () => decider.decide(command, fold(decider, events));
          return {
            // biome-ignore lint/suspicious/noThenProperty: given/when/then is the point of this helper
            then(expected: readonly E[]) {
              expect(run()).toEqual(expected);
            },
            thenNothing() {
              expect(run()).toEqual([]);
            },
            thenThrows(
              errorClass: abstract new (...args: never[]) => Error,
              fields: Record<string, unknown> = {},
            ) {
              let thrown: unknown;
              try {
                run();
              } catch (error) {
                thrown = error;
              }
              expect(thrown).toBeInstanceOf(errorClass);
              expect(thrown).toMatchObject(fields);
            },
          };
        },
      };
    },
  };
}
