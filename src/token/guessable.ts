// Whether a secret was typed by a person rather than generated: what is left
// of it once the parts a guesser tries first are taken out (words, keyboard
// and alphabet runs, repeats) must still be long.

/** Characters a secret must keep outside words, runs and repeats (and more than half of it). */
export const MIN_UNGUESSABLE_CHARS = 16

/**
 * Common passwords and English words (4 letters or more) that people build
 * secrets from; matched in any case and through the usual digit-for-letter swaps.
 */
const WORDS = new Set(
  (
    'password passwd pass word secret secure security private public admin administrator root ' +
    'user username login logon signin guest test testing tester demo sample example default ' +
    'changeme change replace value string random token session storage jwtsecret signing ' +
    'letmein welcome hello world monkey dragon master shadow sunshine princess football ' +
    'baseball soccer hockey basketball iloveyou love lover trustno freedom whatever ninja ' +
    'superman batman spiderman starwars pokemon mustang ranger hunter killer buster tigger ' +
    'charlie michael jennifer jordan jessica thomas andrew daniel joshua william george ' +
    'robert matthew ashley amanda maggie ginger pepper cookie chicken cheese coffee summer ' +
    'winter spring autumn flower purple orange yellow green black white silver golden ' +
    'diamond money lucky happy magic power super internet computer server service system ' +
    'network office company manager access matrix qazwsx zaq1 asdf zxcv qwer 1q2w3e ' +
    'wechat weixin miniprogram douyin toutiao tencent alipay china beijing shanghai ' +
    'woaini nihao aini zhang wang huang xiaoming cloud cloudflare worker wrangler redis ' +
    'node hono github google apple microsoft facebook amazon production staging develop ' +
    'development local localhost key keys apikey about after again another because before ' +
    'being between house place people little great there their these those which where ' +
    'while would could should think thing first second third other never every under ' +
    'over year time work life good best open close sesame dark light night star moon fire ' +
    'earth heart angel music movie game player code data mobile phone email mail online ' +
    'blue pink rain snow tree bird fish horse tiger lion bear eagle wolf king queen prince ' +
    'rock paper music party dance beach sweet honey baby girl boyfriend girlfriend family ' +
    'friend friends forever family hello123 abc123 welcome1 letmein1 qwerty123'
  )
    .split(' ')
    .filter((word) => word.length >= 4),
)
const LONGEST_WORD = Math.max(...[...WORDS].map((word) => word.length))

/** Rows and sequences a run is read along, forwards or backwards. */
const RUNS = [
  '0123456789',
  'abcdefghijklmnopqrstuvwxyz',
  '1234567890-=',
  '!@#$%^&*()_+',
  'qwertyuiop[]',
  "asdfghjkl;'",
  'zxcvbnm,./',
  'qazwsxedcrfvtgbyhnujmikolp',
]
const MIN_RUN = 4 // characters
const MIN_REPEAT = 6 // characters

/** The usual digit-for-letter swaps, undone before words are looked up. */
const LEET: Record<string, string> = {
  '0': 'o',
  '1': 'i',
  '3': 'e',
  '4': 'a',
  '5': 's',
  '7': 't',
  '@': 'a',
  $: 's',
}

/**
 * The ways `b` follows `a`: a row of {@link RUNS} and a direction, as
 * `row * 2 + (backwards ? 1 : 0)`, or -1 for the same character.
 */
function steps(a: string, b: string): number[] {
  if (a === b) return [-1]
  const found: number[] = []
  RUNS.forEach((row, r) => {
    const i = row.indexOf(a)
    if (i < 0) return
    if (row[i + 1] === b) found.push(r * 2)
    if (i > 0 && row[i - 1] === b) found.push(r * 2 + 1)
  })
  return found
}

/**
 * How many characters of `value` lie outside dictionary words, keyboard and
 * alphabet runs, and repeats of an earlier part. Linear in the length (times
 * the longest word), without recursion.
 */
export function unguessableChars(value: string): number {
  const lower = value.toLowerCase()
  const plain = Array.from(lower, (char) => LEET[char] ?? char).join('')
  const covered = new Uint8Array(value.length)
  const cover = (from: number, to: number) => covered.fill(1, from, to)
  for (let i = 0; i < value.length; i++) {
    for (let end = Math.min(value.length, i + LONGEST_WORD); end >= i + 4; end--) {
      if (WORDS.has(lower.slice(i, end)) || WORDS.has(plain.slice(i, end))) {
        cover(i, end)
        break
      }
    }
  }
  // Runs: every step along the same row in the same direction (or the same character).
  for (let start = 0; start + 1 < lower.length; start++) {
    let ways = steps(lower[start] as string, lower[start + 1] as string)
    let end = start + 2
    for (; ways.length > 0 && end < lower.length; end++) {
      const next = steps(lower[end - 1] as string, lower[end] as string)
      ways = ways.filter((way) => next.includes(way))
      if (ways.length === 0) break
    }
    if (end - start >= MIN_RUN) cover(start, end)
  }
  // Repeats: a part that already occurred earlier (a repeated half, a repeated unit).
  for (let i = 1; i + MIN_REPEAT <= lower.length; i++) {
    if (lower.slice(0, i + MIN_REPEAT - 1).includes(lower.slice(i, i + MIN_REPEAT))) {
      cover(i, i + MIN_REPEAT)
    }
  }
  return covered.length - covered.reduce((sum, bit) => sum + bit, 0)
}

/** Whether `value` is built from what a guesser tries first, rather than generated. */
export function isGuessable(value: string): boolean {
  const left = unguessableChars(value)
  return left < MIN_UNGUESSABLE_CHARS || left * 2 <= value.length
}
