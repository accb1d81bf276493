"""Mutation testing of the core modules with cosmic-ray, on a copy of the tree (issue 12).

    .venv/bin/python benchmarks/mutation.py [MODULE ...] [--workers N] [--timeout S] [--count-only] [--resume]

MODULE: paths such as ``dynamos_plugin/losses.py`` (default: the six core modules, ``CORE``).
Needs the ``mutation`` extra: ``.venv/bin/pip install -e '.[mutation]'`` (or ``cosmic-ray==8.7.0``).

What it does, never touching this checkout's sources:

1. copies the tree (git-tracked files, untracked ones git does not ignore, and Mammoth's working
   tree with the patches applied, less its ``.git``) into a temporary folder made a git repository
   of one commit, and runs everything
   there with that folder first on ``PYTHONPATH`` (so its ``dynamos_plugin`` is the one imported, not
   the editable install's);
2. calibration: runs the unit tests (``tests/unit/``, in-process) once unmutated (``benchmarks/mutation_select.py``
   also leaves out, through ``PYTEST_PLUGINS``, any of them that starts a program, statically and by recording who creates a
   process), which must pass; then ``cosmic-ray baseline`` with the exact test command, whose time
   sets the per-mutant timeout (``--timeout``, default max(60 s, 3 x baseline));
3. ``cosmic-ray init`` over the modules (all of cosmic-ray's operators), then ``cosmic-ray exec``:
   for each mutant, ``pytest -x -q -p no:cacheprovider`` over the selected tests, one worker by
   default; ``--workers N`` runs N http workers, each in its own copy;
4. writes ``mutation.md`` and ``mutation.json`` to ``results/benchmarks/mutation/<modules>/`` (``--out``): score = killed / total (a timeout or a
   mutant that breaks the import counts as killed), per module, and every surviving mutant with
   file:line, operator, the original and the mutated line.

``--recheck REPORT.json`` re-runs only the survivors of an earlier report against the current tests (after
writing tests that should kill them): each mutated line is put back in a copy of the current tree (found by
its text near its old line number) and the same test command runs; it prints, and writes beside the report
as ``recheck.json``, which survivors are now killed, which still survive, and which no longer apply (their
line changed).

The session database is kept in ``.mutation/session.sqlite`` (git-ignored; read it with
``cosmic-ray dump`` or ``cr-report``); ``--resume`` continues an interrupted run from it if the
modules have not changed. ``--count-only`` stops after ``init`` and prints the number of mutants.
"""

import argparse
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from dynamos_plugin.glue.paths import REPO  # the plugin is installed (editable) in the venv

CORE = ['dynamos_plugin/agent.py', 'dynamos_plugin/backbone.py', 'dynamos_plugin/losses.py',
        'dynamos_plugin/buffer.py', 'dynamos_plugin/dynamos.py', 'dynamos_plugin/msa.py']
STATE = REPO / '.mutation'
# the selection plugin comes through PYTEST_PLUGINS (see env_for): Mammoth's argument parser, which tests call
# in-process, refuses a flag given twice in sys.argv, pytest's own command line
PYTEST = ['-m', 'pytest', '-x', '-q', '-p', 'no:cacheprovider', '-W', 'ignore', '--mutation-exclude', '.mutation/exclude.txt', 'tests/unit']


def log(msg: str) -> None:
    print(f'[mutation {time.strftime("%H:%M:%S")}] {msg}', flush=True)


def copy_tree(dest: Path) -> None:
    """The tree as a commit of it would be (tracked + untracked-not-ignored files) and Mammoth's working tree."""
    files = subprocess.run(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], cwd=REPO,
                           capture_output=True, text=True, check=True).stdout
    for name in filter(None, files.split('\0')):
        src = REPO / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    shutil.rmtree(dest / 'mammoth', ignore_errors=True)
    shutil.copytree(REPO / 'mammoth', dest / 'mammoth', ignore=shutil.ignore_patterns('.git', '__pycache__', 'data'))
    # a repository of its own (one commit of the copy), for the tests that ask git about the tree
    git_c = ['git', '-c', 'user.name=mutation', '-c', 'user.email=mutation@localhost', '-c', 'init.defaultBranch=main']
    for cmd in (['init', '-q'], ['add', '-A'], ['commit', '-q', '--no-verify', '-m', 'copy for mutation testing']):
        subprocess.run(git_c + cmd, cwd=dest, check=True, capture_output=True)


