export * from './jwt'
export * from './keys'
