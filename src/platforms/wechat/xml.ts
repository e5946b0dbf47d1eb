/**
 * A field of a WeChat XML message: text, or (one level down) a group of
 * text fields.
 */
export type XmlField = string | { readonly [name: string]: string }

const MAX_FIELDS = 64 // per element
const NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}/
const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }
const DECLARATION =
  /^<\?xml(?:\s+(?:version|encoding|standalone)\s*=\s*(?:"[^"<>]*"|'[^'<>]*'))*\s*\?>/

/** Thrown for anything outside the shape WeChat sends; the message says what (never the text). */
export class XmlShapeError extends Error {
  override readonly name = 'XmlShapeError'
}

/**
 * Reads WeChat's flat XML message: `<xml><Tag><![CDATA[text]]></Tag><N>1</N>…</xml>`,
 * with elements one level deeper when a field is a group. Strict on purpose,
 * since it reads what strangers post: no attributes, comments, DOCTYPE,
 * processing instructions (but a leading `<?xml …?>`), self-closing tags,
 * mixed content, repeated names or deeper nesting; entities only the five
 * predefined ones and character references. It never fetches or expands
 * anything.
 *
 * @returns the fields of `<xml>` by name
 * @throws XmlShapeError when the text is not of that shape
 * @example
 * ```ts
 * parseWeChatXml('<xml><Event><![CDATA[user_info_modified]]></Event></xml>') // { Event: 'user_info_modified' }
 * ```
 */
export function parseWeChatXml(text: string): Record<string, XmlField> {
  let at = 0
  const fail = (why: string): never => {
    throw new XmlShapeError(`XML: ${why} at ${at}`)
  }
  const skipSpace = () => {
    while (at < text.length && ' \t\r\n'.includes(text[at] as string)) at++
  }
  const expect = (literal: string) => {
    if (!text.startsWith(literal, at)) fail(`expected ${literal}`)
    at += literal.length
  }
  const name = () => {
    const match = NAME.exec(text.slice(at, at + 64))
    if (!match) return fail('expected a tag name')
    at += match[0].length
    return match[0]
  }
  const open = () => {
    expect('<')
    const tag = name()
    if (text[at] !== '>') fail(`<${tag}> may have no attributes and must not be self-closing`)
    at++
    return tag
  }
  const close = (tag: string) => expect(`</${tag}>`)

  const decode = (raw: string) =>
    raw.replace(
      /&(#x[0-9A-Fa-f]{1,6}|#[0-9]{1,7}|[a-z]+);|&/g,
      (whole, ref: string | undefined) => {
        if (ref === undefined) return fail('a bare &')
        if (ref.startsWith('#')) {
          const code = ref[1] === 'x' ? Number.parseInt(ref.slice(2), 16) : Number(ref.slice(1))
          if (code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
            return fail('a bad character reference')
          }
          return String.fromCodePoint(code)
        }
        return ENTITIES[ref] ?? fail(`the entity ${whole}`)
      },
    )

  /** The text of an element whose `<Tag>` was read: one CDATA section, or plain text. */
  const textContent = (tag: string): string => {
    const start = at
    skipSpace()
    if (text.startsWith('<![CDATA[', at)) {
      at += 9
      const end = text.indexOf(']]>', at)
      if (end < 0) fail('an unterminated CDATA section')
      const value = text.slice(at, end)
      at = end + 3
      skipSpace()
      close(tag)
      return value
    }
    at = start
    const end = text.indexOf('<', at)
    if (end < 0) fail(`</${tag}> is missing`)
    const raw = text.slice(at, end)
    if (raw.includes('>') || raw.includes(']]>')) fail('a stray >')
    at = end
    close(tag)
    return decode(raw)
  }

  /** The children of an element whose `<Tag>` was read, up to and including `</Tag>`. */
  const children = <T>(tag: string, child: (name: string) => T): Record<string, T> => {
    const fields = new Map<string, T>()
    for (;;) {
      skipSpace()
      if (text.startsWith('</', at)) break
      if (!text.startsWith('<', at)) fail(`text beside elements in <${tag}>`)
      if (text.startsWith('<!', at) || text.startsWith('<?', at)) {
        fail('a comment, DOCTYPE, CDATA or processing instruction out of place')
      }
      const field = open()
      if (fields.has(field)) fail(`<${field}> twice`)
      if (fields.size >= MAX_FIELDS) fail('too many fields')
      fields.set(field, child(field))
    }
    close(tag)
    // fromEntries defines own properties: a field named __proto__ stays a field.
    return Object.fromEntries(fields)
  }

  /** A field of `<xml>`: text, or a group of text fields. */
  const field = (tag: string): XmlField => {
    const start = at
    skipSpace()
    const group =
      text.startsWith('<', at) && !text.startsWith('</', at) && !text.startsWith('<![CDATA[', at)
    at = start
    return group ? children(tag, textContent) : textContent(tag)
  }

  const declaration = DECLARATION.exec(text)
  if (declaration) at = declaration[0].length
  skipSpace()
  if (open() !== 'xml') fail('the root must be <xml>')
  const root = children('xml', field)
  skipSpace()
  if (at !== text.length) fail('text after </xml>')
  return root
}
