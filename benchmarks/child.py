"""Entry point of a measured job's process: ``python -m benchmarks.child ARGS_JSON``.

``ARGS_JSON`` names the job, its arguments and the file the result is written to.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from benchmarks.measure import run_job


def main(spec_path: str) -> None:
    """Run the job ``spec_path`` describes and write its JSON result."""
    spec = json.loads(Path(spec_path).read_text())
    result = run_job(spec["job"], spec["args"])
    Path(spec["result"]).write_text(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1])
