"""tests/bench/peers/hello_asyncio.py -- the "Hello world!" protocol of
chapters 2-8 served by CPython's asyncio (streams), for the appendix
«Измерения» (make bench only). Every read gets "Hello world!\\n".

    python3 hello_asyncio.py --port N
"""
import asyncio
import resource
import signal
import sys

REPLY = b"Hello world!\n"


async def client(reader, writer):
    try:
        while True:
            data = await reader.read(4096)
            if not data:
                break
            writer.write(REPLY)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def main(port):
    server = await asyncio.start_server(client, "127.0.0.1", port, backlog=4096)
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    print(f"Listening on 127.0.0.1:{port} (Python {sys.version.split()[0]} asyncio)", flush=True)
    async with server:
        await stop


if __name__ == "__main__":
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    port = int(sys.argv[sys.argv.index("--port") + 1]) if "--port" in sys.argv else 5001
    asyncio.run(main(port))
