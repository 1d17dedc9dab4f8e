/** `serve(site, { server })` on Fastify's `server` (its `node:http` server). */
import { test } from "node:test";
import Fastify from "fastify";
import { assertAttached } from "./attached.ts";
import { runtime } from "../helpers/server.ts";

test(`Fastify on ${runtime}: its routes answer, wsport serves /ws, shutdown leaves it running`, async () => {
  const app = Fastify();
  app.get("/hello", () => "hello from fastify");
  await app.listen({ port: 0, host: "127.0.0.1" });
  try {
    await assertAttached(app.server, { path: "/hello", expected: [200, "hello from fastify"] });
  } finally {
    await app.close();
  }
});
