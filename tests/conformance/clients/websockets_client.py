"""The python-websockets interop client: for each URL given, connect, echo a non-ASCII
text and a 100 KiB binary message, close with 1000. Prints one JSON line naming the
client, then one per URL: {"url", "ok", "detail"}; or {"unavailable": why}.

Usage: python3 websockets_client.py ws://host:port/echo...
"""

import asyncio
import json
import sys

try:
    import websockets
except ImportError:
    print(json.dumps({"unavailable": "python3-websockets is not installed"}))
    sys.exit(0)

TEXT = "héllo wörld, κόσμε, 你好, 🎉"
BINARY = bytes((i * 31 + 7) & 0xFF for i in range(100 * 1024))
CELL_TIMEOUT_S = 10


async def cell(url):
    async with websockets.connect(url, max_size=None) as socket:
        await socket.send(TEXT)
        echoed = await socket.recv()
        if echoed != TEXT:
            return False, f"the text came back as {echoed!r:.40}"
        await socket.send(BINARY)
        echoed = await socket.recv()
        if echoed != BINARY:
            return False, f"the binary came back as {len(echoed)} units"
        await socket.close(code=1000, reason="done")
        if socket.close_code != 1000:
            return False, f"closed with {socket.close_code}"
        return True, "text and 100 KiB binary echoed, closed 1000"


async def main(urls):
    print(json.dumps({"client": f"python-websockets {websockets.__version__}"}), flush=True)
    for url in urls:
        try:
            ok, detail = await asyncio.wait_for(cell(url), CELL_TIMEOUT_S)
        except Exception as error:  # noqa: BLE001 - every failure is a cell's result
            ok, detail = False, f"{type(error).__name__}: {error}"
        print(json.dumps({"url": url, "ok": ok, "detail": detail}), flush=True)


asyncio.run(main(sys.argv[1:]))
