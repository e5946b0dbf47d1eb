export * from './auth'
export * from './wechat-data'
