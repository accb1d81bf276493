"""
How long a selection of runs would take (``./run_experiments.sh --dry-run``): the mean committed wall time of each
run's cell (dataset, method, buffer) in the reference records, ``results/records/``, which were measured on this
project's 2-core CPU at one thread per run, two runs at a time.
"""

from collections import defaultdict
from statistics import mean
from typing import Dict, List, Sequence, Tuple

from dynamos_plugin.experiments.grid import Run

Cell = Tuple[str, str, int]


def cell_of(dataset: str, method: str, buffer) -> Cell:
    """The cell of a run or record (a method without a buffer, SGD, is buffer 0)."""
    return dataset, method, int(buffer or 0)


def cell_wall_times(records: Sequence[dict]) -> Dict[Cell, float]:
    """The mean ``wall_s`` of the finished records (``status`` ok) of each cell."""
    times: Dict[Cell, List[float]] = defaultdict(list)
    for record in records:
        if record.get('status') == 'ok' and record.get('wall_s') is not None:
            times[cell_of(record['dataset'], record['method'], record.get('buffer'))].append(float(record['wall_s']))
    return {cell: mean(values) for cell, values in times.items()}


def estimate(runs: Sequence[Run], wall_times: Dict[Cell, float]) -> Tuple[float, int]:
    """The summed wall time, in seconds, of the runs whose cell has a committed time, and how many have none."""
    known = [wall_times[cell_of(r.dataset, r.method, r.buffer)] for r in runs
             if cell_of(r.dataset, r.method, r.buffer) in wall_times]
    return sum(known), len(runs) - len(known)


def estimate_line(runs: Sequence[Run], wall_times: Dict[Cell, float], jobs: int) -> str:
    """One line for the dry run: the runs' summed wall time and, with ``jobs`` at a time, the elapsed time."""
    seconds, unknown = estimate(runs, wall_times)
    if not runs:
        return 'nothing to run'
    line = (f'estimated: {seconds / 3600:.1f} h of run time for {len(runs) - unknown} of the {len(runs)} runs to do '
            f'(the committed wall times of their cells: 1 thread per run, two at a time on a 2-core CPU), '
            f'about {seconds / 3600 / max(1, jobs):.1f} h from start to end with -j {max(1, jobs)}')
    if unknown:
        line += f'; {unknown} run(s) in cells with no committed wall time are not counted'
    return line
