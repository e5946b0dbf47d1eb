// Whether a secret was typed by a person rather than generated: what is left
// of it once the parts a guesser tries first are taken out (words, keyboard
// and alphabet runs, repeats) must still be long.

/** Characters a secret must keep outside words, runs and repeats (and more than half of it). */
export const MIN_UNGUESSABLE_CHARS = 16

/**
 * Common passwords and words (4 letters or more) that people build secrets
 * from; matched in any case and through the usual digit-for-letter swaps.
 */
const WORDS =
  ' password secret admin login user guest test demo example default change token session ' +
  'storage letmein welcome hello world monkey dragon master shadow sunshine princess ' +
  'football iloveyou love trustno freedom whatever superman summer money power super ' +
  'wechat weixin woaini china '
/** The usual digit-for-letter swaps (each digit or sign, then its letter), undone before words are looked up. */
const LEET = '0o1i3e4a5s7t@a$s'
/** Keyboard rows and sequences: a run is a part of one, forwards or backwards. */
const ROWS =
  "0123456789 abcdefghijklmnopqrstuvwxyz 1234567890-= !@#$%^&*()_+ qwertyuiop[] asdfghjkl;' zxcvbnm,./ qazwsxedcrfvtgbyhnujmikolp"
const SWOR = [...ROWS].reverse().join('')
const MIN_RUN = 4 // characters
const MIN_REPEAT = 6 // characters
const LONGEST_WORD = 9 // characters

const isWord = (part: string) => WORDS.includes(` ${part} `)
const isRun = (part: string) =>
  ROWS.includes(part) || SWOR.includes(part) || part === (part[0] as string).repeat(part.length)

/**
 * How many characters of `value` lie outside dictionary words, keyboard and
 * alphabet runs, and repeats of an earlier part. No recursion.
 */
export function unguessableChars(value: string): number {
  const lower = value.toLowerCase()
  const plain = lower.replace(/[013457@$]/g, (c) => LEET[LEET.indexOf(c) + 1] as string)
  const covered = new Uint8Array(value.length)
  for (let i = 0; i < value.length; i++) {
    // The longest run that starts here, and the longest word.
    let end = i + 1
    while (end < value.length && isRun(lower.slice(i, end + 1))) end++
    if (end - i >= MIN_RUN) covered.fill(1, i, end)
    for (end = i + LONGEST_WORD; end > i + 3; end--) {
      if (isWord(lower.slice(i, end)) || isWord(plain.slice(i, end))) {
        covered.fill(1, i, end)
        break
      }
    }
    // A part that already occurred earlier (a repeated half, a repeated unit).
    if (i > 0 && lower.slice(0, i + MIN_REPEAT - 1).includes(lower.slice(i, i + MIN_REPEAT))) {
      if (i + MIN_REPEAT <= value.length) covered.fill(1, i, i + MIN_REPEAT)
    }
  }
  return covered.filter((bit) => bit === 0).length
}

/** Whether `value` is built from what a guesser tries first, rather than generated. */
export function isGuessable(value: string): boolean {
  const left = unguessableChars(value)
  return left < MIN_UNGUESSABLE_CHARS || left * 2 <= value.length
}
