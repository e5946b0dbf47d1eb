/** How deep session data may nest: objects and arrays inside one another. */
export const MAX_SESSION_DEPTH = 32 // levels
/** How many keys and array elements session data may hold, at every level together. */
export const MAX_SESSION_KEYS = 1_000

/**
 * Whether `value` (a JSON value) nests deeper than `maxDepth` or holds more
 * than `maxKeys` keys and elements in all. Iterative, so that data nested
 * thousands of levels deep is measured rather than overflowing the stack; it
 * stops as soon as a limit is passed.
 */
export function exceedsShape(
  value: unknown,
  maxDepth = MAX_SESSION_DEPTH,
  maxKeys = MAX_SESSION_KEYS,
): boolean {
  const stack: [unknown, number][] = [[value, 0]]
  let keys = 0
  while (stack.length > 0) {
    const [item, depth] = stack.pop() as [unknown, number]
    if (typeof item !== 'object' || item === null) continue
    if (depth >= maxDepth) return true
    const children = Array.isArray(item) ? item : Object.values(item)
    keys += children.length
    if (keys > maxKeys) return true
    for (const child of children) stack.push([child, depth + 1])
  }
  return false
}
