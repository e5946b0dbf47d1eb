export * from './emulator'
export * from './stub'
