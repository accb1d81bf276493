"""Runs the authors' published Dynamos code as a reproducible anchor (issue 26, deliverable 5).

Clones github.com/NeurAI-Lab/DynamicContinualLearning at a pinned commit into the git-ignored
folder ``authors-code/`` at the repository root (``authors-code/repo``), stages the MNIST IDX files
where its datasets look for them (``authors-code/data/MNIST/MyMNIST/raw``, a symlink to
``<data>/MNIST/raw``; torchvision's MNIST reads ``<root>/<class name>/raw`` and the authors' class
is ``MyMNIST``), and runs its ``main_policy.py`` with the paper's Table 5 arguments, one thread,
one run at a time. Each finished run writes a JSON record and its full log under
``results/anchors/authors-code/`` (``records/``, ``logs/``); a run whose record exists is skipped,
so the script resumes. Nothing of the authors' code is copied into this repository. The logs
name no machine path: the interpreter's warnings name its files, so the prefix of the
interpreter, of its base installation, the repository root, the data folder and the home folder
are written as <python-prefix>, <python-base-prefix>, <repo>, <data> and <home>.

The authors' Seq-MNIST loaders use 4 DataLoader worker processes (their
datasets/utils/continual_dataset.py); they are left as published (they only load batches; the
order comes from the main process), each with one thread.

Compatibility shims: none are needed with this repository's .venv (torch 2.14.1, torchvision
0.29.1). Should one become necessary it goes, as a patch file, under ``benchmarks/authors_code/``;
every ``*.patch`` there is applied to the clone in name order and recorded (name and sha1) in
each record.

Usage (normally through benchmarks/authors_code.sh):
    python benchmarks/authors_code.py [--data DIR] [--seeds 0 1 2] [--cells ...] [--dry-run]
    python benchmarks/authors_code.py --debug 60    # wiring check: first pending run, 60 s, no record

Records store only paths relative to the repository root (or to the clone, for the command,
which runs with the clone as its working directory); ``python`` in the stored command stands for
the interpreter that ran it (``--python`` / ``$DYNAMOS_PYTHON``, default ``.venv/bin/python``).
"""
import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AUTHORS_URL = 'https://github.com/NeurAI-Lab/DynamicContinualLearning.git'
AUTHORS_COMMIT = 'e6d5509bc0c96a3a503c19d0eab74ab40a345869'
WORK = 'authors-code'                      # git-ignored, relative to ROOT
CLONE = os.path.join(WORK, 'repo')
STAGED_DATA = os.path.join(WORK, 'data')   # <data-path> handed to the authors' code
SAVE = os.path.join(WORK, 'save')          # their --save-path (checkpoints, csv); not committed
OUT = os.path.join('results', 'anchors', 'authors-code')
SHIMS = os.path.join('benchmarks', 'authors_code')
MNIST_FILES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte',
               't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']

# The cells: (dataset, method as this repository names it, the authors' model, buffer, arguments).
# Dynamos: --load_best_args, i.e. the authors' utils/best_args.py, which is Table 5 (checked
# against ../shared/reference/dynamos-spec.md: seq-mnist 500 lr .07, batch 10/10, alpha .2,
# beta 2, policy alpha .2, penalty -500, reward weight .5, prototype .3, keep .7, warm-up, 1 epoch;
# mnist-360 500 lr .07, batch 16/16, alpha .1, beta 1.5, policy alpha .1, penalty -200, reward
# weight .3, prototype .3, keep .7, warm-up, 1 epoch). The Eq. 8 baseline (models/multi_scale.py)
# has no best arguments there; it gets Dynamos' Table 5 row for the same cell (lr, batch sizes,
# epochs, alpha, beta), as the paper's Table 1 comparison and this plugin's config/msa.yaml do.
CELLS = {
    'seq-mnist:dynamos': ('seq-mnist', 'dynamos', 'dynamos', 500, ['--load_best_args']),
    'mnist-360:dynamos': ('mnist-360', 'dynamos', 'dynamos', 500, ['--load_best_args']),
    'mnist-360:msa': ('mnist-360', 'msa', 'multi_scale', 500,
                      ['--lr', '0.07', '--batch_size', '16', '--minibatch_size', '16',
                       '--n_epochs', '1', '--nf', '32', '--alpha', '0.1', '--beta', '1.5']),
}
DEFAULT_CELLS = ['seq-mnist:dynamos', 'mnist-360:dynamos', 'mnist-360:msa']

