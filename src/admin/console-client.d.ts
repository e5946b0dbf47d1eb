/** The console's script, as a function of the audit types and the texts; see console-client.js. */
export declare function consoleClient(
  types: readonly string[],
  texts: Record<'en' | 'zh', Record<string, string>>,
): void
