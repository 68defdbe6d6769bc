"""Drives the unmodified ``d365fo-client`` for ``test_finops_client.py``, in its own interpreter.

d365fo-client 0.3.7 declares Python >= 3.13 while integrator's venv is 3.11, so the tests run
this script with the Python 3.13 venv that ``./dev`` makes (``.venv-fo``). It reads one JSON
request a line on stdin, ``{"op": NAME, "args": {...}}``, calls the client and writes one JSON
line back: ``{"ok": RESULT}`` or ``{"error": {"type": ..., "message": ...}}``. One client (one
aiohttp session) serves every request of the process, as one application would.

Arguments: ``BASE_URL CACHE_DIR``. The test CA is trusted through ``SSL_CERT_FILE`` (which
Python's default SSL context, and so aiohttp's, reads) with ``verify_ssl=True``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
from typing import Any

from d365fo_client import FOClient, FOClientConfig
from d365fo_client.models import QueryOptions


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


async def _call(client: FOClient, op: str, args: dict[str, Any]) -> Any:
    if op == "public_entity":
        return await client.get_public_entity_info(args["name"], resolve_labels=False)
    if op == "search_data_entities":
        return await client.search_data_entities(args["pattern"])
    if op == "public_enumeration":
        return await client.get_public_enumeration_info(args["name"], resolve_labels=False)
    if op == "query":
        options = QueryOptions(**args.get("options", {}))
        return await client.get_entities(args["entity_set"], options)
    if op == "get_by_key":
        return await client.get_entity_by_key(
            args["entity_set"], args["key"], select=args.get("select")
        )
    if op == "create":
        return await client.create_entity(args["entity_set"], args["data"])
    if op == "update":
        return await client.update_entity(args["entity_set"], args["key"], args["data"])
    if op == "delete":
        return await client.delete_entity(args["entity_set"], args["key"])
    raise ValueError(f"unknown op {op!r}")


async def _serve(base_url: str, cache_dir: str) -> None:
    config = FOClientConfig(
        base_url=base_url,
        verify_ssl=True,
        metadata_cache_dir=cache_dir,
        # the cache syncs all metadata in the background; the tests look at each call's own
        # requests, so every lookup goes to the service
        enable_metadata_cache=False,
        use_label_cache=False,
        trace_client_id="00000000-0000-4000-8000-00000000f0c1",
    )
    async with FOClient(config) as client:
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                return
            request = json.loads(line)
            try:
                answer: dict[str, Any] = {
                    "ok": _plain(await _call(client, request["op"], request.get("args", {})))
                }
            except Exception as exc:
                answer = {"error": {"type": type(exc).__name__, "message": str(exc)}}
            sys.stdout.write(json.dumps(answer) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(_serve(sys.argv[1], sys.argv[2]))
