"""
The paper's Section 6 analysis, from any checkpoint of a Dynamos model saved by Mammoth.

    python -m dynamos_plugin.diagnostics.analysis --checkpoint PATH --dataset seq-mnist --base_path DIR --out DIR

writes, as PNG plus a JSON of the numbers behind each figure:

1. ``activation_rates_class.png`` / ``_task.png`` (Fig. 3: the last gated layer, last 40 filters)
   and ``activation_rates_all_layers.png`` (Fig. 7): how often each filter is kept on the test
   set, per class and per task (thresholded inference, as in the paper's evaluation);
2. ``jsd.png`` (Fig. 4): Jensen-Shannon divergences (x100) between the classes' activation-rate
   vectors in the last gated layer, with the paper's summary (lowest pair, its ratio to the
   mean over pairs and to the largest pair);
3. ``tsne.png`` (Fig. 5): t-SNE of the last layer's attention vectors, coloured by class;
4. ``trial_variability.png`` (Fig. 6): one input's last-layer actions over sampled trials;
5. ``sparsity.json``: mean keep ratio per agent, and the multiply-accumulates of the gated stage
   with the dropped channels skipped, against the dense network.

``summary.json`` and ``summary.md`` list every file and the headline numbers; ``summary.json`` names the
checkpoint by its path relative to the repository root when it lies inside it.

Options: ``--trials`` (sampled trials per input in Fig. 6, default 4), ``--tsne-samples`` (test
images embedded by t-SNE, default 2000), ``--seed`` (t-SNE subsample and random state, sampled
actions). Only ``seq-mnist`` is supported (the paper's Section 6 uses Seq-MNIST, buffer 500).

Each figure has its module in :mod:`dynamos_plugin.diagnostics.section6`; :func:`analyse` runs them in turn.
"""

import argparse
import json
import sys
from pathlib import Path

from dynamos_plugin.diagnostics.section6.activation import activation_rates, activation_step
from dynamos_plugin.diagnostics.section6.data import Evaluated, evaluate, load_test_set
from dynamos_plugin.diagnostics.section6.jsd import jsd_matrix, jsd_step, jsd_summary
from dynamos_plugin.diagnostics.section6.macs import gated_stage_macs, sparsity_step
from dynamos_plugin.diagnostics.section6.output import Output
from dynamos_plugin.diagnostics.section6.summary import CHECKPOINT_ARGS, summary_markdown, write_summary
from dynamos_plugin.diagnostics.section6.tsne import cluster_scores, tsne_step
from dynamos_plugin.diagnostics.section6.variability import sampled_trials, variability_step
from dynamos_plugin.glue.paths import repo_relative
from dynamos_plugin.glue.checkpoints import load_checkpoint

__all__ = ['analyse', 'main', 'activation_rates', 'jsd_matrix', 'jsd_summary', 'gated_stage_macs', 'cluster_scores',
           'sampled_trials', 'summary_markdown', 'load_test_set', 'load_checkpoint']


def headline(checkpoint: Path, dataset: str, run: Evaluated) -> dict:
    """What ``summary.json`` opens with: the checkpoint (relative to the repository root when inside it), its
    training arguments, and the test set and accuracy of the reloaded network."""
    return {'checkpoint': repo_relative(checkpoint, resolve=True),
            'checkpoint_args': {k: run.args.get(k) for k in CHECKPOINT_ARGS if k in run.args},
            'dataset': dataset, 'test_samples': int(len(run.labels)),
            'test_accuracy': float((run.preds == run.labels).mean() * 100),
            'inference': f'thresholded actions, p >= {run.net.inf_thresh}; the trial-to-trial figure samples them'}


def analyse(checkpoint: Path, dataset: str, base_path: str, out: Path, trials: int = 4,
            tsne_samples: int = 2000, seed: int = 0) -> dict:
    """Every figure of the module docstring, written to ``out``; returns the numbers of ``summary.json``."""
    output = Output(out)
    net, args = load_checkpoint(checkpoint)
    run = evaluate(net, args, dataset, base_path)
    numbers = headline(checkpoint, dataset, run)
    by_class, _ = activation_step(run, output)                   # Fig. 3, 7
    jsd = jsd_step(output, by_class[-1])                         # Fig. 4
    tsne = tsne_step(run, output, tsne_samples, seed)            # Fig. 5
    variability = variability_step(run, output, trials, seed)    # Fig. 6
    sparsity = sparsity_step(run, output)                        # keep ratios, multiply-accumulates
    numbers.update({'jsd': {k: v for k, v in jsd.items() if k != 'pairs_by_overlap'}, 'sparsity': sparsity, **tsne,
                    'trial_variability': [{k: v for k, v in t.items() if k != 'actions'} for t in variability]})
    write_summary(output, numbers)
    return numbers


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description='Section 6 figures of Dynamos from a Mammoth checkpoint.')
    p.add_argument('--checkpoint', type=Path, required=True, help='checkpoint saved by mammoth/main.py --savecheck')
    p.add_argument('--dataset', default='seq-mnist')
    p.add_argument('--base_path', required=True, help='data folder (MNIST in <base_path>/MNIST/raw/)')
    p.add_argument('--out', type=Path, required=True, help='output folder')
    p.add_argument('--trials', type=int, default=4, help='sampled trials for the variability figure')
    p.add_argument('--tsne-samples', type=int, default=2000)
    p.add_argument('--seed', type=int, default=0)
    a = p.parse_args(argv)
    try:
        numbers = analyse(a.checkpoint.resolve(), a.dataset, str(Path(a.base_path).resolve()), a.out.resolve(),
                          a.trials, a.tsne_samples, a.seed)
    except (ValueError, FileNotFoundError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    print(json.dumps({k: v for k, v in numbers.items() if k != 'trial_variability'}, indent=1))
    return 0


if __name__ == '__main__':
    sys.exit(main())
