"""Every router of the service, registered in one place."""

from fastapi import APIRouter, Depends

from app.api.auth import UNAUTHORIZED_RESPONSES, get_current_principal

# --8<-- [start:router_imports]
from app.api.health.points import router as health_router
from app.api.messaging.points import router as messaging_router
from app.api.webhook.points import router as webhook_router

# --8<-- [end:router_imports]

# --8<-- [start:routers]
# Every route under /api/v1 needs a valid token, so a new router cannot be left
# open by forgetting it.
api_router = APIRouter(
    prefix="/api/v1",
    dependencies=[Depends(get_current_principal)],
    responses=UNAUTHORIZED_RESPONSES,
)
api_router.include_router(messaging_router)
api_router.include_router(webhook_router)

root_router = APIRouter()
# probes stay unversioned, at /livez and /readyz
root_router.include_router(health_router)
root_router.include_router(api_router)
# --8<-- [end:routers]
