/**
 * Runs tasks with at most `max` of them in flight; the rest wait in order.
 * A finished task hands its slot to the next waiting one.
 */
export function limiter(max: number) {
  let active = 0
  const waiting: (() => void)[] = []
  return async function limited<T>(task: () => Promise<T>): Promise<T> {
    if (active < max) active++
    else await new Promise<void>((resolve) => waiting.push(resolve))
    try {
      return await task()
    } finally {
      const next = waiting.shift()
      if (next) next()
      else active--
    }
  }
}
