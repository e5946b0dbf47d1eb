import { version } from '../package.json'

/** The package's version, as package.json says (the OpenAPI document's `info.version`). */
export const VERSION: string = version
