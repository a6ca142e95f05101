"""A fake OpenAI-compatible chat completions server for tests: real HTTP on a loopback port.

It speaks the protocol the `openai` SDK speaks (`POST /v1/chat/completions` with a bearer key,
the `chat.completion` response shape, OpenAI's error body) and answers from a script, one
`Reply` per request, so a test decides what the "model" says, how late, or which HTTP error it
gets. Every request body and its headers are kept in `requests` for the test to inspect.

    with FakeOpenAI(Reply(content=json.dumps(rubric))) as fake:
        config = JudgeConfig(model=fake.model, base_url=fake.base_url, api_key=fake.api_key)
        ...
        assert fake.requests[0]["body"]["temperature"] == 0
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Self

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


@dataclass
class Reply:
    """One scripted answer: a completion (`content`), or an HTTP error (`status` >= 400)."""

    content: str | dict | None = None
    status: int = 200
    delay: float = 0.0  # seconds before answering
    finish_reason: str = "stop"
    error: str = "scripted failure"


def _error(status: int, message: str, kind: str, code: str | None = None, **headers: str):
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)


class FakeOpenAI:
    """Serves `script` in order; once it is used up, the last reply is repeated."""

    def __init__(
        self,
        *script: Reply | str | dict,
        model: str = "fake-judge-1",
        api_key: str = "sk-test-fake",
        reject_formats: tuple[str, ...] = (),
    ):
        self.script = [r if isinstance(r, Reply) else Reply(content=r) for r in script]
        self.model = model
        self.api_key = api_key
        self.reject_formats = reject_formats  # response_format types answered with HTTP 400
        self.requests: list[dict[str, Any]] = []
        self._served = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [r["body"] for r in self.requests]

    def _next(self) -> Reply:
        if not self.script:
            return Reply(status=500, error="the fake has no scripted reply")
        reply = self.script[min(self._served, len(self.script) - 1)]
        self._served += 1
        return reply

    async def _completions(self, request: Request):
        raw = await request.body()
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            return _error(
                400, "We could not parse the JSON body of your request.", "invalid_request_error"
            )
        self.requests.append({"body": body, "headers": dict(request.headers)})
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return _error(
                401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"
            )
        if not isinstance(body, dict) or "model" not in body or "messages" not in body:
            return _error(400, "model and messages are required", "invalid_request_error")
        fmt = (body.get("response_format") or {}).get("type")
        if fmt in self.reject_formats:
            message = f"response_format of type '{fmt}' is not supported by this model"
            return _error(400, message, "invalid_request_error", "unsupported_parameter")
        reply = self._next()
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.status >= 400:
            return _error(
                reply.status, reply.error, "server_error", None, **{"retry-after-ms": "10"}
            )
        content = reply.content
        if isinstance(content, dict):
            content = json.dumps(content)
        prompt_tokens = sum(len(str(m.get("content", ""))) for m in body["messages"]) // 4
        completion_tokens = len(content or "") // 4
        return JSONResponse(
            {
                "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "system_fingerprint": "fp_fake",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content, "refusal": None},
                        "logprobs": None,
                        "finish_reason": reply.finish_reason,
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            }
        )

    async def _models(self, request: Request):
        return JSONResponse(
            {"object": "list", "data": [{"id": self.model, "object": "model", "owned_by": "fake"}]}
        )

    def start(self) -> Self:
        app = Starlette(
            routes=[
                Route("/v1/chat/completions", self._completions, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
            ]
        )
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake OpenAI server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
