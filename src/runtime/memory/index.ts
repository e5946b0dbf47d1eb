export { memoryAuthority } from './authority'
export { memoryClaims } from './claims'
export { memoryKv } from './kv'
export { memoryRuntime } from './runtime'
