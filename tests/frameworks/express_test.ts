/** `serve(site, { server })` on an Express app's server: Express keeps its routes. */
import { test } from "node:test";
import express from "express";
import { assertAttached, type ListeningServer } from "./attached.ts";
import { runtime } from "../helpers/server.ts";

test(`Express on ${runtime}: its routes answer, wsport serves /ws, shutdown leaves it running`, async () => {
  const app = express();
  app.get("/hello", (_request, response) => {
    response.send("hello from express");
  });
  const server = await new Promise<ListeningServer>((resolve) => {
    const listening = app.listen(0, "127.0.0.1", () => resolve(listening));
  });
  await assertAttached(server, { path: "/hello", expected: [200, "hello from express"] });
});
