"""
The MNIST-360 agents study (issue 16): its table, JSON and plots, from the arms' records and logs.

    python -m dynamos_plugin.diagnostics.agents_study [--study DIR] [--runs DIR] [--no-plot]

``--study`` (default ``results/studies/mnist360-agents``) holds ``arms.json`` (the arms as data: name, label,
method, flags, whether exploratory; and the reference arm) and one folder per arm with the runner's
``records/`` (``run_study.sh`` beside it makes them) and ``logs/``, the Mammoth log of each record's
run; ``--runs`` (default ``runs/mnist360-agents``, the run script's ``--runs-dir``) is where missing
logs are copied from. Everything written is computed from the committed records and logs alone:

- ``study.json``: per arm and seed, the accuracy, the stream's statistics at the end (kept channels,
  thresholded, per agent), the mask drift (:mod:`dynamos_plugin.variants.drift`) and per-class
  test accuracy; per arm, mean, standard deviation and the differences to the faithful arm paired by seed;
- ``table.md``: one row per arm;
- ``accuracy.png`` (every seed of every arm) and ``drift.png`` (drift along the stream per arm; per class,
  drift against final accuracy).
"""

import argparse
import json
import os
import statistics
import sys
from pathlib import Path
from typing import Dict, List, Optional

from dynamos_plugin.variants.drift import parse_drift
from dynamos_plugin.glue.paths import REPO, repo_relative
from dynamos_plugin.stats import parse_trace

def load_arms(study: Path) -> dict:
    """The study's arms, as data (``arms.json`` in the study folder, which ``run_study.sh`` runs too): ``arms`` (name,
    label, method, flags, exploratory) in the order of the page, and ``reference``, the arm the others are paired with."""
    spec = json.loads((study / 'arms.json').read_text())
    names = [arm['name'] for arm in spec['arms']]
    if len(set(names)) != len(names) or spec['reference'] not in names:
        raise ValueError(f'{repo_relative(study / "arms.json")}: arm names must be unique and include the reference '
                         f'`{spec["reference"]}`')
    return spec


def run_log(record: dict, runs: Path) -> Path:
    """The log of a record's run: the runner writes it beside Mammoth's ``--results_path``."""
    results_path = record['command'][record['command'].index('--results_path') + 1]
    relative = Path(results_path).parent / 'log.txt'
    parts = relative.parts
    if 'mnist360-agents' in parts:  # the run script's --runs-dir; look under --runs instead
        relative = Path(*parts[parts.index('mnist360-agents') + 1:])
    return runs / relative


def portable(text: str, record: dict, runs_dir: Path) -> str:
    """A run's log without the absolute paths of the machine that made it: the data folder as the record gives it,
    paths inside the repository that ran it relative to its root (``runs_dir`` is ``<root>/runs/<study>``)."""
    root = runs_dir.resolve().parents[1]
    args = record.get('args', [])
    if '--base_path' in args:
        given = args[args.index('--base_path') + 1]
        text = text.replace(os.path.normpath(os.path.join(root, given)), given)
    return text.replace(str(root) + '/', '').replace(str(root), '.')


def spearman(xs: List[float], ys: List[float]) -> Optional[float]:
    """Spearman's rank correlation (average ranks for ties); None with fewer than 3 points or no spread."""
    if len(xs) < 3:
        return None

    def ranks(values):
        order = sorted(range(len(values)), key=values.__getitem__)
        out = [0.0] * len(values)
        i = 0
        while i < len(order):
            j = i
            while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
                j += 1
            for k in range(i, j + 1):
                out[order[k]] = (i + j) / 2
            i = j + 1
        return out
    rx, ry = ranks(xs), ranks(ys)
    if len(set(rx)) < 2 or len(set(ry)) < 2:
        return None
    return statistics.correlation(rx, ry)


