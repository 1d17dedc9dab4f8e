"""A permessage-deflate client on Python's `websockets`, for the interop tests.

Usage: python3 python_client.py URL OFFER_JSON < MESSAGES_JSON

Sends each message of the JSON list on stdin ({"text": ...} or {"binary": base64}),
reads as many echoes, closes, and prints {"echoes": [...], "extensions": "..."}, the
latter being the extensions `websockets` negotiated, as it describes them.
OFFER_JSON holds ClientPerMessageDeflateFactory's arguments; {} keeps the library's
default offer ("permessage-deflate; client_max_window_bits", memLevel 5).
"""

import asyncio
import base64
import json
import sys

import websockets
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory


def decode(message):
    if "text" in message:
        return message["text"]
    return base64.b64decode(message["binary"])


def encode(message):
    if isinstance(message, str):
        return {"text": message}
    return {"binary": base64.b64encode(message).decode("ascii")}


async def main():
    url = sys.argv[1]
    offer = json.loads(sys.argv[2])
    messages = [decode(message) for message in json.load(sys.stdin)]
    extensions = None
    if offer:
        extensions = [ClientPerMessageDeflateFactory(compress_settings={"memLevel": 5}, **offer)]
    async with websockets.connect(
        url, extensions=extensions, max_size=1 << 24, open_timeout=10, close_timeout=10
    ) as socket:
        for message in messages:
            await socket.send(message)
        echoes = [await asyncio.wait_for(socket.recv(), 10) for _ in messages]
        negotiated = ", ".join(repr(extension) for extension in socket.extensions)
    print(json.dumps({"echoes": [encode(echo) for echo in echoes], "extensions": negotiated}))


asyncio.run(main())
