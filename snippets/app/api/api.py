"""Every router of the service, registered in one place."""

from fastapi import APIRouter

from app.api.health.points import router as health_router
from app.api.messaging.points import router as messaging_router
from app.api.webhook.points import router as webhook_router

# --8<-- [start:routers]
api_router = APIRouter(prefix="/api/v1")
api_router.include_router(messaging_router)
api_router.include_router(webhook_router)

root_router = APIRouter()
root_router.include_router(health_router)  # probes stay unversioned, at /livez and /readyz
root_router.include_router(api_router)
# --8<-- [end:routers]