def summarise_run(record: dict, log_text: Optional[str]) -> dict:
    """One run: accuracy, and from its log the end-of-stream agent statistics and the mask drift."""
    run = {'seed': record['seed'], 'accuracy': record['accuracy'], 'commit': record['commit'][:10],
           'dirty': record['dirty'], 'method': record['method'], 'extra_args': record['extra_args']}
    if log_text is None:
        return run
    tasks = parse_trace(log_text)['tasks']
    if tasks:
        last = tasks[-1]
        run.update(keep=last['keep'], keep_thresholded=last['keep_thresholded'], undecided=last['undecided'],
                   train_accuracy=last['train_accuracy'])
    snapshots, class_accuracy = parse_drift(log_text)
    if snapshots:
        def weighted(snaps, key):
            n = sum(c['n'] for s in snaps for c in s['classes'].values())
            return sum(c[key] * c['n'] for s in snaps for c in s['classes'].values()) / n if n else None
        run['drift'] = {
            'every': snapshots[1]['step'] - snapshots[0]['step'] if len(snapshots) > 1 else None,
            'bits': weighted(snapshots, 'bits'),  # mean fraction of mask bits flipped between two measurements
            'changed': weighted(snapshots, 'changed'),  # fraction of samples whose mask changed at all
            'bits_after_1130': weighted([s for s in snapshots if s['step'] > 1130], 'bits'),
            'steps': [s['step'] for s in snapshots],
            'bits_by_step': [weighted([s], 'bits') for s in snapshots],
            'bits_by_class': {c: weighted([{'classes': {c: s['classes'][c]}} for s in snapshots if c in s['classes']],
                                          'bits') for c in sorted({c for s in snapshots for c in s['classes']})},
        }
    if class_accuracy:
        run['class_accuracy'] = class_accuracy
        if 'drift' in run:
            classes = [c for c in class_accuracy if run['drift']['bits_by_class'].get(c) is not None]
            run['drift']['spearman_class_drift_vs_accuracy'] = spearman(
                [run['drift']['bits_by_class'][c] for c in classes], [class_accuracy[c] for c in classes])
    return run


def summarise_arm(runs: List[dict], reference: Optional[Dict[int, float]]) -> dict:
    accuracies = [r['accuracy'] for r in runs]
    arm = {'n': len(runs), 'accuracies': accuracies, 'mean': statistics.mean(accuracies),
           'std': statistics.stdev(accuracies) if len(accuracies) > 1 else None}
    if reference:
        paired = [r['accuracy'] - reference[r['seed']] for r in runs if r['seed'] in reference]
        if paired:
            arm['paired_vs_faithful'] = {'mean': statistics.mean(paired), 'min': min(paired), 'max': max(paired),
                                         'n': len(paired)}
    for key in ('keep_thresholded', 'keep'):
        values = [statistics.mean(r[key]) for r in runs if key in r]
        if values:
            arm[key] = statistics.mean(values)
    drifts = [r['drift'] for r in runs if 'drift' in r]
    if drifts:
        arm['drift_bits'] = statistics.mean(d['bits'] for d in drifts)
        arm['drift_changed'] = statistics.mean(d['changed'] for d in drifts)
        late = [d['bits_after_1130'] for d in drifts if d['bits_after_1130'] is not None]
        arm['drift_bits_after_1130'] = statistics.mean(late) if late else None
        rhos = [d.get('spearman_class_drift_vs_accuracy') for d in drifts]
        rhos = [r for r in rhos if r is not None]
        arm['spearman_class_drift_vs_accuracy'] = statistics.mean(rhos) if rhos else None
    return arm


def collect(study: Path, runs_dir: Path) -> dict:
    spec = load_arms(study)
    arms = {}
    for arm_spec in spec['arms']:
        name = arm_spec['name']
        if not (study / name / 'records').is_dir():
            continue
        runs = []
        for path in sorted((study / name / 'records').glob('*.json')):
            record = json.loads(path.read_text())
            log = study / name / 'logs' / f'{record["run"]}.log'
            if not log.exists() and run_log(record, runs_dir).exists():
                log.parent.mkdir(exist_ok=True)
                log.write_text(portable(run_log(record, runs_dir).read_text(errors='replace'), record, runs_dir))
            runs.append(summarise_run(record, log.read_text(errors='replace') if log.exists() else None))
        label = arm_spec['label'] + (' (exploratory)' if arm_spec.get('exploratory') else '')
        arms[name] = {'label': label, 'runs': sorted(runs, key=lambda r: r['seed'])}
    reference = {r['seed']: r['accuracy'] for r in arms.get(spec['reference'], {}).get('runs', [])}
    for name, arm in arms.items():
        arm.update(summarise_arm(arm['runs'], reference if name != spec['reference'] else None))
    return arms


