"""Inbound webhooks from the card processor (HMAC-signed, no user auth)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from acme.api.deps import Ctx, Db
from acme.api.services.webhooks import WebhookService
from acme.common.security import SIGNATURE_HEADER

router = APIRouter(prefix="/payments", tags=["payments"])


@router.post("/webhook")
async def payment_webhook(request: Request, ctx: Ctx, db: Db) -> dict[str, Any]:
    body = await request.body()
    signature = request.headers.get(SIGNATURE_HEADER)
    return await run_in_threadpool(WebhookService(ctx, db).handle, body, signature)
