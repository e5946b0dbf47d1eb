import type { Logger } from '../../errors'

const RETRY_MS = 10_000 // first retry of failed owed work; doubled from there
const PUT_RETRY_MAX_MS = 10 * 60 * 1000 // 10 minutes: a late put only delays a session's edge copy
const DELETE_RETRY_MAX_MS = 60 * 1000 // 1 minute: until a delete lands, an ended session reads at the edge

/**
 * A Durable Object's one alarm, as the object set it or found it set. Each
 * `setAlarm()` is billed as a SQLite row written, so an alarm already set as
 * early or earlier stays: when it rings, the object sets the next. A retry of
 * owed work that is no longer owed is moved to what is needed.
 */
export class ObjectAlarm {
  #at: number | null = null
  /** Whether the alarm set is a retry of owed work. */
  #retry = false
  /** How long after now owed work is retried. */
  retryMs = RETRY_MS

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly log: () => Logger,
  ) {}

  /** Reads the alarm set, once, when the object starts (no call runs meanwhile). */
  async load() {
    this.#at = await this.storage.getAlarm()
    return this.#at
  }

  /** Owed work was done (`failed` false), or failed: the next retry backs off, less for deletes. */
  tried(failed: boolean, deletes: boolean) {
    const cap = deletes ? DELETE_RETRY_MAX_MS : PUT_RETRY_MAX_MS
    this.retryMs = failed ? Math.min(this.retryMs * 2, cap) : RETRY_MS
  }

  /** The alarm rang: none is set until the object sets the next. */
  rang() {
    this.#at = null
    this.#retry = false
  }

  /**
   * Wants the alarm at `wake` (ms) at the latest; `retry` when owed work is
   * why. With `settled` (owed work was just done), a retry alarm set before
   * and no longer needed is moved to `wake`. No await: in the caller's step.
   */
  arm(wake: number, retry: boolean, settled = false) {
    if (wake === Infinity) return
    const at = this.#at
    if (at !== null && at <= wake && !(settled && this.#retry && !retry)) return
    this.#at = wake
    this.#retry = retry
    this.storage.setAlarm(wake).catch((err: unknown) => {
      if (this.#at === wake) this.#at = null
      this.log().error(`wxa-auth: setting the session object's alarm failed: ${err}`)
    })
  }
}
