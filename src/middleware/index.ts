export * from './require-login'
export * from './session'
