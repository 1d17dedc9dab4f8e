import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { repoRoot } from "../helpers/paths.ts";
import { ENTRY_POINTS } from "./entry_points.ts";

const onNode = !("Deno" in globalThis) && !("Bun" in globalThis);
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

// Packing once is enough: the tarball is the same whichever runtime checks it.
test("npm pack gives a package whose every entry point imports and requires, with types", {
  skip: onNode ? false : "runs once, on Node",
}, () => {
  const work = mkdtempSync(join(tmpdir(), "wsport-pack-"));
  try {
    const packed = execFileSync(npm, ["pack", "--silent", "--pack-destination", work], {
      cwd: repoRoot,
      encoding: "utf8",
    }).trim().split("\n").at(-1)!;
    const tarball = join(work, packed);
    const project = join(work, "app");
    execFileSync("mkdir", ["-p", project]);
    writeFileSync(join(project, "package.json"), JSON.stringify({ type: "module", private: true }));
    execFileSync(
      npm,
      ["install", "--offline", "--no-audit", "--no-fund", "--silent", tarball],
      { cwd: project, encoding: "utf8" },
    );
    const installed = readdirSync(join(project, "node_modules", "wsport"));
    assert.ok(installed.includes("dist"), `installed files: ${installed.join(", ")}`);
    assert.ok(!installed.includes("src"), "the package ships dist/, not the TypeScript sources");

    // Each entry point imports on Node (ESM) with exactly the snapshot's values.
    const run = (args: string[]) =>
      execFileSync(process.execPath, args, { cwd: project, encoding: "utf8" });
    const imported = JSON.parse(run([
      "--input-type=module",
      "-e",
      `const specifiers = ${JSON.stringify(ENTRY_POINTS.map((entry) => entry.specifier))};
       const names = {};
       for (const specifier of specifiers) {
         names[specifier] = Object.keys(await import(specifier)).sort();
       }
       const { computeAccept } = await import("wsport/core");
       const { WebSocketSite, WebSocketHandler } = await import("wsport");
       new WebSocketSite().addHandler("/echo", class extends WebSocketHandler {});
       console.log(JSON.stringify({ names, accept: await computeAccept("dGhlIHNhbXBsZSBub25jZQ==") }));`,
    ]));
    assert.equal(imported.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    for (const entry of ENTRY_POINTS) {
      assert.deepEqual(imported.names[entry.specifier], [...entry.values].sort(), entry.specifier);
    }

    // require() loads each one where Node can require ESM (20.19+, 22.12+), from
    // CommonJS; where it cannot, it fails plainly (the README says ESM-only there).
    const required = run([
      "--input-type=commonjs",
      "-e",
      `const out = {};
       for (const specifier of ${JSON.stringify(ENTRY_POINTS.map((entry) => entry.specifier))}) {
         try {
           out[specifier] = Object.keys(require(specifier)).sort();
         } catch (error) {
           out[specifier] = error.code;
         }
       }
       console.log(JSON.stringify(out));`,
    ]);
    const requireModule = (process.features as { require_module?: boolean }).require_module;
    for (const entry of ENTRY_POINTS) {
      assert.deepEqual(
        JSON.parse(required)[entry.specifier],
        requireModule ? [...entry.values].sort() : "ERR_REQUIRE_ESM",
        `require("${entry.specifier}")`,
      );
    }

    // wsport/core and wsport load no built-in module: a resolve hook refuses every one
    // asked for from the package (files() loads node:fs at its first request, serve() the
    // Node adapter when it runs on Node). wsport/node, which needs node:http, is refused.
    writeFileSync(
      join(project, "no_builtins.mjs"),
      `import { builtinModules } from "node:module";
       export async function resolve(specifier, context, next) {
         const builtin = specifier.startsWith("node:") || builtinModules.includes(specifier);
         if (builtin && context.parentURL?.includes("/node_modules/wsport/")) {
           throw new Error(specifier + " loaded from " + context.parentURL);
         }
         return next(specifier, context);
       }`,
    );
    writeFileSync(
      join(project, "register.mjs"),
      `import { register } from "node:module";
       register("./no_builtins.mjs", import.meta.url);`,
    );
    const load = (specifier: string) =>
      run(["--import", "./register.mjs", "--input-type=module", "-e", `import "${specifier}";`]);
    load("wsport/core");
    load("wsport");
    assert.throws(() => load("wsport/node"), /node:\w+ loaded from/, "the hook sees node:");

    // Its types check in a TypeScript project that uses it.
    writeFileSync(
      join(project, "app.ts"),
      `import { serve, WebSocketHandler, WebSocketSite, type Server } from "wsport";
       import { Connection, type ConnectionEvent } from "wsport/core";
       import { serveNode } from "wsport/node";
       export const events: readonly ConnectionEvent[] = new Connection().receive(new Uint8Array(0), 0);
       export const startNode = (): Promise<Server> => serveNode(new WebSocketSite(), { port: 0 });
       class Echo extends WebSocketHandler {
         override frameReceived(frame: string | Uint8Array) { this.transport.write(frame); }
       }
       const site = new WebSocketSite();
       site.addHandler("/echo", Echo, { maxMessageBytes: 1024 });
       export const start = (): Promise<Server> => serve(site, { port: 0 });
       // @ts-expect-error: a port is a number
       serve(site, { port: "80" });
      `,
    );
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "es2022",
          module: "nodenext",
          moduleResolution: "nodenext",
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          lib: ["es2022", "dom"],
          types: ["node"],
          typeRoots: [join(repoRoot, "node_modules", "@types")],
        },
        files: ["app.ts"],
      }),
    );
    execFileSync(join(repoRoot, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.json"], {
      cwd: project,
      encoding: "utf8",
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
