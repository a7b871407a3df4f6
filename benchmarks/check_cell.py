"""How long a check cell takes in a real kernel, torch already imported (median of repeats).

    .venv/bin/python benchmarks/check_cell.py [--repeats 15]

Runs each stage's finished notebook definitions in one kernel, then times `check("<item>")` for
every item (public graders, as a student runs it) and prints the medians.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from autograder import registry  # noqa: E402
from autograder.instructor import submissions
from autograder.notebook import nbgrader_meta  # noqa: E402

TIMER = """
import json, statistics, time, io, contextlib
_times = {}
for _item in %(items)r:
    _t = []
    for _ in range(%(repeats)d):
        with contextlib.redirect_stdout(io.StringIO()):
            _s = time.perf_counter(); check(_item); _t.append(time.perf_counter() - _s)
    _times[_item] = _t
print("TIMES" + json.dumps(_times))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    cells = ["import torch  # torch already imported, as in stage 03 onwards"]
    items = []
    for stage in registry.STAGES[:3]:
        release = submissions.load(REPO / "assignments" / stage.id / stage.notebook)
        solution = submissions.load(REPO / "solutions" / stage.id / stage.notebook)
        filled = submissions.fill(release, solution)
        cells += [c["source"] if isinstance(c["source"], str) else "".join(c["source"])
                  for c in filled["cells"]
                  if c["cell_type"] == "code" and (nbgrader_meta(c).get("solution") or nbgrader_meta(c).get("grade_id") == "setup")]
        items += [i.id for i in registry.items_of(stage.id)]
    cells = [c for c in cells if "carry_forward" not in c]  # graders inject trusted blocks anyway
    cells.append(TIMER % {"items": items, "repeats": args.repeats})
    nb = new_notebook(cells=[new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(REPO / "solutions" / registry.STAGES[1].id)}}).execute()
    out = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.output_type == "stream")
    times = json.loads(out.split("TIMES", 1)[1])
    print(f"check() in a kernel, median of {args.repeats} runs (first run excluded):")
    medians = []
    for item, ts in times.items():
        med = statistics.median(ts[1:])
        medians.append(med)
        print(f"  {item:32s} {med * 1000:7.1f} ms   (first call {ts[0] * 1000:.0f} ms)")
    print(f"  {'median over items':32s} {statistics.median(medians) * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
