"""Executing one run: its lock, the Mammoth process, judging its log, its record (or ``failed.json``);
and the registry of this runner's Mammoth processes, so that an interrupted runner stops them."""

import contextlib
import datetime
import fcntl
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Iterator, Optional, Tuple

from dynamos_plugin import runlog
from dynamos_plugin.experiments.grid import TABLES, Run, Settings
from dynamos_plugin.experiments.records import git_state, hardware, write_json
from dynamos_plugin.glue.paths import MAMMOTH, REPO, repo_relative
from dynamos_plugin.glue.mammoth_log import STOPPED_LINE, parse_log

# the Mammoth processes of this runner, to stop them when the runner is interrupted
_ACTIVE: set = set()
_ACTIVE_LOCK = threading.Lock()
_STOPPING = threading.Event()


def _tail(path: Path, n: int = 15) -> str:
    with contextlib.suppress(OSError):
        return '\n'.join(path.read_text(errors='replace').splitlines()[-n:])
    return ''


def execute(run: Run, settings: Settings) -> dict:
    """Runs one cell-seed from scratch and, if it succeeded, writes its record. Returns a summary record.

    Status: ``ok`` (record written), ``failed`` (exit code non-zero, or no accuracy line: the
    details go to ``<run dir>/failed.json``, with Mammoth's error line as ``error``; no record, so
    the next invocation redoes it), ``skipped`` (a record appeared meanwhile) or ``busy`` (another
    runner is running it now: a lock file beside the run folder, held by the Mammoth process too,
    says so; its holder removes it when the run is over).
    """
    run_dir = settings.run_dir(run)
    base = {'run': run.name, 'table': run.table, 'dataset': run.dataset, 'method': run.method, 'buffer': run.buffer,
            'seed': run.seed, 'log': repo_relative(run_dir / 'log.txt')}
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    with run_lock(run_dir.parent / f'{run_dir.name}.lock', run.name) as lock:
        if lock is None:
            return dict(base, status='busy')
        if settings.record_path(run).exists():
            return dict(base, status='skipped')
        if _STOPPING.is_set():
            return dict(base, status='failed', returncode=None, reason='not started: the runner was interrupted')
        return _execute_locked(run, settings, run_dir, base, lock.fileno())


@contextlib.contextmanager
def run_lock(path: Path, name: str = '', attempts: int = 20) -> Iterator[Optional[IO]]:
    """Holds the lock file ``path`` for the ``with`` block: yields it open and locked (an exclusive ``flock``),
    or None when another runner holds it. The holder removes the file at the end, before letting go of it.

    Removing a lock file is safe because a runner checks, once it holds the lock of the file it opened,
    that this file is still the one at ``path``: a runner that opened the file just before its holder
    removed it would otherwise lock a file nobody else can see, beside a new one another runner locks.
    It then tries again with the file now at ``path``. On a file system without locks (some cluster
    mounts) the block runs unguarded, with a warning, and the file is left where it is.
    """
    for _ in range(attempts):
        lock = open(path, 'a')
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            yield None
            return
        except OSError as e:
            print(f'warning: cannot lock {path} ({e}); running {name} without the guard', file=sys.stderr)
            with lock:
                yield lock
            return
        try:
            current = os.path.samestat(os.fstat(lock.fileno()), os.stat(path))
        except FileNotFoundError:
            current = False
        if not current:  # its holder removed it (and released it) after we opened it: take the one at path now
            lock.close()
            continue
        try:
            yield lock
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)  # still held: nobody else can be running this run meanwhile
            lock.close()
        return
    yield None  # the file kept being replaced: other runners are taking turns on this run


def _execute_locked(run: Run, settings: Settings, run_dir: Path, base: dict, lock_fd: int) -> dict:
    if run_dir.exists():
        shutil.rmtree(run_dir)  # an interrupted or failed attempt: start from scratch
    run_dir.mkdir(parents=True)
    # the code that runs is the code at launch: a commit made while the run trains must not be credited with it
    repo, mammoth = git_state(REPO), git_state(MAMMOTH)
    start = time.time()
    returncode, reason = _run_mammoth(settings.command(run), run_dir / 'log.txt', settings.threads, lock_fd)
    wall = time.time() - start
    text = (run_dir / 'log.txt').read_text(errors='replace')
    parsed = parse_log(text)
    record = dict(base, args=run.mammoth_args(settings.base_path), extra_args=list(settings.extra_args),
                  command=settings.recorded_command(run), returncode=returncode, wall_s=round(wall, 1),
                  started=datetime.datetime.fromtimestamp(start).isoformat(timespec='seconds'),
                  commit=repo['commit'], dirty=repo['dirty'], mammoth_commit=mammoth['commit'],
                  mammoth_dirty=mammoth['dirty'], mammoth_diff_sha1=mammoth['diff_sha1'],
                  hardware=hardware(), threads=settings.threads)
    reason = reason or _failure_reason(run, text, parsed, returncode)
    if reason is None:
        record.update(parsed, status='ok')
        curve = runlog.read(text, 'anytime')  # --eval_every (patch 0030): the accuracy along the stream
        if curve:
            record['anytime'] = curve
        write_json(settings.record_path(run), record)
        return record
    record.update(status='failed', reason=reason, error=error_line(text) if returncode else None,
                  log_tail=_tail(run_dir / 'log.txt'))
    write_json(run_dir / 'failed.json', record)
    return record


