export * from './adapters'
export * from './client'
export type { WxaServerCode } from './codes'
export * from './errors'