def env_for(tree: Path) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1', PYTHONDONTWRITEBYTECODE='1', MAMMOTH_TEST='1',
               PYTEST_PLUGINS='benchmarks.mutation_select')
    env['PYTHONPATH'] = os.pathsep.join([str(tree)] + [p for p in env.get('PYTHONPATH', '').split(os.pathsep) if p])
    return env


def cr_cmd(*args) -> list:
    return [sys.executable, '-m', 'cosmic_ray.cli', *args]


def write_config(tree: Path, modules, timeout: float, worker_urls=None) -> Path:
    test_command = ' '.join([sys.executable, *PYTEST])
    lines = ['[cosmic-ray]',
             'module-path = [' + ', '.join(json.dumps(m) for m in modules) + ']',
             f'timeout = {timeout:.1f}',
             'excluded-modules = []',
             f'test-command = {json.dumps(test_command)}',
             '',
             '[cosmic-ray.distributor]',
             f'name = "{"http" if worker_urls else "local"}"']
    if worker_urls:
        lines += ['', '[cosmic-ray.distributor.http]', 'worker-urls = [' + ', '.join(map(json.dumps, worker_urls)) + ']']
    path = tree / '.mutation' / 'cosmic-ray.toml'
    path.write_text('\n'.join(lines) + '\n')
    return path


def fingerprint(tree: Path, modules) -> dict:
    return {m: hashlib.sha256((tree / m).read_bytes()).hexdigest() for m in modules}


def calibrate(tree: Path, left_out: dict) -> float:
    """Runs the selected tests unmutated, recording those that start a process; returns the time of `cosmic-ray baseline`."""
    env = env_for(tree)
    record = tree / '.mutation' / 'exclude.txt'
    record.write_text('')
    t0 = time.time()
    cmd = [sys.executable, *[a for a in PYTEST if a != '-x'], '--mutation-record', str(record)]
    proc = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True)
    failed_file = record.with_name(record.name + '.failed')
    failed = [line for line in failed_file.read_text().splitlines() if line] if failed_file.exists() else []
    spawned = [line for line in record.read_text().splitlines() if line]
    summary_line = (proc.stdout.strip().splitlines() or ['?'])[-1]
    if proc.returncode not in (0, 1) or len(failed) > 5:
        raise SystemExit(f'the unmutated tests do not run in the copy ({proc.returncode}, {len(failed)} failed); fix them first:\n'
                         f'{proc.stdout[-4000:]}{proc.stderr[-2000:]}')
    log(f'calibration: {summary_line} ({time.time() - t0:.0f} s); '
        f'{len(spawned)} more test(s) left out for starting a process, {len(failed)} for failing unmutated in the copy')
    for nodeid in spawned:
        log(f'  left out (starts a process): {nodeid}')
    for nodeid in failed:
        log(f'  left out (FAILS UNMUTATED in the copy): {nodeid}')
    record.write_text(''.join(f'{n}\n' for n in sorted(set(spawned) | set(failed))))
    left_out.update(spawned=spawned, failed_unmutated=failed)
    # the exact test command, as cosmic-ray runs it
    config = write_config(tree, ['dynamos_plugin/losses.py'], 3600)
    t0 = time.time()
    proc = subprocess.run(cr_cmd('baseline', str(config)), cwd=tree, env=env, capture_output=True, text=True)
    elapsed = time.time() - t0
    if proc.returncode != 0:
        raise SystemExit(f'cosmic-ray baseline failed:\n{proc.stdout[-4000:]}{proc.stderr[-4000:]}')
    collected = subprocess.run([sys.executable, *PYTEST, '--collect-only'], cwd=tree, env=env,
                               capture_output=True, text=True).stdout
    n_tests = sum(1 for line in collected.splitlines() if line.startswith('tests/') and '::' in line)
    left_out['selected'] = n_tests
    log(f'baseline (cosmic-ray baseline, {n_tests} tests): {elapsed:.0f} s')
    return elapsed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc, timeout=120) -> None:
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            raise SystemExit(f'http worker on port {port} exited with {proc.returncode}')
        with socket.socket() as s:
            if s.connect_ex(('127.0.0.1', port)) == 0:
                return
        time.sleep(0.5)
    raise SystemExit(f'http worker on port {port} did not start')


