import type { OpenApiDocument } from './document'

type Document = OpenApiDocument
type Operation = {
  summary: string
  description?: string
  security: unknown[]
  parameters?: { name: string; description: string; in: string }[]
  requestBody?: { content: Record<string, { schema: unknown }> }
  responses: Record<string, { description: string; content: Record<string, { schema: unknown }> }>
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`)

const json = (value: unknown) => `<pre>${escapeHtml(JSON.stringify(value, null, 2))}</pre>`

/** Each media type's schema; the type named when it is not JSON. */
const bodies = (content: Record<string, { schema: unknown }> | undefined) =>
  Object.entries(content ?? {})
    .map(
      ([type, { schema }]) =>
        `${type === 'application/json' ? '' : `<p><code>${escapeHtml(type)}</code></p>`}${json(schema)}`,
    )
    .join('')

const parameterList = (title: string, parameters: { name: string; description: string }[]) =>
  parameters.length
    ? `<h3>${title}</h3><ul>${parameters.map((p) => `<li><code>${escapeHtml(p.name)}</code>: ${escapeHtml(p.description)}</li>`).join('')}</ul>`
    : ''

/** The human page of the OpenAPI document: every route, body, response and error code. */
export function docsPage(doc: Document): string {
  const sections: string[] = []
  const index: string[] = []
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(operations as Record<string, Operation>)) {
      const id = `${method}-${path}`.replace(/[^\w-]+/g, '-')
      index.push(
        `<li><a href="#${id}"><code>${method.toUpperCase()} ${escapeHtml(path)}</code></a> ${escapeHtml(op.summary)}</li>`,
      )
      const errors = Object.entries(op.responses)
        .filter(([status]) => status !== '200')
        .map(
          ([status, r]) =>
            `<tr><td>${status}</td><td><code>${r.description.split(', ').map(escapeHtml).join('</code>, <code>')}</code></td></tr>`,
        )
        .join('')
      sections.push(`<section id="${id}">
<h2><span class="method ${method}">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code></h2>
<p>${escapeHtml(op.summary)}${op.description ? `. ${escapeHtml(op.description)}` : ''}</p>
<p class="auth">${op.security.length ? 'Needs <code>Authorization: JWT &lt;token&gt;</code>.' : 'No token needed.'}</p>
${parameterList('Path', op.parameters?.filter((p) => p.in === 'path') ?? [])}
${parameterList('Query', op.parameters?.filter((p) => p.in === 'query') ?? [])}
${op.requestBody ? `<h3>Body</h3>${bodies(op.requestBody.content)}` : ''}
<h3>200</h3>${bodies(op.responses['200']?.content)}
<h3>Errors</h3><table><tr><th>status</th><th>code</th></tr>${errors}</table>
</section>`)
    }
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(doc.info.title)} API</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#1d1d1f}
code,pre{font:13px ui-monospace,monospace}pre{background:#f5f5f7;padding:.75rem;overflow:auto;border-radius:6px}
section{border-top:1px solid #ddd;margin-top:2rem}.method{color:#fff;border-radius:4px;padding:0 .4rem;font-size:.8em}
.get{background:#0a7}.post{background:#07c}.patch{background:#c70}.delete{background:#c33}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:left}.auth{color:#555}
</style></head><body>
<h1>${escapeHtml(doc.info.title)} <small>${escapeHtml(doc.info.version)}</small></h1>
<p>${escapeHtml(doc.info.description)} The machine-readable document is <a href="/openapi.json">/openapi.json</a> (OpenAPI ${doc.openapi}).</p>
<ul id="routes">${index.join('')}</ul>
${sections.join('\n')}
</body></html>`
}
