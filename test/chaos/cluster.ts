// What the chaos workload runs against: some edge endpoints and one strict
// endpoint of the same app, sharing their storage, that can be killed all at
// once and started again from what they persisted. The Miniflare cluster
// (miniflare-cluster.ts) is one; the Node server of the same app with Redis,
// as three processes (redis-cluster.ts), another.

/** One server of the cluster, reached over HTTP. */
export interface Endpoint {
  /** As the history names it, e.g. `edge-0`. */
  readonly name: string
  /** Reads every session from its authority on every request (`SESSION_CONSISTENCY=strict`). */
  readonly strict: boolean
  /** Its base URL now; it may change across {@link Cluster.crash}. */
  readonly url: string
}

/** What {@link Cluster.crash} did, on the clock of `performance.now()`. */
export interface Crash {
  /** When the kill was sent. */
  killedAt: number
  /** When every endpoint answered again. */
  restartedAt: number
  /** What was killed, for the log (e.g. `workerd 1234`). */
  killed: string[]
}

export interface Cluster {
  readonly edges: readonly Endpoint[]
  readonly strict: Endpoint
  /**
   * Where the WeChat emulator's control surface (`/__emulator/code`) is, when
   * not on every endpoint (the dev Worker mounts it; a Node server does not).
   */
  readonly emulator?: Endpoint
  /** The settings the servers run with, as the workload may need them. */
  readonly settings: { maxSessions: number; cacheSeconds: number }
  /**
   * Kills every server and every session authority at once (SIGKILL: nothing
   * gets to flush or answer), checks that they are gone, and starts them again
   * from their persisted state. Requests in flight fail.
   */
  crash(): Promise<Crash>
  /**
   * Cuts a link inside the storage some operations before the crash (a
   * partition); the crash then counts from the moment it was cut. Optional.
   */
  partition?(): void
  /** Stops everything and removes what the cluster wrote on disk. */
  dispose(): Promise<void>
}