def progress(session: Path, stop: threading.Event, every: float = 60) -> None:
    from cosmic_ray.work_db import WorkDB, use_db
    t0 = time.time()
    while not stop.wait(every):
        try:
            with use_db(str(session), WorkDB.Mode.open) as db:
                done, total = db.num_results, db.num_work_items
        except Exception:  # the database is busy: next time
            continue
        rate = (time.time() - t0) / done if done else None
        eta = f', about {rate * (total - done) / 60:.0f} min left' if rate else ''
        log(f'{done}/{total} mutants done{eta}')


def execute(tree: Path, modules, timeout: float, workers: int, tmp: Path) -> None:
    session = tree / '.mutation' / 'session.sqlite'
    stop = threading.Event()
    watcher = threading.Thread(target=progress, args=(session, stop), daemon=True)
    procs = []
    try:
        if workers <= 1:
            config = write_config(tree, modules, timeout)
        else:
            urls = []
            for k in range(workers):
                copy = tmp / f'worker{k}'
                shutil.copytree(tree, copy, ignore=shutil.ignore_patterns('session.sqlite'))
                port = free_port()
                proc = subprocess.Popen(cr_cmd('http-worker', '--port', str(port)), cwd=copy, env=env_for(copy),
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                procs.append(proc)
                wait_for_port(port, proc)
                urls.append(f'http://127.0.0.1:{port}')
            config = write_config(tree, modules, timeout, urls)
        watcher.start()
        proc = subprocess.run(cr_cmd('exec', str(config), str(session)), cwd=tree, env=env_for(tree))
        if proc.returncode != 0:
            raise SystemExit(f'cosmic-ray exec failed ({proc.returncode})')
    finally:
        stop.set()
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def kill_leftovers(tmp: Path) -> None:
    """Kills what still runs in the copy (a test run cosmic-ray started in its own session, when interrupted)."""
    for proc_dir in Path('/proc').glob('[0-9]*'):
        try:
            if Path(os.readlink(proc_dir / 'cwd')).is_relative_to(tmp) and int(proc_dir.name) != os.getpid():
                os.kill(int(proc_dir.name), signal.SIGKILL)
        except (OSError, ValueError):
            pass


def changed_lines(diff: str):
    old = [l[1:] for l in diff.splitlines() if l.startswith('-') and not l.startswith('---')]
    new = [l[1:] for l in diff.splitlines() if l.startswith('+') and not l.startswith('+++')]
    return '\n'.join(old), '\n'.join(new)


def summarise(session: Path, modules, meta: dict) -> dict:
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome
    rows = []
    with use_db(str(session), WorkDB.Mode.open) as db:
        pending = sum(1 for _ in db.pending_work_items)
        for item, result in db.completed_work_items:
            (m,) = item.mutations
            if result.worker_outcome == WorkerOutcome.SKIPPED:
                outcome = 'skipped'
            elif result.worker_outcome != WorkerOutcome.NORMAL:
                outcome = 'error'  # the worker itself broke (WorkerOutcome.ABNORMAL/EXCEPTION)
            elif result.test_outcome == TestOutcome.SURVIVED:
                outcome = 'survived'
            elif result.test_outcome == TestOutcome.KILLED:
                outcome = 'timeout' if result.output == 'timeout' else 'killed'
            else:
                outcome = 'incompetent'
            old, new = changed_lines(result.diff or '')
            rows.append(dict(job_id=item.job_id, module=str(m.module_path), line=m.start_pos[0], column=m.start_pos[1],
                             operator=m.operator_name, occurrence=m.occurrence, outcome=outcome, original=old,
                             mutated=new))
    rows.sort(key=lambda r: (r['module'], r['line'], r['column'], r['operator'], r['occurrence']))
    counted = [r for r in rows if r['outcome'] != 'skipped']
    killed = sum(r['outcome'] in ('killed', 'timeout') for r in counted)
    per_module = {}
    for module in modules:
        c = Counter(r['outcome'] for r in counted if r['module'] == module)
        total = sum(c.values())
        per_module[module] = dict(total=total, killed=c['killed'] + c['timeout'], timeout=c['timeout'],
                                  survived=c['survived'], incompetent=c['incompetent'], error=c['error'],
                                  score=round((c['killed'] + c['timeout']) / total, 4) if total else None)
    return dict(meta, total=len(counted), killed=killed, pending=pending,
                survived=sum(r['outcome'] == 'survived' for r in counted),
                score=round(killed / len(counted), 4) if counted else None, per_module=per_module,
                surviving=[r for r in counted if r['outcome'] == 'survived'],
                not_killed_otherwise=[r for r in counted if r['outcome'] in ('incompetent', 'error')])


def write_report(summary: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / 'mutation.json').write_text(json.dumps(summary, indent=1) + '\n')
    s = summary
    pct = lambda x: 'n/a' if x is None else f'{100 * x:.1f}%'
    md = ['# Mutation testing (cosmic-ray)', '',
          f'Command: `{s["command"]}`  ',
          f'Date: {s["date"]}; commit {s["commit"]}{" (with uncommitted changes)" if s["dirty"] else ""}; '
          f'cosmic-ray {s["cosmic_ray"]}; {s["workers"]} worker(s), per-mutant timeout {s["timeout_s"]:.0f} s  ',
          f'Tests: {s["tests"]}: {s["tests_left_out"].get("selected", "?")} tests; left out besides the static rules: '
          f'{len(s["tests_left_out"].get("spawned", []))} that start a process, '
          f'{len(s["tests_left_out"].get("failed_unmutated", []))} that fail unmutated in the copy'
          + ''.join(f' `{n}`' for n in s['tests_left_out'].get('failed_unmutated', [])) + '  ',
          f'Baseline test run: {s["baseline_s"]:.0f} s; mutation run: {s["exec_s"] / 60:.1f} min, '
          f'{s["exec_s"] / max(s["total"], 1):.1f} s per mutant (wall, all workers)', '',
          f'**Score: {s["killed"]} / {s["total"]} killed = {pct(s["score"])}**'
          + (f' ({s["pending"]} mutants not run)' if s['pending'] else ''), '',
          '| module | mutants | killed | of which timeouts | survived | incompetent/error | score |',
          '|---|---:|---:|---:|---:|---:|---:|']
    for module, c in s['per_module'].items():
        md.append(f'| {module} | {c["total"]} | {c["killed"]} | {c["timeout"]} | {c["survived"]} | '
                  f'{c["incompetent"] + c["error"]} | {pct(c["score"])} |')
    md += ['', f'## Surviving mutants ({len(s["surviving"])})', '']
    if s['surviving']:
        md += ['| file:line | operator | original | mutated |', '|---|---|---|---|']
        esc = lambda t: '`' + t.strip().replace('|', '\\|').replace('\n', ' ⏎ ') + '`' if t.strip() else ''
        for r in s['surviving']:
            md.append(f'| {r["module"]}:{r["line"]} | {r["operator"].replace("core/", "")} | {esc(r["original"])} | '
                      f'{esc(r["mutated"])} |')
    if s['not_killed_otherwise']:
        md += ['', '## Incompetent or broken runs (counted, not killed)', '']
        md += [f'- {r["module"]}:{r["line"]} {r["operator"]}: {r["outcome"]}' for r in s['not_killed_otherwise']]
    (out / 'mutation.md').write_text('\n'.join(md) + '\n')


def recheck_one(tree: Path, r: dict, timeout: float) -> dict:
    """Puts survivor ``r``'s mutated line(s) back in ``tree`` (nearest its old line number), runs the tests, restores."""
    path = tree / r['module']
    pristine = path.read_text()
    lines = pristine.splitlines(keepends=True)
    old, new = r['original'].splitlines(), r['mutated'].splitlines()
    starts = [i for i in range(len(lines) - len(old) + 1)
              if [l.rstrip('\n') for l in lines[i:i + len(old)]] == old] if old else []
    if not starts:
        return dict(r, recheck='no longer applies', killed_by=[])
    i = min(starts, key=lambda s: abs(s + 1 - r['line']))
    path.write_text(''.join(lines[:i] + [l + '\n' for l in new] + lines[i + len(old):]))
    try:
        proc = subprocess.run([sys.executable, *PYTEST], cwd=tree, env=env_for(tree), capture_output=True,
                              text=True, timeout=timeout)
        failed = [l.split()[1] for l in proc.stdout.splitlines() if l.startswith('FAILED ')]
        outcome = 'survived' if proc.returncode == 0 else 'killed'
    except subprocess.TimeoutExpired:
        outcome, failed = 'killed', ['(timeout)']
    finally:
        path.write_text(pristine)
    return dict(r, recheck=outcome, killed_by=failed[:1])


def recheck(report: Path, workers: int = 1, timeout: float = 300) -> int:
    """Re-runs the survivors of ``report`` (a ``mutation.json``) against the current tests; see the module docstring."""
    from concurrent.futures import ThreadPoolExecutor
    survivors = json.loads(report.read_text())['surviving']
    copied_from = dict(commit=git('rev-parse', '--short', 'HEAD'),
                       dirty=bool(git('status', '--porcelain', '--untracked-files=no',
                                              '--ignore-submodules=dirty')))
    tmp = Path(tempfile.mkdtemp(prefix='dynamos-recheck-'))
    try:
        trees = [tmp / f'tree{k}' for k in range(max(1, workers))]
        copy_tree(trees[0])
        (trees[0] / '.mutation').mkdir()
        (trees[0] / '.mutation' / 'pristine.json').write_text(json.dumps(fingerprint(trees[0], CORE), indent=1))
        calibrate(trees[0], {})  # the same selection as the run: tests that start a process or fail unmutated are out
        for tree in trees[1:]:
            shutil.copytree(trees[0], tree, symlinks=True)

        def work(k):
            done = []
            for r in survivors[k::len(trees)]:
                done.append(recheck_one(trees[k], r, timeout))
                log(f'{r["module"]}:{r["line"]} {r["operator"]}: {done[-1]["recheck"]} {" ".join(done[-1]["killed_by"])}')
            return done
        with ThreadPoolExecutor(len(trees)) as pool:
            results = [r for chunk in pool.map(work, range(len(trees))) for r in chunk]
    finally:
        kill_leftovers(tmp)
        shutil.rmtree(tmp, ignore_errors=True)
    results.sort(key=lambda r: (r['module'], r['line'], r['operator'], r.get('occurrence', 0)))
    counts = Counter(r['recheck'] for r in results)
    summary = dict(report=repo_relative_path(report), **copied_from, date=time.strftime('%Y-%m-%d %H:%M'),
                   counts=dict(counts), mutants=results)
    (report.parent / 'recheck.json').write_text(json.dumps(summary, indent=1) + '\n')
    log(f'recheck of {len(results)} survivors: ' + ', '.join(f'{v} {k}' for k, v in counts.items()))
    return 0


def repo_relative_path(path: Path) -> str:
    path = path.resolve()
    return path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else path.name


def git(*args) -> str:
    return subprocess.run(['git', *args], cwd=REPO, capture_output=True, text=True).stdout.strip()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('modules', nargs='*', default=CORE, help='modules to mutate (default: the six core modules)')
    p.add_argument('--workers', type=int, default=1, help='parallel workers, each on its own copy (default 1)')
    p.add_argument('--timeout', type=float, default=None, help='per-mutant timeout in s (default max(60, 3 x baseline))')
    p.add_argument('--count-only', action='store_true', help='count the mutants per module and stop (no test run)')
    p.add_argument('--resume', action='store_true', help='continue the session in .mutation/ if the modules are unchanged')
    p.add_argument('--out', type=Path, default=None,
                   help='report folder (default: results/benchmarks/mutation/<modules>/, e.g. .../agent-msa/; '
                        '.../all/ for the six core modules)')
    p.add_argument('--keep', action='store_true', help='keep the temporary copy (its path is printed)')
    p.add_argument('--recheck', type=Path, metavar='REPORT.json',
                   help='re-run only the survivors of this report against the current tests (writes recheck.json beside it)')
    a = p.parse_args(argv)
    # Ctrl-C or a SIGTERM: save the session (for --resume) and clean up, even where the shell ignored SIGINT
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if a.recheck:
        return recheck(a.recheck, a.workers)
    modules = [Path(m).resolve().relative_to(REPO).as_posix() if Path(m).is_absolute() else Path(m).as_posix()
               for m in a.modules]
    for m in modules:
        if not (REPO / m).is_file():
            p.error(f'no such module: {m}')
    if a.out is None:
        name = 'all' if sorted(modules) == sorted(CORE) else '-'.join(Path(m).stem for m in modules)
        a.out = REPO / 'results' / 'benchmarks' / 'mutation' / name
    try:
        import cosmic_ray  # noqa: F401
    except ImportError:
        p.error("cosmic-ray is not installed: .venv/bin/pip install -e '.[mutation]'")

    tmp = Path(tempfile.mkdtemp(prefix='dynamos-mutation-'))
    tree = tmp / 'tree'
    try:
        copied_from = dict(commit=git('rev-parse', '--short', 'HEAD'),  # the tree the mutants are made from
                           dirty=bool(git('status', '--porcelain', '--untracked-files=no',
                                              '--ignore-submodules=dirty')))
        copy_tree(tree)
        (tree / '.mutation').mkdir()
        session = tree / '.mutation' / 'session.sqlite'
        log(f'copy of the tree in {tree}')
        if a.count_only:
            config = write_config(tree, modules, 60)
            subprocess.run(cr_cmd('init', str(config), str(session)), cwd=tree, env=env_for(tree), check=True)
            from cosmic_ray.work_db import WorkDB, use_db
            with use_db(str(session), WorkDB.Mode.open) as db:
                counts = Counter(str(item.mutations[0].module_path) for item in db.work_items)
            for m in modules:
                print(f'{counts[m]:6d}  {m}')
            print(f'{sum(counts.values()):6d}  total')
            return 0

        # the pristine modules, by which benchmarks/mutation_select.py sees which one a mutant changed
        (tree / '.mutation' / 'pristine.json').write_text(json.dumps(fingerprint(tree, CORE + modules), indent=1))
        left_out = {}
        baseline = calibrate(tree, left_out)
        timeout = a.timeout or max(60.0, 3 * baseline)
        prints = fingerprint(tree, modules)
        saved = STATE / 'session.sqlite'
        saved_meta = STATE / 'session.json'
        resumed = False
        if a.resume and saved.exists() and saved_meta.exists():
            if json.loads(saved_meta.read_text()) == prints:
                shutil.copy2(saved, session)
                resumed = True
                log('resuming the saved session')
            else:
                log('the modules changed since the saved session: starting afresh')
        if not resumed:
            config = write_config(tree, modules, timeout)
            subprocess.run(cr_cmd('init', str(config), str(session)), cwd=tree, env=env_for(tree), check=True)
        log(f'{len(modules)} module(s), timeout {timeout:.0f} s per mutant, {a.workers} worker(s)')
        t0 = time.time()
        try:
            execute(tree, modules, timeout, a.workers, tmp)
        finally:
            exec_s = time.time() - t0
            STATE.mkdir(exist_ok=True)
            shutil.copy2(session, saved)
            saved_meta.write_text(json.dumps(prints, indent=1) + '\n')
        meta = dict(command='.venv/bin/python benchmarks/mutation.py ' + ' '.join(sys.argv[1:] if argv is None else argv),
                    date=time.strftime('%Y-%m-%d %H:%M'), **copied_from,
                    cosmic_ray=__import__('importlib.metadata').metadata.version('cosmic-ray'),
                    modules=modules, workers=a.workers, timeout_s=timeout, baseline_s=round(baseline, 1),
                    exec_s=round(exec_s, 1), resumed=resumed, tests_left_out=left_out,
                    tests='pytest ' + ' '.join(PYTEST[2:]) + ' (the unit tests, see benchmarks/mutation_select.py)')
        summary = summarise(session, modules, meta)
        write_report(summary, a.out)
        log(f'score {summary["killed"]}/{summary["total"]} = {summary["score"]}; '
            f'{summary["survived"]} survived; report in {a.out / "mutation.md"}')
        return 0
    finally:
        kill_leftovers(tmp)
        if a.keep:
            log(f'kept {tmp}')
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
