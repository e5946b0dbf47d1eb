export * from './session'
export * from './store'
