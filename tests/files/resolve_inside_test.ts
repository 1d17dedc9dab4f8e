import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isMissingError, resolveInside, resolveRoot } from "../../src/files/resolve_inside.ts";

/** Builds base/{secret.txt, root-other/x.txt, root/...} and passes base and root's real path. */
async function withTree(body: (base: string, rootReal: string) => Promise<void>): Promise<void> {
  const base = await realpath(await mkdtemp(join(tmpdir(), "wsport-resolve-")));
  try {
    const root = join(base, "root");
    await mkdir(join(root, "sub"), { recursive: true });
    await mkdir(join(root, ".hidden"));
    await mkdir(join(base, "root-other"));
    await writeFile(join(base, "secret.txt"), "secret");
    await writeFile(join(base, "root-other", "x.txt"), "other");
    await writeFile(join(root, "sub", "a.txt"), "a");
    await writeFile(join(root, ".env"), "env");
    await writeFile(join(root, ".hidden", "b.txt"), "b");
    await symlink(join(root, "sub", "a.txt"), join(root, "link-in"));
    await symlink(join(base, "secret.txt"), join(root, "link-out"));
    await symlink("../root-other/x.txt", join(root, "link-sibling"));
    await symlink("..", join(root, "link-up"));
    await symlink(join(root, ".env"), join(root, "link-dot"));
    await symlink("missing", join(root, "link-broken"));
    await body(base, await resolveRoot(root) as string);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}

test("resolveRoot() returns the real path of the root, or null when it is missing", async () => {
  await withTree(async (base, rootReal) => {
    assert.equal(rootReal, join(base, "root"));
    assert.equal(await resolveRoot(join(base, "nope")), null);
  });
});

test("resolveInside() finds the root, a directory and a file", async () => {
  await withTree(async (_base, rootReal) => {
    assert.equal((await resolveInside(rootReal, [], false))?.path, rootReal);
    assert.equal((await resolveInside(rootReal, ["sub"], false))?.stats.isDirectory(), true);
    const file = await resolveInside(rootReal, ["sub", "a.txt"], false);
    assert.equal(file?.path, join(rootReal, "sub", "a.txt"));
    assert.equal(file?.stats.size, 1);
  });
});

test("resolveInside() follows a symlink that stays inside the root", async () => {
  await withTree(async (_base, rootReal) => {
    const file = await resolveInside(rootReal, ["link-in"], false);
    assert.equal(file?.path, join(rootReal, "sub", "a.txt"));
  });
});

test("resolveInside() refuses links out of the root, even to a same-prefix sibling", async () => {
  await withTree(async (_base, rootReal) => {
    for (const name of ["link-out", "link-sibling", "link-up"]) {
      assert.equal(await resolveInside(rootReal, [name], true), null, name);
    }
    assert.equal(await resolveInside(rootReal, ["link-up", "secret.txt"], true), null);
  });
});

test("resolveInside() returns null for missing paths and broken symlinks", async () => {
  await withTree(async (_base, rootReal) => {
    assert.equal(await resolveInside(rootReal, ["nope.txt"], false), null);
    assert.equal(await resolveInside(rootReal, ["sub", "a.txt", "below"], false), null);
    assert.equal(await resolveInside(rootReal, ["link-broken"], false), null);
  });
});

test("resolveInside() hides dotfiles by requested or real name unless dotfiles", async () => {
  await withTree(async (_base, rootReal) => {
    assert.equal(await resolveInside(rootReal, [".env"], false), null);
    assert.equal(await resolveInside(rootReal, [".hidden", "b.txt"], false), null);
    assert.equal(await resolveInside(rootReal, ["link-dot"], false), null);
    assert.equal((await resolveInside(rootReal, [".env"], true))?.stats.size, 3);
    assert.equal((await resolveInside(rootReal, ["link-dot"], true))?.stats.size, 3);
  });
});

test("isMissingError() tells missing-path errors from others", () => {
  const withCode = (code: string) => Object.assign(new Error(code), { code });
  for (const code of ["ENOENT", "ENOTDIR", "ELOOP", "EACCES", "EPERM", "ENAMETOOLONG"]) {
    assert.equal(isMissingError(withCode(code)), true, code);
  }
  assert.equal(isMissingError(withCode("EMFILE")), false);
  assert.equal(isMissingError(new Error("plain")), false);
  assert.equal(isMissingError(null), false);
});
