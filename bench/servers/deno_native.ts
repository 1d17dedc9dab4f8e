/**
 * The native Deno peer: `Deno.serve` and `Deno.upgradeWebSocket`, echo at `/echo` and a
 * loop over every open socket at `/broadcast`. With the argument `heartbeat`, each socket
 * gets the `idleTimeout` (40 s) that wsport's Deno.serve adapter maps its default
 * heartbeat to: Deno then restarts a timer on every message it receives. Prints
 * `{"port":N}` once it listens.
 *
 *     deno run -A bench/servers/deno_native.ts
 *     deno run -A bench/servers/deno_native.ts heartbeat
 *
 * @module
 */

/** The slice of Deno's WebSocket this server uses. */
interface DenoSocket {
  binaryType: "arraybuffer" | "blob";
  onopen: (() => void) | null;
  onmessage: ((event: { data: string | ArrayBuffer }) => void) | null;
  onclose: (() => void) | null;
  send(data: string | ArrayBuffer): void;
}

/** The slice of the `Deno` namespace this server uses. */
interface DenoNamespace {
  serve(
    options: { port: number; hostname: string; onListen(address: { port: number }): void },
    handler: (request: Request) => Response,
  ): unknown;
  upgradeWebSocket(
    request: Request,
    options?: { idleTimeout?: number },
  ): { socket: DenoSocket; response: Response };
  readonly args: readonly string[];
}

const deno = (globalThis as unknown as { Deno: DenoNamespace }).Deno;
const everyone = new Set<DenoSocket>();
/** wsport's default heartbeat (20 s, then 20 s for the pong) as Deno's `idleTimeout`. */
const idleTimeout = deno.args[0] === "heartbeat" ? 40 : 0;

deno.serve({
  port: 0,
  hostname: "127.0.0.1",
  onListen: ({ port }) => console.log(JSON.stringify({ port })),
}, (request) => {
  const { socket, response } = deno.upgradeWebSocket(request, { idleTimeout });
  socket.binaryType = "arraybuffer";
  if (new URL(request.url).pathname === "/broadcast") {
    socket.onmessage = (event) => {
      for (const peer of everyone) peer.send(event.data);
    };
  } else {
    socket.onmessage = (event) => socket.send(event.data);
  }
  socket.onopen = () => everyone.add(socket);
  socket.onclose = () => everyone.delete(socket);
  return response;
});