def _run_mammoth(cmd, log_path: Path, threads: int, lock_fd: int) -> Tuple[Optional[int], Optional[str]]:
    """Runs ``cmd`` with its output in ``log_path`` (its first line: the command); returns its exit code, or a
    reason when it could not start. Registered in :data:`_ACTIVE` while it lives."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), PYTHONUNBUFFERED='1')
    with open(log_path, 'w') as log:
        log.write(f'# {shlex.join(cmd)}\n')
        log.flush()
        try:
            # the Mammoth process inherits the lock: the run stays locked while it lives
            proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, pass_fds=(lock_fd,))
        except OSError as e:
            return None, f'could not start: {e}'
        with _ACTIVE_LOCK:
            _ACTIVE.add(proc)
        try:
            return proc.wait(), None
        finally:
            with _ACTIVE_LOCK:
                _ACTIVE.discard(proc)


# the line that says why a run failed: argparse's "main.py: error: ...", Mammoth's last words for a failed run
# (utils: "[ERROR] <time> - <Type>: <message>", patches/0007), or a traceback's last line (MAMMOTH_TRACEBACK=1)
_ARGPARSE_ERROR_RE = re.compile(r'^\S+: error: .*')
_LOGGED_ERROR_RE = re.compile(r'^\[ERROR\] .*? - ((?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*: .*)')
_EXCEPTION_RE = re.compile(r'^(?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*(?:Error|Exception|Exit|Interrupt)(?:: .*)?$')
_MAX_ERROR_CHARS = 500


def error_line(log: str) -> Optional[str]:
    """Why a failed Mammoth process failed, in one line of its log: an argparse error, else the last error
    Mammoth logged (``<Type>: <message>``), else the last line of a traceback, else the last non-empty line
    (the runner's own first line, the command, aside). Long lines are cut to 500 characters."""
    lines = [line.strip() for line in log.splitlines()[1 if log.startswith('# ') else 0:] if line.strip()]
    found = None
    for pattern in (_ARGPARSE_ERROR_RE, _LOGGED_ERROR_RE, _EXCEPTION_RE):
        match = next((m for m in map(pattern.match, reversed(lines)) if m), None)
        if match:
            found = match.group(match.lastindex or 0)
            break
    found = found or (lines[-1] if lines else None)
    if found and len(found) > _MAX_ERROR_CHARS:
        found = found[:_MAX_ERROR_CHARS - 3] + '...'
    return found


def failure_text(record: dict) -> str:
    """A failed run's reason and, when there is one, its error line: ``exit code 1: ValueError: boom``."""
    return f'{record.get("reason")}: {record["error"]}' if record.get('error') else str(record.get('reason'))


def _failure_reason(run: Run, text: str, parsed: Optional[dict], returncode: Optional[int]) -> Optional[str]:
    """Why a finished run is not a record (None: it is one)."""
    expected_tasks = TABLES[run.table]['tasks']
    if STOPPED_LINE in text:
        # Mammoth stops gracefully on SIGTERM/SIGINT, with exit code 0 and the accuracy of the tasks done so far
        return 'stopped by a signal before the end (Mammoth exited 0 after a partial run)'
    if parsed is not None and parsed['n_tasks'] != expected_tasks:
        return f'the last accuracy line covers {parsed["n_tasks"]} of the {expected_tasks} tasks of {run.dataset}'
    if returncode != 0:
        return f'exit code {returncode}'
    if parsed is None:
        return 'exit code 0 but no accuracy line in the log'
    return None


def allow_starts() -> None:
    """Lets runs start again after :func:`stop_active` (a runner invoked again in the same process)."""
    _STOPPING.clear()


def stop_active(sig=signal.SIGTERM) -> None:
    """Stops the Mammoth processes of this runner (and only those).

    SIGTERM, not SIGINT: a runner started from a non-interactive shell in the background (``nohup
    ... &``, a CI step) passes SIGINT on as *ignored*, and a program that does not install its own
    handler would never see it. Mammoth handles SIGTERM exactly as SIGINT.
    """
    _STOPPING.set()
    with _ACTIVE_LOCK:
        for proc in list(_ACTIVE):
            with contextlib.suppress(OSError):
                proc.send_signal(sig)
