// What a child `npm ci` needs from this machine to reach the registry: a
// proxy, or a TLS-inspecting proxy's CA (NODE_EXTRA_CA_CERTS; npm runs on
// Node's TLS). The tests that replay a recipe give their children a bare
// environment, and npm's own config (the user's .npmrc, the global npmrc of
// the npm on PATH) may not be the one that names the CA.
const PASSED = [
  'NODE_EXTRA_CA_CERTS',
  'HTTPS_PROXY',
  'HTTP_PROXY',
  'NO_PROXY',
  'https_proxy',
  'http_proxy',
  'no_proxy',
  'npm_config_registry',
]

export function registryEnv(): Record<string, string> {
  const env: Record<string, string> = {}
  for (const name of PASSED) {
    const value = process.env[name]
    if (value) env[name] = value
  }
  // npm takes the CA file NODE_EXTRA_CA_CERTS names as its own too.
  if (env.NODE_EXTRA_CA_CERTS) env.npm_config_cafile = env.NODE_EXTRA_CA_CERTS
  return env
}
