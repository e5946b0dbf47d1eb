/** file -> imported files (relative to the repo) or bare specifiers, type-only imports included */
export function importGraph(root?: string): Map<string, string[]>
/** every cycle found, `a -> b -> a` */
export function cycles(graph: Map<string, string[]>): string[]
/** what `entry` loads, itself included */
export function closure(graph: Map<string, string[]>, entry: string): Set<string>
/** the floor of each file: one above its highest import */
export function floors(graph: Map<string, string[]>): Map<string, number>
/** imports of `src/flows/` or `src/routes/` by `src/platforms/`, `a -> b` */
export function upward(graph: Map<string, string[]>): string[]
/** the values (not types) `file` exports, read from its `export { … }` lines */
export function runtimeExports(file: string): string[]
export const MAX_LINES: number
export const MAX_RUNTIME_EXPORTS: number
