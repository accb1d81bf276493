"""One debug-mode run of every method and variant, seed 0, one thread: their accuracy lines, to compare a refactoring.

    .venv/bin/python benchmarks/debug_accuracies.py --base-path DATA --out before.json [--variants-model dynamos]
    .venv/bin/python benchmarks/debug_accuracies.py --base-path DATA --out after.json
    .venv/bin/python benchmarks/debug_accuracies.py --compare before.json after.json

A change that leaves training alone must leave every line the same, to the last digit: the protocol and the
recalibrated accuracy lines Mammoth prints after each task (``... accuracy for N task(s) ...``, ``... raw accuracy
values ...``) and, for the drift probe, its per-class accuracy line. ``--variants-model`` names the model that takes
the variant flags (``dynamos`` before they had a model of their own). DATA holds ``MNIST/raw/`` (real MNIST: the
runs read it whole for the evaluation).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

SEQ = ['--dataset', 'seq-mnist', '--buffer_size', '500']
M360 = ['--dataset', 'mnist-360', '--buffer_size', '200']
UNGATED = ['--backbone', 'ungated-resnet', '--batch_size', '10', '--minibatch_size', '10']
#: the variant flags of issue 16, each with the value its integration test uses
VARIANTS = {
    'straight_through': ['--gate_estimator', 'straight_through', '--keep_rate_weight', '5'],
    'agent_lr': ['--agent_lr', '0.01'],
    'freeze_agents_after': ['--freeze_agents_after', '3'],
    'routing_distill': ['--routing_distill', '1.0'],
    'drift_every': ['--drift_every', '2'],
}


def cases(variants_model: str) -> dict:
    """Name -> Mammoth arguments (without the data folder, seed and debug flags)."""
    out = {
        'dynamos seq-mnist': ['--model', 'dynamos', *SEQ],
        'dynamos mnist-360': ['--model', 'dynamos', *M360],
        'msa seq-mnist': ['--model', 'msa', *SEQ],
        'static seq-mnist': ['--model', 'msa', *SEQ, '--backbone', 'gated-resnet', '--gate', 'static'],
        'er seq-mnist': ['--model', 'er', *SEQ, *UNGATED, '--lr', '0.1'],
        'derpp seq-mnist': ['--model', 'derpp', *SEQ, *UNGATED, '--lr', '0.03', '--alpha', '1.0', '--beta', '0.5'],
        'sgd seq-mnist': ['--model', 'sgd', '--dataset', 'seq-mnist', '--backbone', 'ungated-resnet',
                          '--batch_size', '10', '--lr', '0.07'],
    }
    for name, flags in VARIANTS.items():
        out[f'{name} mnist-360'] = ['--model', variants_model, *M360, *flags]
    return out


TIMESTAMP = re.compile(r'^\[\w+\] \S+ \S+ - ')  # "[INFO] 05-Dec-26 14:03:43 - ", which differs between runs


def accuracy_lines(log: str) -> list:
    """The accuracy lines of a log, without their timestamps: Mammoth's protocol and recalibrated accuracies, and
    the drift probe's per-class accuracy (its older line, or its ``runlog`` line)."""
    keys = ('ccuracy for', 'accuracy values', 'Per-class accuracy', '"kind": "class_accuracy"')
    lines = [TIMESTAMP.sub('', line.strip()).strip() for line in log.splitlines()]  # idempotent: --compare re-reads
    return [line for line in lines if any(k in line for k in keys) and 'Future' not in line]


def run(args, base_path: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, str(REPO / 'mammoth' / 'main.py'), *args, '--seed', '0', '--debug_mode', '1',
               '--base_path', base_path, '--results_path', tmp, '--non_verbose', '1']
        start = time.time()
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True,
                              env=dict(os.environ, OMP_NUM_THREADS='1', PYTHONUNBUFFERED='1'))
    log = proc.stdout + proc.stderr
    return {'returncode': proc.returncode, 'wall_s': round(time.time() - start, 1), 'lines': accuracy_lines(log),
            'tail': log[-2000:] if proc.returncode else ''}


def compare(before: dict, after: dict) -> int:
    differ = 0
    for name in before:
        same = accuracy_lines('\n'.join(before[name]['lines'])) == accuracy_lines('\n'.join(after.get(name, {}).get('lines', [])))
        differ += not same
        print(f'{"same   " if same else "DIFFERS"} {name}: {(before[name]["lines"] or ["(no line)"])[-1]}')
    return 1 if differ else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--base-path', '--base_path', dest='base_path', default=os.environ.get('DYNAMOS_DATA', 'data'))
    parser.add_argument('--out', type=Path)
    parser.add_argument('--variants-model', default='dynamos-variants')
    parser.add_argument('--only', nargs='*', help='run only the cases whose name contains one of these words')
    parser.add_argument('--compare', nargs=2, type=Path, metavar=('BEFORE', 'AFTER'))
    args = parser.parse_args(argv)
    if args.compare:
        return compare(*(json.loads(p.read_text()) for p in args.compare))
    base_path = str(Path(args.base_path).resolve())
    results = {}
    for name, case in cases(args.variants_model).items():
        if args.only and not any(word in name for word in args.only):
            continue
        results[name] = run(case, base_path)
        print(f'{name}: exit {results[name]["returncode"]}, {results[name]["wall_s"]} s, '
              f'{(results[name]["lines"] or ["(no accuracy line)"])[-1]}', flush=True)
        if args.out:
            args.out.write_text(json.dumps(results, indent=1) + '\n')
    return 1 if any(r['returncode'] for r in results.values()) else 0


if __name__ == '__main__':
    sys.exit(main())
