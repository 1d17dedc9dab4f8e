/**
 * The classic counting handler at `/counter`: it greets, answers each message by the
 * parity of the count, and ends the game at the tenth.
 *
 *     npm run example:counter
 *     deno run --allow-net --allow-env examples/counter.ts
 *     bun run examples/counter.ts
 *
 * `PORT` sets the port (default 8080); Deno reads it only with `--allow-env`. Try it with
 * any WebSocket client, for instance from a browser's console on any page:
 * `new WebSocket("ws://localhost:8080/counter")`.
 *
 * @module
 */

import { serve, WebSocketSite } from "../mod.ts";
import { Counter } from "./counter_handler.ts";
import { announce, listenOptions } from "./listen.ts";

const site = new WebSocketSite();
site.addHandler("/counter", Counter);
announce(await serve(site, listenOptions()), "/counter");
