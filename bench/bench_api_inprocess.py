"""The API's cost per report, in one process: CPU time per POST /api/v1/reports through FastAPI's TestClient.

    .venv/bin/python bench/bench_api_inprocess.py [posts]

`bench_api.py` measures what 50 clients see over HTTP, which on a shared machine swings with the neighbours'
load; this measures the server's own work per report (routing, auth, validation, the group commit, the audit
event), with `time.process_time()`, so two versions can be compared on a busy machine. Same store layout as
`bench_api.py` (one clerk, five quantity indicators); 200 posts warm up before the clock starts.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main() -> None:
    posts = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    url = f"sqlite:///{tempfile.mkdtemp()}/api.sqlite"
    os.environ["KPIWATCH_DATABASE_URL"] = url
    os.environ.setdefault("KPIWATCH_SECRET_KEY", "bench-" + "x" * 40)
    import bench_api
    from fastapi.testclient import TestClient

    from monitor.config import load_config
    from monitor.web.app import create_app

    tokens, indicators, year = bench_api.build_store(url, 1, 5)
    rng = random.Random(1)
    with TestClient(create_app(load_config())) as http:
        headers = {"Authorization": f"Bearer {tokens[0]}"}

        def post(i: int) -> None:
            body = {"indicator_id": indicators[0][i % 5], "value": str(rng.randint(1, 900)),
                    "as_of": (date(year, 1, 1) + timedelta(days=i % 150)).isoformat()}
            response = http.post("/api/v1/reports", json=body, headers=headers)
            if response.status_code >= 300:
                raise SystemExit(f"post {i}: {response.status_code} {response.text}")

        for i in range(200):
            post(i)
        cpu, wall = time.process_time(), time.perf_counter()
        for i in range(200, 200 + posts):
            post(i)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"{posts} posts: CPU {1000 * cpu / posts:.3f} ms per post, wall {1000 * wall / posts:.3f} ms per post")


if __name__ == "__main__":
    main()
