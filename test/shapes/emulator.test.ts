// The emulator's Douyin and QQ against the same documentation (docs.ts) as
// the documentation-shaped servers: what they accept, and every answer's shape.
import { describe, expect, it } from 'vitest'
import { emulatorApp } from '../../src/emulator/app'
import { memoryStorage } from '../../src/emulator/storage'
import { EMULATOR_APP_SECRET, EMULATOR_FACES } from '../../src/emulator/stub'
import type { AppClientOptions } from '../../src/platforms/caller'
import { createDouyinClient } from '../../src/platforms/douyin/client'
import { createQQClient } from '../../src/platforms/qq/client'
import {
  DOUYIN_DOC,
  douyinAnswerProblems,
  douyinRequestProblems,
  QQ_DOC,
  qqAnswerProblems,
  qqRequestProblems,
} from './docs'
import type { Received } from './servers'

const DOUYIN = 'tt0000000000emu01'
const QQ = '1100000001'
const emulator = emulatorApp(memoryStorage(), { DOUYIN_APP_ID: DOUYIN, QQ_APP_ID: QQ })

async function control(path: string, body: unknown) {
  const res = await emulator.request(`http://emulator.invalid/__emulator${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  })
  expect(res.status).toBe(200)
  return res.json() as Promise<{ code: string; anonymousCode?: string }>
}

/** A request as the platform would receive it, from a fetch call's arguments. */
async function received(input: Request | string | URL, init?: RequestInit): Promise<Received> {
  const request = new Request(input, init)
  const url = new URL(request.url)
  return {
    method: request.method,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    queryNames: [...url.searchParams.keys()],
    contentType: request.headers.get('content-type') ?? undefined,
    text: await request.text(),
  }
}

/**
 * A client of the Worker's (`create`) for `appId`, its fetch the emulator's
 * `face`; `seen` collects what `problems` finds in each request it sends.
 */
function checkedClient<C>(
  create: (options: AppClientOptions) => C,
  appId: string,
  face: string,
  problems: (req: Received) => string[],
) {
  const seen: string[][] = []
  const fetch = async (input: Request | string | URL, init?: RequestInit) => {
    seen.push(problems(await received(input, init)))
    const url = new URL(String(input))
    return emulator.request(`http://${face}${url.pathname}${url.search}`, init)
  }
  return { seen, client: create({ appId, appSecret: EMULATOR_APP_SECRET, fetch }) }
}