SEQ_RE = re.compile(r'Accuracy for (\d+) task\(s\):\s*\[Class-IL\]: ([0-9.]+) %\s*\[Task-IL\]: ([0-9.]+) %')
# MNIST-360 prints 'Accuracy: <float>' on stdout, right after a progress bar that ends without a
# newline on stderr (both go to one log), so no start-of-line anchor.
GCL_RE = re.compile(r'Accuracy: ([0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)')


def run_id(dataset, method, buffer, seed):
    return f'{dataset}__{method}__buf{buffer}__seed{seed}'


def git(*args, cwd=ROOT):
    return subprocess.run(['git', *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


def this_repo_state():
    """This repository's commit and whether its tree is clean. The anchor's own output folder
    (records and logs written by earlier runs of this script) does not count as dirt."""
    commit = git('rev-parse', 'HEAD')
    status = git('status', '--porcelain', '--untracked-files=normal', '--', '.', f':(exclude){OUT}')
    return commit, bool(status)


def sha1_file(path):
    h = hashlib.sha1()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def shim_patches():
    d = os.path.join(ROOT, SHIMS)
    if not os.path.isdir(d):
        return []
    return sorted(os.path.join(SHIMS, n) for n in os.listdir(d) if n.endswith('.patch'))


def prepare_clone():
    """Clone (once) at the pinned commit; check it is there and unmodified except for our shims."""
    clone = os.path.join(ROOT, CLONE)
    if not os.path.isdir(os.path.join(clone, '.git')):
        os.makedirs(os.path.dirname(clone), exist_ok=True)
        subprocess.run(['git', 'clone', '--quiet', AUTHORS_URL, clone], check=True)
        git('checkout', '--quiet', '--detach', AUTHORS_COMMIT, cwd=clone)
    head = git('rev-parse', 'HEAD', cwd=clone)
    if head != AUTHORS_COMMIT:
        sys.exit(f'authors_code: {CLONE} is at {head}, not the pinned {AUTHORS_COMMIT}')
    patches = shim_patches()
    for p in patches:
        path = os.path.join(ROOT, p)
        if subprocess.run(['git', 'apply', '--reverse', '--check', path], cwd=clone,
                          capture_output=True).returncode == 0:
            continue  # already applied
        subprocess.run(['git', 'apply', path], cwd=clone, check=True)
    # Anything else changed in the clone (other than the shims) makes its runs not the authors' code.
    changed = git('status', '--porcelain', '--untracked-files=all', cwd=clone)
    if changed and not patches:
        sys.exit(f'authors_code: {CLONE} has local changes; remove the folder and rerun:\n{changed}')
    return [{'patch': p, 'sha1': sha1_file(os.path.join(ROOT, p))} for p in patches]


def stage_data(data):
    """authors-code/data/MNIST/MyMNIST/raw -> <data>/MNIST/raw (their code appends 'MNIST' to
    --data-path, and torchvision reads <root>/MyMNIST/raw). Returns the IDX files' sha1s."""
    raw = os.path.join(os.path.abspath(data), 'MNIST', 'raw')
    missing = [f for f in MNIST_FILES if not os.path.isfile(os.path.join(raw, f))]
    if missing:
        sys.exit(f'authors_code: {raw} lacks {missing} (the uncompressed MNIST IDX files)')
    link_dir = os.path.join(ROOT, STAGED_DATA, 'MNIST', 'MyMNIST')
    os.makedirs(link_dir, exist_ok=True)
    link = os.path.join(link_dir, 'raw')
    if os.path.islink(link) and os.readlink(link) != raw:
        os.remove(link)
    if not os.path.islink(link):
        os.symlink(raw, link)
    return {f: sha1_file(os.path.join(raw, f)) for f in MNIST_FILES}


def build_command(cell, seed, run):
    dataset, _method, model, buffer, extra = CELLS[cell]
    # Paths relative to the clone, the working directory the authors' code needs (it lists
    # models/ from os.getcwd()); --data-path needs its trailing slash (they append 'MNIST').
    return ['python', 'main_policy.py', '--model', model, '--dataset', dataset,
            '--data-path', os.path.relpath(os.path.join(ROOT, STAGED_DATA), os.path.join(ROOT, CLONE)) + '/',
            '--save-path', os.path.relpath(os.path.join(ROOT, SAVE, run), os.path.join(ROOT, CLONE)),
            '--exp-name', run, '--buffer_size', str(buffer), '--seed', str(seed), *extra]


def parse_accuracy(dataset, text):
    if dataset == 'mnist-360':
        m = GCL_RE.findall(text)
        return {'accuracy': round(float(m[-1]), 2), 'accuracy_printed': m[-1]} if m else None
    m = SEQ_RE.findall(text)
    if not m or int(m[-1][0]) != 5:
        return None
    return {'accuracy': float(m[-1][1]), 'task_il': float(m[-1][2]),
            'per_task_mean': [{'tasks': int(t), 'class_il': float(c), 'task_il': float(ti)}
                              for t, c, ti in m]}


def cpu_model():
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def versions(python):
    code = ('import json,sys,torch,torchvision,numpy;print(json.dumps({"torch":torch.__version__,'
            '"torchvision":torchvision.__version__,"numpy":numpy.__version__,'
            '"python":sys.version.split()[0],"cuda":torch.cuda.is_available(),'
            '"prefix":sys.prefix,"base_prefix":sys.base_prefix}))')
    return json.loads(subprocess.run([python, '-c', code], check=True, capture_output=True,
                                     text=True).stdout)


def scrub(text, subs):
    """Replace this machine's absolute paths in a log (warnings name the interpreter's files)
    by placeholders, longest first, so no committed log carries a machine path."""
    for path, name in sorted(subs, key=lambda s: -len(s[0])):
        if path and path != '/':
            text = text.replace(path, name)
    return text


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--data', default=os.environ.get('DYNAMOS_DATA', 'data'),
                    help='folder holding MNIST/raw/ (the IDX files), like the runner\'s --base-path; '
                         'default $DYNAMOS_DATA or data/')
    ap.add_argument('--python', default=os.environ.get('DYNAMOS_PYTHON', os.path.join(ROOT, '.venv', 'bin', 'python')),
                    help='interpreter with torch and torchvision (default $DYNAMOS_PYTHON or .venv/bin/python)')
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    ap.add_argument('--cells', nargs='+', default=DEFAULT_CELLS, choices=list(CELLS))
    ap.add_argument('--out', default=OUT, help='records/ and logs/ go here (relative to the repo root)')
    ap.add_argument('--dry-run', action='store_true', help='print the pending commands and stop')
    ap.add_argument('--debug', type=int, metavar='SECONDS',
                    help='wiring check: run the first pending run for SECONDS, then stop it; '
                         'writes no record (log to authors-code/debug.log)')
    args = ap.parse_args()

    data = args.data if os.path.isabs(args.data) else os.path.join(os.getcwd(), args.data)
    out = os.path.join(ROOT, args.out)
    os.makedirs(os.path.join(out, 'records'), exist_ok=True)
    os.makedirs(os.path.join(out, 'logs'), exist_ok=True)

    # Seed-major order: every cell gets seed 0 first, then seed 1, then seed 2.
    plan = [(cell, seed) for seed in args.seeds for cell in args.cells]
    pending = []
    for cell, seed in plan:
        dataset, method, _model, buffer, _ = CELLS[cell]
        run = run_id(dataset, method, buffer, seed)
        if os.path.exists(os.path.join(out, 'records', run + '.json')):
            print(f'authors_code: {run}: record exists, skipped')
        else:
            pending.append((cell, seed, run))
    if args.dry_run:
        for cell, seed, run in pending:
            print(f'cd {CLONE} && OMP_NUM_THREADS=1 ' + shlex.join(build_command(cell, seed, run)))
        return
    if not pending:
        print('authors_code: nothing to run')
        return

    shims = prepare_clone()
    data_sha1 = stage_data(data)
    vers = versions(args.python)
    subs = [(ROOT, '<repo>'), (os.path.realpath(ROOT), '<repo>'),
            (vers.pop('prefix'), '<python-prefix>'), (vers.pop('base_prefix'), '<python-base-prefix>'),
            (os.path.abspath(data), '<data>'), (os.path.realpath(data), '<data>'),
            (os.path.expanduser('~'), '<home>')]
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1', OPENBLAS_NUM_THREADS='1',
               PYTHONUNBUFFERED='1')
    clone = os.path.join(ROOT, CLONE)

    for cell, seed, run in pending:
        dataset, method, model, buffer, _ = CELLS[cell]
        cmd = build_command(cell, seed, run)
        argv = [args.python] + cmd[1:]
        commit, dirty = this_repo_state()
        if args.debug:
            log_path = os.path.join(ROOT, WORK, 'debug.log')
            print(f'authors_code: debug {run} for {args.debug} s -> {os.path.relpath(log_path, ROOT)}')
            with open(log_path, 'w') as log:
                try:
                    subprocess.run(argv, cwd=clone, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   timeout=args.debug)
                except subprocess.TimeoutExpired:
                    pass
            with open(log_path, errors='replace') as f:
                text = f.read()
            print(text[-1500:].replace('\r', '\n')[-1500:])
            ok = 'Task 1 | epoch 0' in text or 'Task C | epoch 0' in text
            print(f'\nauthors_code: debug: training {"started" if ok else "DID NOT start"}')
            sys.exit(0 if ok else 1)

        log_rel = os.path.join(args.out, 'logs', run + '.log')
        tmp_log = os.path.join(out, 'logs', run + '.log.partial')
        started = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
        print(f'authors_code: {run}: started {started}', flush=True)
        t0 = time.monotonic()
        with open(tmp_log, 'w') as log:
            log.write(f'# cd {CLONE} && OMP_NUM_THREADS=1 {shlex.join(cmd)}\n')
            log.flush()
            rc = subprocess.run(argv, cwd=clone, env=env, stdout=log, stderr=subprocess.STDOUT).returncode
        wall = round(time.monotonic() - t0, 1)
        with open(tmp_log, errors='replace') as f:
            text = f.read()
        acc = parse_accuracy(dataset, text) if rc == 0 else None
        if acc is None:
            failed = os.path.join(out, 'logs', run + '.failed.log')
            os.replace(tmp_log, failed)
            print(f'authors_code: {run}: FAILED (rc {rc}); log {os.path.relpath(failed, ROOT)}', flush=True)
            continue
        with open(os.path.join(ROOT, log_rel), 'w') as f:
            f.write(scrub(text, subs))
        os.remove(tmp_log)
        record = {
            'run': run,
            'source': 'authors-code',
            'method': method,
            'authors_model': model,
            'dataset': dataset,
            'buffer': buffer,
            'seed': seed,
            'cwd': CLONE,
            'command': cmd,
            'command_line': f'cd {CLONE} && OMP_NUM_THREADS=1 {shlex.join(cmd)}',
            'env': {'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1', 'OPENBLAS_NUM_THREADS': '1'},
            'authors_repo': AUTHORS_URL,
            'authors_commit': AUTHORS_COMMIT,
            'shims': shims,
            'data': os.path.relpath(data, ROOT),
            'data_sha1': data_sha1,
            'commit': commit,
            'dirty': dirty,
            'started': started,
            'wall_s': wall,
            'returncode': rc,
            'threads': 1,
            'hardware': {'cpu': cpu_model(), 'cores': os.cpu_count(), **vers},
            'torch': vers['torch'],
            'setting': 'Class-IL' if dataset == 'seq-mnist' else 'GCL',
            **acc,
            'log': log_rel,
            'log_placeholders': ['<repo>', '<python-prefix>', '<python-base-prefix>', '<data>', '<home>'],
            'status': 'ok',
        }
        with open(os.path.join(out, 'records', run + '.json'), 'w') as f:
            json.dump(record, f, indent=1)
            f.write('\n')
        print(f'authors_code: {run}: accuracy {record["accuracy"]} in {wall} s', flush=True)


if __name__ == '__main__':
    main()
