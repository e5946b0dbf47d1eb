/**
 * One connection of wxa-auth's own, to the master that holds a key's slot:
 * a plain client's duplicate, a Sentinel lease, a cluster node's duplicate.
 * WATCH on it guards only what its holder reads.
 */
export interface RedisLink {
  send(args: string[]): Promise<unknown>
  /** MULTI … EXEC; throws node-redis's `WatchError` when a watched key changed. */
  exec(commands: string[][]): Promise<unknown[]>
  watch(keys: string[]): Promise<unknown>
  unwatch(): Promise<unknown>
  /**
   * After a write on this link: `WAIT <replicas> <timeout>` when
   * `REDIS_WAIT_REPLICAS` asks for it; fewer confirmations throw
   * `STORAGE_OUTCOME_UNKNOWN` (the change is made, but may not survive a failover).
   */
  replicated(): Promise<void>
}

/** A command Redis did not answer in time (see `DEFAULT_COMMAND_TIMEOUT_MS`). */
export class CommandTimeout extends Error {
  constructor(ms: number) {
    super(`Redis did not answer within ${ms} ms`)
  }
}

/** One connection of a pool: its link, whether it is still open, how to let it go. */
export interface Held {
  link: RedisLink
  open(): boolean
  close(): Promise<unknown>
}

export type Pool = ReturnType<typeof connectionPool>

/**
 * Connections of their own, up to `size`, made when needed and kept:
 * duplicates of a client (one node, a cluster's master), or Sentinel leases
 * (held, since making one is slow; they follow a failover by themselves). A
 * closed one is dropped; one whose command timed out is let go (a failover
 * can strand a command on it for good).
 */
export function connectionPool(size: number, make: () => Promise<Held>) {
  const idle: Held[] = []
  const all = new Set<Held>()
  const waiting: (() => void)[] = []
  return {
    all,
    async use<T>(fn: (link: RedisLink) => Promise<T>): Promise<T> {
      let held: Held | undefined
      for (;;) {
        held = idle.pop()
        if (held || all.size < size) break
        await new Promise<void>((resolve) => waiting.push(resolve))
      }
      if (!held) {
        const placeholder: Held = {
          link: undefined as never,
          open: () => false,
          close: async () => {},
        }
        all.add(placeholder) // counted while it connects
        try {
          held = await make()
        } catch (err) {
          waiting.shift()?.()
          throw err
        } finally {
          all.delete(placeholder)
        }
        all.add(held)
      }
      let stranded = false
      try {
        return await fn(held.link)
      } catch (err) {
        // Callers wrap it (transact.ts's "Redis read failed"): look down the causes.
        for (let e = err; e instanceof Error && !stranded; e = e.cause) {
          stranded = e instanceof CommandTimeout
        }
        throw err
      } finally {
        if (held.open() && !stranded) idle.push(held)
        else {
          all.delete(held)
          if (stranded) void held.close().catch(() => {})
        }
        waiting.shift()?.()
      }
    },
  }
}
