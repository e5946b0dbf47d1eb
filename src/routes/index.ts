export * from './auth'
export * from './wechat-data'
export * from './wechat-events'
