/**
 * The coordination port: leader election (with a term that fences decisions) and, later, the
 * worker registry, locks and watches. Two adapters: in-process for `dagrun standalone` and
 * `dagrun run`, etcd for distributed deployments. Never a home-made consensus.
 */
export interface Leadership {
  /** Strictly greater than the term of every earlier leader of the same log. */
  readonly term: number;
  /** Resolves when leadership is lost (lease expired, resigned, deposed). */
  readonly lost: Promise<void>;
  resign(): Promise<void>;
}

export interface Coordination {
  /** Waits until this candidate leads. */
  campaign(candidateId: string, signal?: AbortSignal): Promise<Leadership>;
  close(): Promise<void>;
}
