"""Launching many runs: a local thread pool or one submitit job per run, progress lines and a summary."""

import concurrent.futures
import contextlib
import time
from typing import Callable, List, Optional

from dynamos_plugin.experiments.execute import execute, failure_text, stop_active
from dynamos_plugin.experiments.grid import Run, Settings
from dynamos_plugin.experiments.records import write_json
from dynamos_plugin.glue.paths import repo_relative


def summary_line(record: dict) -> str:
    if record['status'] == 'ok':
        return f'{record["setting"]} {record["accuracy"]:.2f} % in {record["wall_s"] / 60:.1f} min'
    if record['status'] == 'failed':
        reason, error = record.get('reason'), record.get('error')
        return f'FAILED ({reason})' + (f': {error}' if error else '') + f'; log: {record["log"]}'
    return {'busy': 'skipped: another runner is running it', 'skipped': 'skipped: recorded meanwhile'}[record['status']]


def _run_local(todo: List[Run], settings: Settings, jobs: int, report: Callable) -> None:
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs))
    futures = {pool.submit(execute, run, settings): run for run in todo}
    try:
        for future in concurrent.futures.as_completed(futures):
            report(futures[future], future)
    except KeyboardInterrupt:
        stop_active()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _run_submitit(todo: List[Run], settings: Settings, params: dict, cluster: Optional[str], report: Callable) -> None:
    import submitit
    executor = submitit.AutoExecutor(folder=str(settings.runs_dir / 'submitit' / '%j'), cluster=cluster)
    executor.update_parameters(**params)
    jobs = [(run, executor.submit(execute, run, settings)) for run in todo]
    print(f'submitted {len(jobs)} jobs ({executor.cluster}): '
          + ', '.join(sorted({str(job.job_id).split('_')[0] for _, job in jobs})[:10]), flush=True)
    for run, job in jobs:
        report(run, job)


def _job_record(run: Run, settings: Settings, future) -> dict:
    """The record a run's future returned; when the job itself failed (Slurm timeout, node failure, a bug),
    a failure record, also written to the run's ``failed.json``."""
    try:
        return future.result()
    except Exception as e:
        record = {'run': run.name, 'status': 'failed', 'reason': f'{type(e).__name__}: {e}',
                  'log': repo_relative(settings.run_dir(run) / 'log.txt')}
        with contextlib.suppress(OSError):
            write_json(settings.run_dir(run) / 'failed.json', record)
        return record


def _summary(runs: List[Run], todo: List[Run], results: List[dict], minutes: float, interrupted: bool) -> str:
    counts = {s: sum(r['status'] == s for r in results) for s in ('ok', 'failed', 'busy', 'skipped')}
    lines = [f'summary: {len(runs)} selected, {len(runs) - len(todo)} already recorded, {counts["ok"]} ok, '
             f'{counts["failed"]} failed, {counts["busy"] + counts["skipped"]} skipped '
             f'(running elsewhere or recorded meanwhile), in {minutes:.1f} min']
    lines += [f'  ok      {r["run"]}: {summary_line(r)}' for r in results if r['status'] == 'ok']
    lines += [f'  FAILED  {r["run"]}: {failure_text(r)}; log: {r["log"]}' for r in results if r['status'] == 'failed']
    if interrupted:
        lines.append(f'interrupted: {len(todo) - len(results)} runs did not finish; run the same command to resume')
    return '\n'.join(lines)


def run_grid(runs: List[Run], settings: Settings, jobs: int = 1, executor: str = 'local',
             slurm: Optional[dict] = None, cluster: Optional[str] = None) -> int:
    """Runs every run of ``runs`` without a record; prints progress and a summary; returns the number of failures.

    ``executor='local'``: ``jobs`` runs at a time on this machine. ``executor='slurm'``: one job per
    run through submitit's AutoExecutor with the parameters ``slurm`` (``cluster`` None picks Slurm
    when available; ``'debug'`` runs the jobs in this process, for testing the submission path).
    """
    todo = [r for r in runs if not settings.record_path(r).exists()]
    print(f'{len(runs)} runs in the selection, {len(runs) - len(todo)} already recorded, {len(todo)} to run',
          flush=True)
    results: List[dict] = []
    started = time.time()

    def report(run: Run, future) -> None:
        results.append(_job_record(run, settings, future))
        print(f'[{len(results)}/{len(todo)}] {run.name}: {summary_line(results[-1])}', flush=True)

    interrupted = False
    try:
        if executor == 'slurm':
            _run_submitit(todo, settings, slurm or {}, cluster, report)
        else:
            _run_local(todo, settings, jobs, report)
    except KeyboardInterrupt:
        interrupted = True
    print(_summary(runs, todo, results, (time.time() - started) / 60, interrupted), flush=True)
    if interrupted:
        raise KeyboardInterrupt
    return sum(r['status'] == 'failed' for r in results)
