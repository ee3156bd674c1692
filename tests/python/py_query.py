"""Queries a service from nats-py with plain requests, as a peer that is not us would.

Usage: py_query.py NATS_URL SERVICE_NAME ENDPOINT_SUBJECT ERROR_SUBJECT
Prints one JSON object: the parsed PING, INFO and STATS replies (at the name level), the
reply of a request to ENDPOINT_SUBJECT, and the headers of a request to ERROR_SUBJECT.
Exits non-zero if any reply does not parse as JSON.
"""

import asyncio
import json
import sys

import nats


async def main(url: str, name: str, endpoint: str, error_subject: str) -> None:
    nc = await nats.connect(url)
    result = {}
    for verb in ("PING", "INFO", "STATS"):
        msg = await nc.request(f"$SRV.{verb}.{name}", b"", timeout=5)
        result[verb.lower()] = json.loads(msg.data)
    msg = await nc.request(endpoint, b'{"hello": "from python"}', timeout=5)
    result["endpoint_reply"] = msg.data.decode()
    msg = await nc.request(error_subject, b"not json", timeout=5)
    result["error_headers"] = dict(msg.headers or {})
    result["error_body"] = msg.data.decode()
    print(json.dumps(result), flush=True)
    await nc.close()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
