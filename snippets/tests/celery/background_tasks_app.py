"""The service plus one route that uses `BackgroundTasks`, served in a process
of its own by the test that kills it.

Run as `python -m uvicorn tests.celery.background_tasks_app:app` from the
service's folder.
"""

import time
from pathlib import Path

from fastapi import BackgroundTasks

from app.main import create_app

app = create_app()

JOB_SECONDS = 2.0


# --8<-- [start:background_tasks_route]
def write_report(path: str) -> None:
    """The job: two seconds of work, then its result on disk."""
    time.sleep(JOB_SECONDS)
    Path(path).write_text("written")


@app.post("/reports", status_code=202)
async def create_report(path: str, background_tasks: BackgroundTasks) -> None:
    """Answer at once; the job runs after the response, in this same
    process.
    """
    background_tasks.add_task(write_report, path)


# --8<-- [end:background_tasks_route]
