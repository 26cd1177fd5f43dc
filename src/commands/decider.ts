/**
 * A decider is the pure heart of a command: fold the stream's events into state (`evolve`), then
 * turn a command into new events (`decide`). No I/O, no clock, no randomness — `now` and ids come
 * in with the command.
 */
export interface Decider<State, Command, Event extends { type: string; data: unknown }> {
  readonly initialState: () => State;
  readonly evolve: (state: State, event: Event) => State;
  /** Returns the events to append; an empty array means "nothing to do" (an idempotent no-op). */
  readonly decide: (command: Command, state: State) => Event[];
}

export function fold<State, Event extends { type: string; data: unknown }>(
  decider: Pick<Decider<State, never, Event>, 'initialState' | 'evolve'>,
  events: readonly Event[],
): State {
  return events.reduce(decider.evolve, decider.initialState());
}
