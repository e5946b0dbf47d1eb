export * from './access-token'
export * from './client'
export * from './crypto'
