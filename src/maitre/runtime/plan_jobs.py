"""Plan predictions for the API: `maitre plan check --json` run as a child process, one per venue at a time.

A prediction plays minutes of simulated evenings; it runs in its own process (the simulator is a
tool, never imported by the service) at low priority, so greeting never waits for it. The last
result per venue is kept in memory until the service restarts.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import os
import sys
import time
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

STDERR_TAIL = 2_000  # characters of a failed run's error output kept for the operator


@dataclass
class PlanJob:
    status: str  # running, done, failed
    started: float
    radios: int
    finished: float | None = None
    report: dict[str, object] | None = None
    error: str | None = None
    task: concurrent.futures.Future[None] | None = field(default=None, repr=False)

    def public(self) -> dict[str, object]:
        return {
            "status": self.status,
            "started": self.started,
            "finished": self.finished,
            "radios": self.radios,
            "report": self.report,
            "error": self.error,
        }


def _lower_priority() -> None:
    """In the child, before it runs: below the service, so greeting never waits for a prediction."""
    os.nice(10)


class PlanJobs:
    """At most one prediction per venue at a time; `database_url` is where the child reads the plan."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.jobs: dict[str, PlanJob] = {}
        self.loop: asyncio.AbstractEventLoop | None = None  # the service's, set when it starts

    def running(self, venue: str) -> bool:
        job = self.jobs.get(venue)
        return job is not None and job.status == "running"

    def start(self, venue: str, radios: int, advice: bool = True, evening_s: float = 360.0) -> PlanJob:
        """Start a prediction for `venue` (the caller checked none is running); from any thread."""
        if self.loop is None:
            raise RuntimeError("the service has not started")
        job = self.jobs[venue] = PlanJob("running", time.time(), radios)
        job.task = asyncio.run_coroutine_threadsafe(self._run(venue, job, advice, evening_s), self.loop)
        return job

    async def _run(self, venue: str, job: PlanJob, advice: bool, evening_s: float) -> None:
        command = [sys.executable, "-m", "maitre.cli", "plan", "check", venue, "--json"]
        command += ["--evening-seconds", str(evening_s)]
        command += ["--radios", str(job.radios)] + ([] if advice else ["--no-advice"])
        env = {**os.environ, "MAITRE_DATABASE_URL": self.database_url}
        child: asyncio.subprocess.Process | None = None
        try:
            child = await asyncio.create_subprocess_exec(
                *command,
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                preexec_fn=_lower_priority,
            )
            out, err = await child.communicate()
            if child.returncode == 0:
                job.report = json.loads(out)
                job.status = "done"
            else:
                job.status = "failed"
                job.error = err.decode(errors="replace")[-STDERR_TAIL:].strip()
        except asyncio.CancelledError:
            job.status, job.error = "failed", "the service stopped while it ran"
            if child is not None and child.returncode is None:
                child.kill()
            raise
        except (OSError, ValueError) as exc:
            job.status, job.error = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            job.finished = time.time()
            log.info("plan prediction for %s: %s", venue, job.status)

    async def stop(self) -> None:
        """Cancel what still runs (its child is killed)."""
        for job in self.jobs.values():
            if job.task is not None and not job.task.done():
                job.task.cancel()
        await asyncio.sleep(0)  # let the cancelled runs kill their children
