"""A service written with nats-py's nats.micro, for interop tests.

Usage: py_service.py NATS_URL
Prints "READY <service id>" once it serves, then serves until stdin closes.
Endpoints: "echo" (subject py.echo, echoes the body) and "fail" (subject py.fail, answers
with respond_error 422 "bad thing"), inside no group; metadata {"lang": "python"}.
"""

import asyncio
import sys

import nats
from nats.micro import add_service
from nats.micro.service import EndpointConfig, ServiceConfig


async def main(url: str) -> None:
    nc = await nats.connect(url)

    async def echo(req):
        await req.respond(req.data)

    async def fail(req):
        await req.respond_error("422", "bad thing")

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
    await nc.flush()
    print(f"READY {service.id}", flush=True)

    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    await service.stop()
    await nc.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
