"""Key-Value and Object Store peer for the interop tests: one command per run, one JSON line
on stdout. Usage: py_jetstream.py URL COMMAND ARGS...

  kv-put BUCKET KEY VALUE      create the bucket if needed, put, print {"revision"}
  kv-get BUCKET KEY            print {"value", "revision", "operation"} or {"missing": true}
  kv-watch BUCKET              watch everything until the initial values are done, print
                               {"entries": [{"key", "value", "revision", "operation"}]}
  obj-put BUCKET NAME SIZE SEED   put SIZE deterministic bytes, print the info
  obj-get BUCKET NAME          get and print {"size", "sha256", "digest"}
"""

import asyncio
import base64
import hashlib
import json
import sys

import nats
from nats.js.errors import KeyNotFoundError, NotFoundError


def data(size, seed):
    # The same bytes as the Rust tests' `data(len, seed)`.
    return bytes(((i * 31) + seed) & 0xFF for i in range(size))


def text(value):
    return None if value is None else value.decode("latin-1")


async def main(url, command, *args):
    nc = await nats.connect(url)
    js = nc.jetstream()
    try:
        if command == "kv-put":
            bucket, key, value = args
            try:
                kv = await js.key_value(bucket)
            except NotFoundError:
                kv = await js.create_key_value(bucket=bucket, history=5)
            revision = await kv.put(key, value.encode())
            out = {"revision": revision}
        elif command == "kv-get":
            bucket, key = args
            kv = await js.key_value(bucket)
            try:
                entry = await kv.get(key)
                out = {"value": text(entry.value), "revision": entry.revision,
                       "operation": entry.operation}
            except KeyNotFoundError:
                out = {"missing": True}
        elif command == "kv-watch":
            (bucket,) = args
            kv = await js.key_value(bucket)
            watcher = await kv.watchall()
            entries = []
            while True:
                entry = await watcher.updates(timeout=10)
                if entry is None:
                    break
                entries.append({"key": entry.key, "value": text(entry.value),
                                "revision": entry.revision, "operation": entry.operation})
            await watcher.stop()
            out = {"entries": entries}
        elif command == "obj-put":
            bucket, name, size, seed = args
            try:
                obs = await js.object_store(bucket)
            except NotFoundError:
                obs = await js.create_object_store(bucket)
            info = await obs.put(name, data(int(size), int(seed)))
            out = {"nuid": info.nuid, "size": info.size, "chunks": info.chunks,
                   "digest": info.digest}
        elif command == "obj-get":
            bucket, name = args
            obs = await js.object_store(bucket)
            result = await obs.get(name)
            sha = base64.urlsafe_b64encode(hashlib.sha256(result.data).digest()).decode()
            out = {"size": len(result.data), "sha256": "SHA-256=" + sha,
                   "digest": result.info.digest}
        else:
            raise SystemExit(f"unknown command {command}")
        print(json.dumps(out), flush=True)
    finally:
        await nc.close()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
