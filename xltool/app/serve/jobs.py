"""Long work in a worker thread, one job at a time in the folder; the page polls it."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from xltool.errors import XltoolError


@dataclass
class Job:
    """Long work (checking or consolidating many files) in a worker thread; the page polls it."""

    id: str
    kind: str
    state: str = "running"  # running | done | failed
    done: int = 0
    total: int = 0
    file: str = ""
    message: str = ""
    detail: str = ""  # an unexpected error's own text (English, for a bug report): never in the message
    result: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class Jobs:
    def __init__(self) -> None:
        self.jobs: dict[str, Job] = {}
        self.lock = threading.Lock()
        self.folder_lock = threading.Lock()  # one job at a time writes into the folder

    def start(self, kind: str, work: Callable[[Job], dict[str, Any]]) -> Job:
        job = Job(uuid.uuid4().hex, kind)
        with self.lock:
            self.jobs[job.id] = job

        def run() -> None:
            with self.folder_lock:
                try:
                    job.result = work(job)
                    job.state = "done"
                except XltoolError as exc:
                    job.message, job.state = str(exc), "failed"
                except Exception as exc:  # the page says it; the server keeps going
                    job.message, job.state = "出错了：xltool 的内部错误，请把详情报告给开发者", "failed"
                    job.detail = f"{type(exc).__name__}: {exc}"

        threading.Thread(target=run, name=f"xltool-{kind}", daemon=True).start()
        return job

    def get(self, job_id: str) -> Job | None:
        with self.lock:
            return self.jobs.get(job_id)
