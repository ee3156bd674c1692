"""Queries a service from nats-py with plain requests, as a peer that is not us would.

Usage: py_query.py NATS_URL SERVICE_NAME ENDPOINT_SUBJECT ERROR_SUBJECT
First sends one request to ENDPOINT_SUBJECT and one to ERROR_SUBJECT, then asks
$SRV.PING/INFO/STATS.<SERVICE_NAME> (so STATS counts both requests).
Prints one JSON object:
  endpoint_reply        the body of the endpoint's reply (text)
  endpoint_headers      its headers (an object; {} when none)
  error_headers         the headers of the error subject's reply, as nats-py reads them
  error_body            the body of that reply (text)
  ping, info, stats     the control replies, parsed with json.loads
  raw                   the control replies' text, exactly as received
  typed                 for each control reply, "ok" if nats-py's own dataclass
                        (ServicePing/ServiceInfo/ServiceStats.from_dict) accepts it, otherwise
                        "<ExceptionType>: <message>"; and "stats_normalized", the same for
                        the STATS reply after two changes nats-py's parser needs but the Go
                        reference does not make: "started" cut to at most 6 sub-second
                        digits, and "data": null added to endpoints without "data"
Exits non-zero if any control reply does not parse as JSON.
"""

import asyncio
import copy
import json
import re
import sys

import nats
from nats.micro.service import ServiceInfo, ServicePing, ServiceStats

TYPED = {"ping": ServicePing, "info": ServiceInfo, "stats": ServiceStats}


def typed_parse(kind: str, value) -> str:
    try:
        TYPED[kind].from_dict(value)
    except Exception as error:  # report any rejection, whatever its type
        return f"{type(error).__name__}: {error}"
    return "ok"


def normalized_stats(stats):
    """STATS as nats-py's ServiceStats.from_dict wants it (see the module doc)."""
    stats = copy.deepcopy(stats)
    started = stats.get("started")
    if isinstance(started, str):
        started = re.sub(r"(\.\d{1,6})\d*Z$", r"\1Z", started)
        # Go (and we) write no fraction on a whole second; nats-py's format needs one.
        stats["started"] = re.sub(r"(:\d{2})Z$", r"\1.0Z", started)
    for endpoint in stats.get("endpoints") or []:
        endpoint.setdefault("data", None)
    return stats


async def main(url: str, name: str, endpoint: str, error_subject: str) -> None:
    nc = await nats.connect(url)
    result = {"raw": {}, "typed": {}}

    msg = await nc.request(endpoint, b'{"hello": "from python"}', timeout=5)
    result["endpoint_reply"] = msg.data.decode()
    result["endpoint_headers"] = dict(msg.headers or {})
    msg = await nc.request(error_subject, b"not json", timeout=5)
    result["error_headers"] = dict(msg.headers or {})
    result["error_body"] = msg.data.decode()

    for verb in ("PING", "INFO", "STATS"):
        msg = await nc.request(f"$SRV.{verb}.{name}", b"", timeout=5)
        kind = verb.lower()
        text = msg.data.decode()
        result["raw"][kind] = text
        result[kind] = json.loads(text)
        result["typed"][kind] = typed_parse(kind, result[kind])
    result["typed"]["stats_normalized"] = typed_parse("stats", normalized_stats(result["stats"]))

    print(json.dumps(result), flush=True)
    await nc.close()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
