import type { PlatformName } from './index'

/**
 * The platform of what names none: WeChat, the one platform of 0.2, whose
 * session records, keys and user ids carry no platform. Said here only: the
 * edges (a session record read, a public function of 0.3) resolve through
 * it, and everything below them takes a platform. A leaf at run time (the
 * registry is imported for its type only), so that the session modules
 * carry no platform's code.
 */
export const platformOf = (given: PlatformName | null | undefined): PlatformName =>
  given ?? 'wechat'
