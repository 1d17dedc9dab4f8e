import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileSliceOf, tagFileSlice } from "../../src/files/file_slice.ts";
import { files } from "../../src/files/files.ts";

test("fileSliceOf() finds the file and range of a files() body, passed on or not", async () => {
  const base = await realpath(await mkdtemp(join(tmpdir(), "wsport-slice-")));
  try {
    await writeFile(join(base, "digits.txt"), "0123456789");
    const handler = files(base);
    const whole = await handler(new Request("http://localhost/digits.txt"));
    const slice = { path: join(base, "digits.txt"), start: 0, length: 10 };
    assert.deepEqual(fileSliceOf(whole.body!), slice);
    const passedOn = new Response(whole.body, { headers: { "x-extra": "1" } });
    assert.deepEqual(fileSliceOf(passedOn.body!), slice);
    await passedOn.body!.cancel();

    const range = await handler(
      new Request("http://localhost/digits.txt", { headers: { range: "bytes=2-5" } }),
    );
    assert.deepEqual(fileSliceOf(range.body!), { ...slice, start: 2, length: 4 });
    const reader = range.body!.getReader();
    assert.equal(fileSliceOf(range.body!), undefined, "a locked body is being read already");
    await reader.cancel();

    const listing = await handler(new Request("http://localhost/"));
    assert.equal(fileSliceOf(listing.body!), undefined);
    await listing.body!.cancel();
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});

test("tagFileSlice() returns the stream it tags", () => {
  const stream = new ReadableStream();
  const slice = { path: "/x", start: 1, length: 2 };
  assert.equal(tagFileSlice(stream, slice), stream);
  assert.deepEqual(fileSliceOf(stream), slice);
  assert.equal(fileSliceOf(new ReadableStream()), undefined);
});
