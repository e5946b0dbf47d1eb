// What the platforms' documentation says of code2Session (as
// ../shared/PLATFORMS.md quotes it): the request a server must send and the
// answers it gets, errors included. The documentation-shaped servers answer
// by it and the emulator is checked against it, so the two cannot drift apart.
import type { Received } from './servers'

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * Douyin: `POST https://developer.toutiao.com/api/apps/v2/jscode2session`, a
 * JSON body `{ appid, secret, code, anonymous_code }` (code or
 * anonymous_code); `{ err_no, err_tips, log_id, data: { session_key, openid,
 * anonymous_openid, unionid } }`, `err_no` 0 for success.
 */
export const DOUYIN_DOC = {
  method: 'POST',
  path: '/api/apps/v2/jscode2session',
  fields: ['appid', 'secret', 'code', 'anonymous_code'],
  errNo: {
    busy: -1,
    badParams: 40014,
    badAppid: 40015,
    badSecret: 40017,
    badCode: 40018,
    badAnonymousCode: 40019,
  },
} as const

/** What is wrong with a request to Douyin's code2Session, by the documentation; [] when nothing. */
export function douyinRequestProblems(req: Received): string[] {
  const problems: string[] = []
  if (req.method !== DOUYIN_DOC.method) problems.push(`method ${req.method}, not POST`)
  if (req.path !== DOUYIN_DOC.path) problems.push(`path ${req.path}`)
  if (!/^application\/json\b/i.test(req.contentType ?? '')) {
    problems.push(`content-type ${req.contentType}, not application/json`)
  }
  if (req.queryNames.length)
    problems.push(`a query (${req.queryNames.join(', ')}): the body carries it all`)
  let body: unknown
  try {
    body = JSON.parse(req.text)
  } catch {
    return [...problems, 'the body is not JSON']
  }
  if (!isObject(body)) return [...problems, 'the body is not a JSON object']
  const unknown = Object.keys(body).filter(
    (k) => !(DOUYIN_DOC.fields as readonly string[]).includes(k),
  )
  if (unknown.length) problems.push(`fields the documentation does not name: ${unknown.join(', ')}`)
  for (const field of ['appid', 'secret']) {
    if (typeof body[field] !== 'string' || body[field] === '') problems.push(`${field} missing`)
  }
  for (const field of ['code', 'anonymous_code']) {
    if (field in body && typeof body[field] !== 'string') problems.push(`${field} is not a string`)
  }
  if (!body.code && !body.anonymous_code) problems.push('neither code nor anonymous_code')
  return problems
}

/** What is wrong with an answer of Douyin's code2Session, by the documentation. */
export function douyinAnswerProblems(body: unknown): string[] {
  if (!isObject(body)) return ['not a JSON object']
  const problems: string[] = []
  if (typeof body.err_no !== 'number') problems.push('err_no is not a number')
  if (typeof body.err_tips !== 'string') problems.push('err_tips is not a string')
  if (typeof body.log_id !== 'string') problems.push('log_id is not a string')
  if (body.err_no === 0) {
    if (!isObject(body.data)) return [...problems, 'data is not an object']
    for (const field of ['session_key', 'openid', 'anonymous_openid', 'unionid']) {
      if (typeof body.data[field] !== 'string') problems.push(`data.${field} is not a string`)
    }
  }
  return problems
}

/**
 * QQ: `GET https://api.q.qq.com/sns/jscode2session?appid&secret&js_code&grant_type=authorization_code`
 * -> `{ errcode, errmsg, openid, session_key, unionid? }`, WeChat's shape and codes.
 */
export const QQ_DOC = {
  method: 'GET',
  path: '/sns/jscode2session',
  query: ['appid', 'grant_type', 'js_code', 'secret'],
  errcode: { busy: -1, badCode: 40029, codeUsed: 40163, rateLimited: 45011, badAppid: 40013 },
} as const

/** What is wrong with a request to QQ's code2Session, by the documentation; [] when nothing. */
export function qqRequestProblems(req: Received): string[] {
  const problems: string[] = []
  if (req.method !== QQ_DOC.method) problems.push(`method ${req.method}, not GET`)
  if (req.path !== QQ_DOC.path) problems.push(`path ${req.path}`)
  const names = [...req.queryNames].sort()
  if (names.join() !== QQ_DOC.query.join()) problems.push(`query parameters ${names.join(', ')}`)
  if (req.query.grant_type !== 'authorization_code')
    problems.push('grant_type is not authorization_code')
  for (const name of ['appid', 'secret', 'js_code']) {
    if (!req.query[name]) problems.push(`${name} is empty`)
  }
  if (req.text !== '') problems.push('a GET with a body')
  return problems
}

/** What is wrong with an answer of QQ's code2Session, by the documentation. */
export function qqAnswerProblems(body: unknown): string[] {
  if (!isObject(body)) return ['not a JSON object']
  const problems: string[] = []
  if (body.errcode !== undefined && typeof body.errcode !== 'number')
    problems.push('errcode is not a number')
  if (typeof body.errcode === 'number' && body.errcode !== 0) {
    if (typeof body.errmsg !== 'string') problems.push('errmsg is not a string')
    return problems
  }
  for (const field of ['openid', 'session_key']) {
    if (typeof body[field] !== 'string' || body[field] === '') problems.push(`${field} missing`)
  }
  if (body.unionid !== undefined && typeof body.unionid !== 'string')
    problems.push('unionid is not a string')
  return problems
}
