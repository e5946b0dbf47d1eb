// The randomness check of secrets: nothing `openssl rand` prints is refused.
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { MIN_UNGUESSABLE_CHARS, unguessableChars } from '../../src/token/guessable'
import { checkSecret } from '../../src/token/keys'

const DRAWS = 10_000

describe('checkSecret never refuses a generated secret', () => {
  it.each([
    ['openssl rand -base64 32', () => randomBytes(32).toString('base64')],
    ['openssl rand -hex 32', () => randomBytes(32).toString('hex')],
    // WECHAT_EVENT_TOKEN: 32 letters or digits.
    ['openssl rand -hex 16', () => randomBytes(16).toString('hex')],
    ['base64url of 32 bytes', () => randomBytes(32).toString('base64url')],
  ])(`%s, ${DRAWS} draws`, (_, draw) => {
    let least = Number.POSITIVE_INFINITY
    for (let i = 0; i < DRAWS; i++) {
      const value = draw()
      expect(() => checkSecret('JWT_SECRET', value), value).not.toThrow()
      least = Math.min(least, unguessableChars(value))
    }
    // The margin: the fewest characters left outside words, runs and repeats.
    expect(least).toBeGreaterThanOrEqual(MIN_UNGUESSABLE_CHARS)
    expect(least * 2).toBeGreaterThan(draw().length)
    console.log(`${_}: at least ${least} of ${draw().length} characters unguessable`)
  })
})
