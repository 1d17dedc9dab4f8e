import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listDirectory } from "../../src/files/list_directory.ts";
import type { ListingEntry } from "../../src/files/listing.ts";

/** Makes a temp dir holding `names` (files), runs `body` on it, then removes it. */
async function withDirectory(
  names: readonly string[],
  body: (path: string) => Promise<void>,
): Promise<void> {
  const path = await mkdtemp(join(tmpdir(), "wsport-list-"));
  try {
    // A few at a time: 5,000 at once could run out of descriptors.
    for (let i = 0; i < names.length; i += 100) {
      await Promise.all(names.slice(i, i + 100).map((name) => writeFile(join(path, name), "")));
    }
    await body(path);
  } finally {
    await rm(path, { recursive: true, force: true });
  }
}

/** A `describe` that counts its calls and the most in flight at once. */
function counting() {
  const counts = { calls: 0, inFlight: 0, mostInFlight: 0 };
  const describe = async (name: string): Promise<ListingEntry> => {
    counts.calls++;
    counts.mostInFlight = Math.max(counts.mostInFlight, ++counts.inFlight);
    await new Promise((resolve) => setTimeout(resolve, 0));
    counts.inFlight--;
    return { name, directory: false, size: 0, modified: new Date(0) };
  };
  return { counts, describe };
}

const names = (count: number, prefix = "f") =>
  Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(5, "0")}`);

test("listDirectory() describes only the first maxEntries names of 5,000, a few at a time", async () => {
  await withDirectory(names(5_000), async (path) => {
    const { counts, describe } = counting();
    const listing = await listDirectory(path, {
      maxEntries: 1_000,
      concurrency: 16,
      visible: () => true,
      describe,
    });
    assert.equal(counts.calls, 1_000);
    assert.ok(counts.mostInFlight <= 16, `${counts.mostInFlight} described at once`);
    assert.equal(listing.more, 4_000);
    assert.deepEqual(listing.entries.map((entry) => entry.name), names(1_000));
  });
});

test("listDirectory() leaves hidden names out of the entries and the count", async () => {
  await withDirectory([...names(5, "a"), ...names(5, ".h")], async (path) => {
    const { counts, describe } = counting();
    const listing = await listDirectory(path, {
      maxEntries: 3,
      concurrency: 2,
      visible: (name) => !name.startsWith("."),
      describe,
    });
    assert.deepEqual(listing.entries.map((entry) => entry.name), names(3, "a"));
    assert.equal(listing.more, 2);
    assert.equal(counts.calls, 3);
    assert.ok(counts.mostInFlight <= 2);
  });
});

test("listDirectory() drops the entries describe() leaves out, without counting them", async () => {
  await withDirectory(["a", "b", "c"], async (path) => {
    const listing = await listDirectory(path, {
      maxEntries: 10,
      concurrency: 4,
      visible: () => true,
      describe: (name) =>
        Promise.resolve(
          name === "b" ? null : { name, directory: false, size: 0, modified: new Date(0) },
        ),
    });
    assert.deepEqual(listing.entries.map((entry) => entry.name), ["a", "c"]);
    assert.equal(listing.more, 0);
  });
});

test("listDirectory() lists an empty directory and fails on a missing one", async () => {
  await withDirectory([], async (path) => {
    const { counts, describe } = counting();
    const options = { maxEntries: 10, concurrency: 4, visible: () => true, describe };
    assert.deepEqual(await listDirectory(path, options), { entries: [], more: 0 });
    assert.equal(counts.calls, 0);
    await mkdir(join(path, "sub"));
    await assert.rejects(listDirectory(join(path, "missing"), options), { code: "ENOENT" });
  });
});
