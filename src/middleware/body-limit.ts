import { bodyLimit } from 'hono/body-limit'
import { WxaAuthError } from '../errors'

export const MAX_BODY_SIZE = 16 * 1024 // bytes

/** Refuses bodies over {@link MAX_BODY_SIZE} (or `maxSize`) with 413 before they are read. */
export const limitBody = (maxSize = MAX_BODY_SIZE) =>
  bodyLimit({
    maxSize,
    onError: () => {
      throw new WxaAuthError('PAYLOAD_TOO_LARGE')
    },
  })