def fmt(value, spec='.2f', none='-'):
    return none if value is None else format(value, spec)


def table(arms: dict) -> str:
    lines = ['| arm | seeds 0 / 1 / 2 | mean ± std | paired vs faithful: mean [min, max] | kept at test (stream, '
             'thresholded) | mask bits flipped per 100 steps | samples whose mask changed | rank corr. class drift '
             'vs class accuracy |', '|---|---|---:|---:|---:|---:|---:|---:|']
    for name, arm in arms.items():
        paired = arm.get('paired_vs_faithful')
        lines.append(
            f"| {arm['label']} | {' / '.join(fmt(a) for a in arm['accuracies'])} | {fmt(arm['mean'])} ± "
            f"{fmt(arm['std'])} | " + (f"{paired['mean']:+.2f} [{paired['min']:+.2f}, {paired['max']:+.2f}]"
                                       if paired else '-') +
            f" | {fmt(arm.get('keep_thresholded'), '.3f')} | {fmt(arm.get('drift_bits'), '.3f')} | "
            f"{fmt(arm.get('drift_changed'), '.3f')} | {fmt(arm.get('spearman_class_drift_vs_accuracy'), '+.2f')} |")
    return '\n'.join(lines) + '\n'


def plot(arms: dict, out: Path) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    names = list(arms)
    fig, ax = plt.subplots(figsize=(9, 4.2))
    for i, name in enumerate(names):
        accs = arms[name]['accuracies']
        ax.scatter([i] * len(accs), accs, color='tab:blue', zorder=3)
        ax.hlines(arms[name]['mean'], i - 0.3, i + 0.3, color='black')
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels([arms[n]['label'] for n in names], rotation=30, ha='right', fontsize=8)
    ax.set_ylabel('MNIST-360 accuracy (%), buffer 500')
    ax.set_title('Each seed (dots) and the mean (bar) of every arm')
    ax.grid(axis='y', alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / 'accuracy.png', dpi=120)
    plt.close(fig)

    drifting = [n for n in names if any('drift' in r for r in arms[n]['runs'])]
    if not drifting:
        return
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    colours = plt.cm.tab10.colors
    for i, name in enumerate(drifting):
        runs = [r for r in arms[name]['runs'] if 'drift' in r]
        steps = runs[0]['drift']['steps']
        mean = [statistics.mean(r['drift']['bits_by_step'][k] for r in runs if k < len(r['drift']['bits_by_step']))
                for k in range(len(steps))]
        left.plot(steps, mean, color=colours[i % 10], label=arms[name]['label'])
        xs = [r['drift']['bits_by_class'][c] for r in runs if 'class_accuracy' in r for c in r['class_accuracy']
              if c in r['drift']['bits_by_class']]
        ys = [r['class_accuracy'][c] for r in runs if 'class_accuracy' in r for c in r['class_accuracy']
              if c in r['drift']['bits_by_class']]
        right.scatter(xs, ys, color=colours[i % 10], s=14, label=arms[name]['label'])
    left.set_xlabel('training step')
    left.set_ylabel('mask bits flipped since the last measurement')
    left.set_title('Drift of the buffer samples\' test-time masks (mean of 3 seeds)')
    left.legend(fontsize=7)
    right.set_xlabel('class: mean fraction of mask bits flipped per 100 steps')
    right.set_ylabel('class: final test accuracy (%)')
    right.set_title('Per class and seed: drift against forgetting')
    for axis in (left, right):
        axis.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / 'drift.png', dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[1].strip())
    parser.add_argument('--study', type=Path, default=REPO / 'results' / 'studies' / 'mnist360-agents')
    parser.add_argument('--runs', type=Path, default=REPO / 'runs' / 'mnist360-agents')
    parser.add_argument('--no-plot', action='store_true')
    args = parser.parse_args(argv)
    arms = collect(args.study, args.runs)
    if not arms:
        print(f'no arm with records in {repo_relative(args.study)}', file=sys.stderr)
        return 1
    (args.study / 'study.json').write_text(json.dumps(arms, indent=1) + '\n')
    (args.study / 'table.md').write_text(table(arms))
    if not args.no_plot:
        plot(arms, args.study)
    print(table(arms))
    return 0


if __name__ == '__main__':
    sys.exit(main())
