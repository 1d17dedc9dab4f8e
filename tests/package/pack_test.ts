import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { repoRoot } from "../helpers/paths.ts";

const onNode = !("Deno" in globalThis) && !("Bun" in globalThis);
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

// Packing once is enough: the tarball is the same whichever runtime checks it.
test("npm pack gives a package that installs and imports in an empty project, with types", {
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

    // It imports on Node (ESM) and exposes the mod.ts API.
    const exported = execFileSync(process.execPath, [
      "--input-type=module",
      "-e",
      `import * as wsport from "wsport";
       const site = new wsport.WebSocketSite();
       site.addHandler("/echo", class extends wsport.WebSocketHandler {});
       const accept = await wsport.computeAccept("dGhlIHNhbXBsZSBub25jZQ==");
       console.log(JSON.stringify({ names: Object.keys(wsport).sort(), accept }));`,
    ], { cwd: project, encoding: "utf8" });
    const { names, accept } = JSON.parse(exported);
    assert.equal(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    for (const name of ["serve", "WebSocketSite", "WebSocketHandler", "files", "Connection"]) {
      assert.ok(names.includes(name), `"${name}" is exported`);
    }

    // CommonJS can require() it where Node loads ES modules from require(): on by default
    // since 20.19 and 22.12 (`process.features.require_module`); before, Node refuses.
    writeFileSync(
      join(project, "app.cjs"),
      `const wsport = require("wsport");
       console.log(JSON.stringify({ serve: typeof wsport.serve, site: typeof wsport.WebSocketSite }));`,
    );
    const requireModule = (process.features as { require_module?: boolean }).require_module;
    if (requireModule === true) {
      const required = execFileSync(process.execPath, ["app.cjs"], {
        cwd: project,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      });
      assert.deepEqual(JSON.parse(required), { serve: "function", site: "function" });
    } else {
      assert.throws(
        () => execFileSync(process.execPath, ["app.cjs"], { cwd: project, stdio: "pipe" }),
        (error: { stderr: Buffer }) => /ERR_REQUIRE_ESM/.test(String(error.stderr)),
      );
    }

    // Its types check in a TypeScript project that uses it.
    writeFileSync(
      join(project, "app.ts"),
      `import { serve, WebSocketHandler, WebSocketSite, type Server } from "wsport";
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
