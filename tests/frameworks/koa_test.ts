/** `serve(site, { server })` on the server Koa's `app.listen()` returns. */
import { test } from "node:test";
import Koa from "koa";
import { assertAttached, type ListeningServer } from "./attached.ts";
import { runtime } from "../helpers/server.ts";

test(`Koa on ${runtime}: its middleware answers, wsport serves /ws, shutdown leaves it running`, async () => {
  const app = new Koa();
  app.use((context) => {
    context.body = `koa saw ${context.path}`;
  });
  const server = await new Promise<ListeningServer>((resolve) => {
    const listening = app.listen(0, "127.0.0.1", () => resolve(listening));
  });
  await assertAttached(server, { path: "/hello", expected: [200, "koa saw /hello"] });
});