describe("the emulator's Douyin", () => {
  const post = async (body: unknown, contentType = 'application/json') => {
    const res = await emulator.request(`http://${EMULATOR_FACES.douyin}${DOUYIN_DOC.path}`, {
      method: 'POST',
      headers: { 'Content-Type': contentType },
      body: JSON.stringify(body),
    })
    const json = (await res.json()) as { err_no: number; data: Record<string, string> }
    expect(res.status).toBe(200)
    expect(douyinAnswerProblems(json)).toEqual([])
    return json
  }
  const base = { appid: DOUYIN, secret: EMULATOR_APP_SECRET }

  it('answers a documented request as documented, anonymous openid included', async () => {
    const { code, anonymousCode } = await control('/code', { openid: 'dy-1', appId: DOUYIN })
    const answer = await post({ ...base, code, anonymous_code: anonymousCode })
    expect(answer.err_no).toBe(0)
    expect(answer.data).toEqual({
      session_key: expect.stringMatching(/^[A-Za-z0-9+/]{22}==$/),
      openid: 'dy-1',
      anonymous_openid: expect.stringMatching(/.+/),
      unionid: '',
    })
  })

  it('answers each documented err_no where the documentation says', async () => {
    const spent = await control('/code', { openid: 'dy-2', appId: DOUYIN })
    expect((await post({ ...base, code: spent.code })).err_no).toBe(0)
    const fresh = await control('/code', { openid: 'dy-2', appId: DOUYIN })
    const cases: [unknown, number][] = [
      [{ ...base, appid: 'tt00000000000bad', code: fresh.code }, DOUYIN_DOC.errNo.badAppid],
      [{ ...base, secret: 'wrong', code: fresh.code }, DOUYIN_DOC.errNo.badSecret],
      [{ ...base, code: 'no-such-code' }, DOUYIN_DOC.errNo.badCode],
      [{ ...base, code: spent.code }, DOUYIN_DOC.errNo.badCode],
      [{ ...base, code: fresh.code, anonymous_code: 'no-such' }, DOUYIN_DOC.errNo.badAnonymousCode],
      [base, DOUYIN_DOC.errNo.badParams],
    ]
    for (const [body, errNo] of cases)
      expect((await post(body)).err_no, JSON.stringify(body)).toBe(errNo)
    // Not JSON: bad parameters.
    expect((await post({ ...base, code: fresh.code }, 'text/plain')).err_no).toBe(
      DOUYIN_DOC.errNo.badParams,
    )
    await control('/users/dy-2', { platform: 'douyin', fault: 'busy', times: 1 })
    expect((await post({ ...base, code: fresh.code })).err_no).toBe(DOUYIN_DOC.errNo.busy)
    expect((await post({ ...base, code: fresh.code })).err_no).toBe(0)
  })

  it("takes the Worker's client's requests, which are documented ones", async () => {
    const { seen, client } = checkedClient(
      createDouyinClient,
      DOUYIN,
      EMULATOR_FACES.douyin,
      douyinRequestProblems,
    )
    const { code, anonymousCode } = await control('/code', { openid: 'dy-3', appId: DOUYIN })
    const session = await client.code2Session({ code, anonymousCode })
    expect(session).toMatchObject({ openid: 'dy-3', anonymousOpenid: expect.any(String) })
    await expect(client.code2Session({ code })).rejects.toMatchObject({ code: 'CODE_INVALID' })
    expect(seen).toEqual([[], []])
  })
})

describe("the emulator's QQ", () => {
  const get = async (query: Record<string, string>) => {
    const res = await emulator.request(
      `http://${EMULATOR_FACES.qq}${QQ_DOC.path}?${new URLSearchParams(query)}`,
    )
    const json = (await res.json()) as { errcode?: number; openid?: string }
    expect(res.status).toBe(200)
    expect(qqAnswerProblems(json)).toEqual([])
    return json
  }
  const base = { appid: QQ, secret: EMULATOR_APP_SECRET, grant_type: 'authorization_code' }

  it('answers a documented request as documented, and each documented errcode', async () => {
    const { code } = await control('/code', { openid: 'qq-1', appId: QQ })
    const answer = await get({ ...base, js_code: code })
    expect(answer).toEqual({ openid: 'qq-1', session_key: expect.stringMatching(/==$/) })
    expect((await get({ ...base, js_code: code })).errcode).toBe(QQ_DOC.errcode.codeUsed)
    expect((await get({ ...base, js_code: 'no-such' })).errcode).toBe(QQ_DOC.errcode.badCode)
    const fresh = await control('/code', { openid: 'qq-1', appId: QQ })
    expect((await get({ ...base, appid: '1999999999', js_code: fresh.code })).errcode).toBe(
      QQ_DOC.errcode.badAppid,
    )
    await control('/users/qq-1', { platform: 'qq', fault: 'busy', times: 1 })
    expect((await get({ ...base, js_code: fresh.code })).errcode).toBe(QQ_DOC.errcode.busy)
    expect((await get({ ...base, js_code: fresh.code })).openid).toBe('qq-1')
  })

  it("keeps a WeChat code out of QQ's face", async () => {
    const { code } = await control('/code', { openid: 'qq-2' })
    expect((await get({ ...base, js_code: code })).errcode).toBe(QQ_DOC.errcode.badCode)
  })

  it("takes the Worker's client's requests, which are documented ones", async () => {
    const { seen, client } = checkedClient(createQQClient, QQ, EMULATOR_FACES.qq, qqRequestProblems)
    const { code } = await control('/code', { openid: 'qq-3', appId: QQ })
    expect(await client.code2Session(code)).toMatchObject({ openid: 'qq-3' })
    await expect(client.code2Session(code)).rejects.toMatchObject({ code: 'CODE_USED' })
    expect(seen).toEqual([[], []])
  })
})
