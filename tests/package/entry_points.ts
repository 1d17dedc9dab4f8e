/**
 * The public names of each entry point, as a snapshot: adding or removing a name is a
 * change to the API, made here on purpose (and in the docs), never by accident.
 */

/** An entry point: its package subpath, its source file, and what it exports. */
export interface EntryPoint {
  /** The npm specifier (`wsport`, `wsport/core`, ...). */
  readonly specifier: string;
  /** Its module at the repository's root. */
  readonly file: string;
  /** Names that exist at run time (classes, functions, constants). */
  readonly values: readonly string[];
  /** Names that are types only. */
  readonly types: readonly string[];
}

/** Every entry point, as package.json and deno.json map them. */
export const ENTRY_POINTS: readonly EntryPoint[] = [
  {
    specifier: "wsport",
    file: "mod.ts",
    values: [
      "CloseCode",
      "DEFAULT_LIMITS",
      "WebSocketHandler",
      "WebSocketSite",
      "files",
      "prometheusText",
      "serve",
    ],
    types: [
      "AdapterName",
      "Backplane",
      "BunWebSocketHandlers",
      "CloseInfo",
      "DeflateOptions",
      "FilesOptions",
      "HandlerClass",
      "HandshakeOptions",
      "HttpHandler",
      "LifecycleEvent",
      "Limits",
      "NodeServer",
      "PublishOptions",
      "ReplayOptions",
      "RouteOptions",
      "RouteStats",
      "ServeOptions",
      "Server",
      "SiteOptions",
      "SiteStats",
      "TlsOptions",
      "SubscribeOptions",
      "Transport",
    ],
  },
  {
    specifier: "wsport/core",
    file: "core.ts",
    values: [
      "CloseCode",
      "Connection",
      "DEFAULT_LIMITS",
      "FrameParser",
      "GUID",
      "HandshakeError",
      "Opcode",
      "Utf8Validator",
      "WebSocketError",
      "acceptHeaders",
      "buildFrame",
      "checkHandshake",
      "computeAccept",
      "decodeUtf8",
      "negotiatePerMessageDeflate",
      "resolveLimits",
    ],
    types: [
      "BuildFrameOptions",
      "CloseInfo",
      "CloseStatus",
      "ConnectionEvent",
      "ConnectionOptions",
      "ConnectionState",
      "DeflateOptions",
      "Frame",
      "FrameHeader",
      "FrameParserOptions",
      "HandshakeAcceptance",
      "HandshakeOptions",
      "HandshakeRequest",
      "Limits",
      "MessageCodec",
      "PerMessageDeflateAgreement",
    ],
  },
  {
    specifier: "wsport/node",
    file: "node.ts",
    values: ["createUpgradeHandler", "serveNode"],
    types: ["UpgradeHandler"],
  },
  { specifier: "wsport/deno", file: "deno.ts", values: ["serveDeno"], types: [] },
  { specifier: "wsport/bun", file: "bun.ts", values: ["serveBun"], types: [] },
  {
    specifier: "wsport/redis",
    file: "redis.ts",
    values: ["RedisBackplane", "RedisStreamsBackplane", "TrimmedError"],
    types: [
      "BackplaneStatus",
      "LifecycleOptions",
      "RedisBackplaneOptions",
      "RedisPubSub",
      "RedisStreamCommands",
      "RedisStreamsBackplaneOptions",
      "StreamRetention",
    ],
  },
  {
    specifier: "wsport/workers",
    file: "workers.ts",
    values: ["CloseCode", "DEFAULT_LIMITS", "WebSocketHandler", "WebSocketSite", "webSocketObject"],
    types: [
      "CloseInfo",
      "HandlerClass",
      "HttpHandler",
      "Limits",
      "PublishOptions",
      "RouteOptions",
      "SiteOptions",
      "Transport",
      "WebSocketObject",
      "WebSocketObjectClass",
      "WebSocketObjectOptions",
      "WebSocketObjectState",
      "WorkersWebSocket",
    ],
  },
];

/**
 * The names a module's source exports, read from its `export { ... } from` and
 * `export type { ... } from` statements: `values` and `types` apart. Any other form of
 * export (`export *`, a declaration) is returned in `other`, since an entry point must
 * name what it exports.
 */
export function exportedNames(source: string): {
  values: string[];
  types: string[];
  other: string[];
} {
  const values: string[] = [];
  const types: string[] = [];
  const other: string[] = [];
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  for (const match of code.matchAll(/\bexport\b([^;]*);/g)) {
    const clause = match[1].trim();
    const named = /^(type\s+)?\{([^}]*)\}\s*from\s*["'][^"']+["']$/.exec(clause);
    if (named === null) {
      other.push(`export ${clause}`);
      continue;
    }
    const allTypes = named[1] !== undefined;
    for (const item of named[2].split(",").map((part) => part.trim()).filter(Boolean)) {
      const typeOnly = allTypes || item.startsWith("type ");
      const name = item.replace(/^type\s+/, "").split(/\s+as\s+/).at(-1)!;
      (typeOnly ? types : values).push(name);
    }
  }
  return { values: values.sort(), types: types.sort(), other };
}
