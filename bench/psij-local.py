"""N /bin/true jobs through psij-python's local executor; prints one JSON line with jobs/s.

Used by bench/local-executor.ts as the peer measured in the same run. Needs psij-python importable
(PYTHONPATH=<psij-python checkout>/src) and its dependencies (Debian: python3-psutil,
python3-pystache, python3-typeguard).
"""
import json
import sys
import time
import warnings

warnings.simplefilter("ignore")  # typeguard 2 warns about unannotated classes
from psij import Job, JobExecutor, JobSpec, JobState  # noqa: E402

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
executor = JobExecutor.get_instance("local")
warm = [Job(JobSpec(executable="/bin/true")) for _ in range(20)]
for job in warm:
    executor.submit(job)
for job in warm:
    job.wait()
jobs = [Job(JobSpec(executable="/bin/true")) for _ in range(n)]
start = time.perf_counter()
for job in jobs:
    executor.submit(job)
for job in jobs:
    job.wait()
elapsed = time.perf_counter() - start
failed = sum(1 for job in jobs if job.status.state != JobState.COMPLETED)
import psij  # noqa: E402

print(json.dumps({"jobs": n, "jobsPerSec": n / elapsed, "failed": failed, "version": psij.__version__}))
