"""A service written with nats-py's nats.micro, for interop tests.

Usage: py_service.py NATS_URL [bare]
Prints "READY <service id>" once it serves, then serves until stdin closes.

Default: service "py-echo" 1.2.3, with a description and metadata {"lang": "python"};
endpoints "echo" (subject py.echo, echoes the body, no metadata) and "fail" (subject py.fail,
answers with respond_error 422 "bad thing", metadata {"kind": "error"}), inside no group.

With "bare": service "py-bare" 0.0.1 with no description and no metadata, and one endpoint
"noop" (subject py.bare, answers an empty body, no metadata), to show what nats-py writes for
unset fields.
"""

import asyncio
import sys

import nats
from nats.micro import add_service
from nats.micro.service import EndpointConfig, ServiceConfig


async def echo(req):
    await req.respond(req.data)


async def fail(req):
    await req.respond_error("422", "bad thing")


async def noop(req):
    await req.respond(b"")


async def start_echo(nc):
    config = ServiceConfig(
        name="py-echo",
        version="1.2.3",
        description="echo written in python",
        metadata={"lang": "python"},
    )
    service = await add_service(nc, config)
    await service.add_endpoint(EndpointConfig(name="echo", subject="py.echo", handler=echo))
    await service.add_endpoint(
        EndpointConfig(name="fail", subject="py.fail", handler=fail, metadata={"kind": "error"})
    )
    return service


async def start_bare(nc):
    service = await add_service(nc, ServiceConfig(name="py-bare", version="0.0.1"))
    await service.add_endpoint(EndpointConfig(name="noop", subject="py.bare", handler=noop))
    return service


async def main(url: str, mode: str) -> None:
    nc = await nats.connect(url)
    if mode == "bare":
        service = await start_bare(nc)
    else:
        service = await start_echo(nc)
    await nc.flush()
    print(f"READY {service.id}", flush=True)

    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    await service.stop()
    await nc.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "echo"))
