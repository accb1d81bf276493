"""
How the agents evolve over training, from the logs of Mammoth runs of ``dynamos``.

    python -m dynamos_plugin.diagnostics.agent_trace LOG [LOG ...] --out DIR [--name NAME] [--labels ...] [--no-plot]

Every ``dynamos`` run logs, per task, the mean of its losses, its training accuracy and, per
agent, three statistics of the stream batch (see :mod:`dynamos_plugin.dynamos`): the fraction
of channels kept by the sampled actions (as trained), the fraction that thresholding ``p``
keeps (as tested), and the fraction of keep probabilities still undecided, in
(0.2, 0.8). With ``--stats_every N`` it logs them for every window of ``N`` steps too; that is
what this script plots, one row of panels per log, against the step of the task:

1. kept channels per agent, sampled (solid) and thresholded (dashed), with the keep ratio;
2. undecided keep probabilities per agent;
3. training accuracy of the stream batch (with the sampled actions).

It writes ``<name>.png``, ``<name>.json`` (the parsed windows, per-task lines and final
accuracy of each log; each log named by its path relative to the repository root when it lies
inside it) and ``<name>.md``: one table row per log and task, with the final accuracy
and the task's means (agents averaged), to compare runs (e.g. seeds) at a glance. A log without
windows (a run without ``--stats_every``) is plotted from its per-task lines, one point per
task; ``--no-plot`` writes only the JSON and the table.
"""

import argparse
import json
import sys
from pathlib import Path
from typing import List

from dynamos_plugin.glue.paths import repo_relative
from dynamos_plugin.glue.mammoth_log import parse_log
from dynamos_plugin.stats import parse_trace

def load(path: Path) -> dict:
    """One log's trace (:func:`parse_trace`), with its path (relative to the repository root when inside it) and
    final accuracy (None if the run did not finish)."""
    text = Path(path).read_text(errors='replace')
    trace = parse_trace(text)
    final = parse_log(text)
    trace['accuracy'] = None if final is None else final['accuracy']
    trace['log'] = repo_relative(path, resolve=True)
    return trace


def plot(traces: List[dict], labels: List[str], keep_ratio: float, path: Path) -> None:
    """One row of three panels per trace (kept channels, undecided probabilities, training accuracy)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(traces), 3, figsize=(15, 3.2 * len(traces)), squeeze=False)
    for row, (trace, label) in zip(axes, zip(traces, labels)):
        windows = trace['windows']
        if windows:
            x, xlabel = [w['last_step'] for w in windows], 'step of the task (end of window)'
        else:
            windows, xlabel = trace['tasks'], 'task'
            x = [w['task'] for w in windows]
        n_agents = len(windows[0]['keep']) if windows else 0
        colours = plt.cm.viridis([i / max(n_agents - 1, 1) for i in range(n_agents)])
        for i, colour in enumerate(colours):
            row[0].plot(x, [w['keep'][i] for w in windows], color=colour, label=f'agent {i + 1} sampled')
            row[0].plot(x, [w['keep_thresholded'][i] for w in windows], color=colour, ls='--',
                        label=f'agent {i + 1} thresholded')
            row[1].plot(x, [w['undecided'][i] for w in windows], color=colour, label=f'agent {i + 1}')
        row[0].axhline(keep_ratio, color='red', lw=0.8, ls=':', label=f'keep ratio {keep_ratio:g}')
        row[0].set_ylim(0.4, 1.0)
        row[0].set_ylabel(label, fontsize=9)
        row[0].set_title('kept channels (solid: sampled, as trained; dashed: p >= 0.5, as tested)', fontsize=9)
        row[1].set_ylim(0, 1)
        row[1].set_title('keep probabilities undecided, in (0.2, 0.8)', fontsize=9)
        row[2].plot(x, [100 * w['train_accuracy'] for w in windows], color='black')
        row[2].set_ylim(0, 100)
        row[2].set_title('training accuracy of the stream batch (%)', fontsize=9)
        for ax in row:
            ax.set_xlabel(xlabel)
            ax.grid(alpha=0.3)
            if not trace['windows']:  # one point per task: a tick per task, not at 1.5 or 2.5
                ax.set_xticks(x)
        row[0].legend(fontsize=6, ncol=3, loc='lower right')
        row[1].legend(fontsize=6, loc='upper right')
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def points(trace: dict) -> str:
    """What a trace's curves are made of: its windows (``--stats_every``), else its per-task lines."""
    if trace['windows']:
        return f"{len(trace['windows'])} windows"
    return f"{len(trace['tasks'])} tasks (no --stats_every windows: one point per task)"


def summary_table(traces: List[dict], labels: List[str]) -> str:
    """Markdown: one row per log and task, with the task's mean statistics averaged over the agents."""
    mean = lambda values: sum(values) / len(values)  # noqa: E731
    rows = ['| run | final accuracy (%) | task | steps | training accuracy (%) | kept, sampled | '
            'kept, thresholded | undecided p |', '|---|---|---|---|---|---|---|---|']
    for trace, label in zip(traces, labels):
        final = '-' if trace['accuracy'] is None else f"{trace['accuracy']:.2f}"
        for task in trace['tasks']:
            rows.append(f"| {label.replace(chr(10), ', ')} | {final} | {task['task']} | {task['steps']} | "
                        f"{100 * task['train_accuracy']:.1f} | {mean(task['keep']):.3f} | "
                        f"{mean(task['keep_thresholded']):.3f} | {mean(task['undecided']):.3f} |")
    return '\n'.join(rows) + '\n'


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description='Plot the agents of dynamos runs over training, from Mammoth logs.')
    p.add_argument('logs', nargs='+', type=Path, help='logs of mammoth/main.py --model dynamos (ideally --stats_every N)')
    p.add_argument('--out', type=Path, required=True, help='output folder')
    p.add_argument('--name', default='agent_trace', help='file name of the PNG and JSON, without extension')
    p.add_argument('--labels', nargs='*', help='one label per log (default: the file name and final accuracy)')
    p.add_argument('--keep_ratio', type=float, default=0.7, help='the runs\' keep ratio, drawn as a line')
    p.add_argument('--no-plot', action='store_true', help='write only the JSON and the Markdown table')
    a = p.parse_args(argv)
    if a.labels and len(a.labels) != len(a.logs):
        p.error(f'{len(a.labels)} labels for {len(a.logs)} logs')
    try:
        traces = [load(path) for path in a.logs]
    except OSError as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    empty = [t['log'] for t in traces if not t['windows'] and not t['tasks']]
    if empty:
        print(f'error: no Dynamos statistics lines in {", ".join(empty)} (a dynamos run of this version?)',
              file=sys.stderr)
        return 1
    labels = a.labels or [Path(t['log']).stem + ('' if t['accuracy'] is None else f'\nfinal {t["accuracy"]:.2f} %')
                          for t in traces]
    a.out.mkdir(parents=True, exist_ok=True)
    if not a.no_plot:
        plot(traces, labels, a.keep_ratio, a.out / f'{a.name}.png')
    (a.out / f'{a.name}.json').write_text(json.dumps({'labels': labels, 'traces': traces}, indent=1) + '\n')
    (a.out / f'{a.name}.md').write_text(summary_table(traces, labels))
    counts = ', '.join(points(t) for t in traces)
    print(f'wrote {a.out / a.name}{"" if a.no_plot else ".png, "}.json and .md ({counts})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
