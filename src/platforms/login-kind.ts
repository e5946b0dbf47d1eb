import * as v from 'valibot'

/**
 * A single-use code field of a request body (`wx.login`, `tt.login`, the
 * phone-number button): printable ASCII, no spaces, at most 128 characters.
 */
export const codeField = (description: string) =>
  v.pipe(
    v.string(),
    v.minLength(1),
    v.maxLength(128),
    v.regex(/^[\x21-\x7e]+$/),
    v.description(description),
  )
