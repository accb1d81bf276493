"""
The paper's Section 6 analysis, from any checkpoint of a Dynamos model saved by Mammoth.

    python -m dynamos_plugin.analysis --checkpoint PATH --dataset seq-mnist --base_path DIR --out DIR

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

``summary.json`` lists every file and the headline numbers.
"""

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np
import torch

REPO = Path(__file__).resolve().parent.parent

# ---------------------------------------------------------------------------------------------
# Pure computations
# ---------------------------------------------------------------------------------------------


def activation_rates(actions: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Fraction of the samples of each group for which each filter was kept.

    Args:
        actions: ``(N, C)`` 0/1 actions of one gated layer.
        groups: ``(N,)`` group (class or task) of each sample.
    Returns:
        ``(n_groups, C)`` rates in [0, 1] (NaN for a group without samples).
    """
    actions = np.asarray(actions, dtype=np.float64)
    rates = np.full((n_groups, actions.shape[1]), np.nan)
    for g in range(n_groups):
        mask = groups == g
        if mask.any():
            rates[g] = actions[mask].mean(axis=0)
    return rates


def jsd_matrix(rates: np.ndarray) -> np.ndarray:
    """Jensen-Shannon divergence (base 2, in [0, 1]) between every pair of rows, each normalised to sum 1.

    scipy's ``jensenshannon`` returns the JS *distance* (the square root); it is squared here.
    """
    from scipy.spatial.distance import jensenshannon
    n = rates.shape[0]
    out = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            out[i, j] = out[j, i] = jensenshannon(rates[i], rates[j], base=2) ** 2
    return out


def jsd_summary(jsd: np.ndarray, names: Sequence[str]) -> dict:
    """The paper's Fig. 4 summary: the most overlapping pair and how it compares with the mean and largest pair."""
    iu = np.triu_indices(jsd.shape[0], k=1)
    values = jsd[iu]
    lo, hi = int(values.argmin()), int(values.argmax())
    pair = lambda k: [names[iu[0][k]], names[iu[1][k]]]  # noqa: E731
    lowest = float(values[lo])
    return {'lowest_pair': pair(lo), 'lowest_jsd_x100': 100 * lowest,
            'mean_jsd_x100': 100 * float(values.mean()), 'largest_pair': pair(hi),
            'largest_jsd_x100': 100 * float(values[hi]),
            'mean_over_lowest': float(values.mean() / lowest) if lowest > 0 else float('inf'),
            'largest_over_lowest': float(values[hi] / lowest) if lowest > 0 else float('inf'),
            'pairs_by_overlap': [[*pair(k), 100 * float(values[k])] for k in np.argsort(values)]}


def gated_stage_macs(actions: List[np.ndarray], in_channels: int, channels: int, in_hw: int, out_hw: int,
                     agent_hidden: int) -> Dict[str, float]:
    """Multiply-accumulates per sample of the gated stage (stage 2), skipping dropped channels.

    Stage 2 has two blocks, each ``conv1 (3x3) -> conv2 (3x3)`` plus a shortcut (a 1x1 conv in the
    first block, which has stride 2), with agents ``a1`` (on conv1's outputs) and ``a2`` (on the
    block's outputs). A channel dropped by ``a1`` is zero after the ReLU, so conv2 need not read it;
    a channel dropped by ``a2`` need not be computed by conv2 or the shortcut, and the next block
    need not read it. The agents' own cost (pointwise conv on their input, the MLP) is separate.

    Args:
        actions: the four agents' ``(N, C)`` actions, in network order.
        in_channels: channels entering the stage (nf); channels: the stage's width (2 nf).
        in_hw: spatial size (H*W) of the stage's input; out_hw: of its output.
        agent_hidden: the agents' MLP width.
    Returns:
        mean ``gated`` and ``dense`` MACs of the convolutions, and the agents' ``agents`` MACs.
    """
    k = [np.asarray(a, dtype=np.float64).sum(axis=1) for a in actions]  # kept channels per sample
    c_in, c = in_channels, channels
    dense = (c_in * c * 9 + c * c * 9 + c_in * c) * out_hw + (c * c * 9 + c * c * 9) * out_hw
    gated = (c_in * k[0] * 9 + k[0] * k[1] * 9 + c_in * k[1]) * out_hw \
        + (k[1] * k[2] * 9 + k[2] * k[3] * 9) * out_hw
    mlp = 2 * c * agent_hidden
    agents = (c_in * c * out_hw + mlp) + (k[0] * c * out_hw + mlp) + (k[1] * c * out_hw + mlp) + (k[2] * c * out_hw + mlp)
    return {'dense': float(dense), 'gated': float(np.mean(gated)), 'agents': float(np.mean(agents)),
            'gated_over_dense': float(np.mean(gated) / dense),
            'gated_plus_agents_over_dense': float((np.mean(gated) + np.mean(agents)) / dense)}


# ---------------------------------------------------------------------------------------------
# Model and data
# ---------------------------------------------------------------------------------------------


def _import_mammoth() -> None:
    """Puts Mammoth on sys.path by the top-level names its code uses (importing `models` chdirs there)."""
    mammoth = str(REPO / 'mammoth')
    if mammoth not in sys.path:
        sys.path.insert(0, mammoth)


def load_checkpoint(path: Path):
    """Rebuilds the gated backbone of a Mammoth checkpoint (``safe`` or ``old_pickle`` format); returns (net, args)."""
    _import_mammoth()
    cwd = os.getcwd()
    from dynamos_plugin.backbone import GatedResNet
    os.chdir(cwd)
    try:
        saved = torch.load(path, map_location='cpu', weights_only=False)
    except Exception as e:
        raise ValueError(f'Cannot read the checkpoint {path}: {type(e).__name__}: {e}') from e
    if not isinstance(saved, dict) or 'model' not in saved or 'args' not in saved:
        raise ValueError(f'{path} is not a Mammoth checkpoint (expected the keys `model` and `args`)')
    args = saved['args'] if isinstance(saved['args'], dict) else vars(saved['args'])
    state = {k[len('net.'):]: v for k, v in saved['model'].items() if k.startswith('net.')}
    if not any('agent' in k for k in state):
        raise ValueError(f'{path} holds a network without agents (model `{args.get("model")}`, backbone '
                         f'`{args.get("backbone")}`): the analysis needs a Dynamos checkpoint')
    net = GatedResNet(num_classes=state['classifier.weight'].shape[0], nf=int(args.get('nf', 32)), gated=True,
                      temperature=float(args.get('temperature', 0.15)),
                      hidden_dim_ratio=int(args.get('hidden_dim_ratio', 16)),
                      inf_thresh=float(args.get('inf_thresh', 0.5)))
    net.load_state_dict(state)
    return net.eval(), args


def load_test_set(dataset: str, base_path: str):
    """The test images and labels, and the class -> task map (seq-mnist: 5 tasks of 2 classes)."""
    if dataset != 'seq-mnist':
        raise ValueError(f'the analysis supports seq-mnist (the paper\'s Section 6), not {dataset}')
    from torchvision.datasets import MNIST
    raw = Path(base_path) / 'MNIST' / 'raw'
    try:
        test = MNIST(base_path, train=False, download=False)
    except RuntimeError as e:
        raise FileNotFoundError(f'MNIST test files not found in {raw}') from e
    images = test.data.float().div(255).unsqueeze(1)
    labels = test.targets.numpy()
    return images, labels, labels // 2


@torch.no_grad()
def collect(net, images: torch.Tensor, batch_size: int = 500):
    """Thresholded-inference actions of every agent, the last layer's attention vectors, and predictions."""
    actions: List[List[np.ndarray]] = [[] for _ in net.agents]
    attention, preds = [], []
    for start in range(0, len(images), batch_size):
        logits, decisions = net(images[start:start + batch_size], returnt='agents')
        for i, d in enumerate(decisions):
            actions[i].append(d.actions.numpy().astype(np.uint8))
        attention.append(decisions[-1].attention.numpy())
        preds.append(logits.argmax(1).numpy())
    return [np.concatenate(a) for a in actions], np.concatenate(attention), np.concatenate(preds)


@torch.no_grad()
def sampled_trials(net, image: torch.Tensor, trials: int, seed: int) -> np.ndarray:
    """The last gated layer's actions for one input over ``trials`` sampled inferences (Section 6.2)."""
    torch.manual_seed(seed)
    old = net.infer_mode
    net.infer_mode = 'sample'
    try:
        return np.stack([net(image[None], returnt='agents')[1][-1].actions[0].numpy() for _ in range(trials)])
    finally:
        net.infer_mode = old


# ---------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------


def _heatmap(ax, data, ylabels, title, xlabel, xticks=None, vmax=1.0, cmap='viridis', cbar_label='activation rate'):
    im = ax.imshow(data, aspect='auto', cmap=cmap, vmin=0, vmax=vmax, interpolation='nearest')
    ax.set_yticks(range(len(ylabels)))
    ax.set_yticklabels(ylabels)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    if xticks is not None:
        ax.set_xticks(*xticks)
    cbar = ax.figure.colorbar(im, ax=ax, fraction=0.04)
    cbar.set_label(cbar_label)
    return im


def analyse(checkpoint: Path, dataset: str, base_path: str, out: Path, trials: int = 4,
            tsne_samples: int = 2000, seed: int = 0) -> dict:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from sklearn.manifold import TSNE

    out.mkdir(parents=True, exist_ok=True)
    net, args = load_checkpoint(checkpoint)
    images, labels, tasks = load_test_set(dataset, base_path)
    actions, attention, preds = collect(net, images)
    n_classes, n_tasks = 10, 5
    classes = [str(c) for c in range(n_classes)]
    layer_names = [f'stage 2 block {b + 1} conv {c + 1}' for b in range(2) for c in range(2)]
    files, numbers = [], {'checkpoint': str(checkpoint), 'test_samples': int(len(labels)),
                          'test_accuracy': float((preds == labels).mean() * 100)}

    def save(fig, name):
        fig.tight_layout()
        fig.savefig(out / name, dpi=130)
        plt.close(fig)
        files.append(name)

    def dump(obj, name):
        (out / name).write_text(json.dumps(obj, indent=1) + '\n')
        files.append(name)

    # 1. activation rates (Fig. 3: last layer, last 40 filters; Fig. 7: every gated layer)
    by_class = [activation_rates(a, labels, n_classes) for a in actions]
    by_task = [activation_rates(a, tasks, n_tasks) for a in actions]
    last40 = slice(actions[-1].shape[1] - 40, actions[-1].shape[1])
    fig, ax = plt.subplots(figsize=(10, 3.6))
    _heatmap(ax, by_class[-1][:, last40], classes, 'Filter activation rates by class (last gated layer, last 40 filters)',
             'filter', (range(0, 40, 5), [str(i) for i in range(last40.start, last40.stop, 5)]))
    ax.set_ylabel('class')
    save(fig, 'activation_rates_class.png')
    fig, ax = plt.subplots(figsize=(10, 2.6))
    _heatmap(ax, by_task[-1][:, last40], [f'task {t + 1}' for t in range(n_tasks)],
             'Filter activation rates by task (last gated layer, last 40 filters)', 'filter',
             (range(0, 40, 5), [str(i) for i in range(last40.start, last40.stop, 5)]))
    save(fig, 'activation_rates_task.png')
    fig, axes = plt.subplots(len(actions), 2, figsize=(16, 3.0 * len(actions)))
    for i, name in enumerate(layer_names):
        _heatmap(axes[i, 0], by_class[i], classes, f'{name}: by class', 'filter')
        axes[i, 0].set_ylabel('class')
        _heatmap(axes[i, 1], by_task[i], [f'task {t + 1}' for t in range(n_tasks)], f'{name}: by task', 'filter')
    save(fig, 'activation_rates_all_layers.png')
    dump({'layers': layer_names, 'by_class': [r.tolist() for r in by_class], 'by_task': [r.tolist() for r in by_task]},
         'activation_rates.json')

    # 2. Jensen-Shannon divergences between the classes, last gated layer (Fig. 4)
    jsd = jsd_matrix(by_class[-1])
    summary = jsd_summary(jsd, classes)
    fig, ax = plt.subplots(figsize=(6.2, 5.2))
    im = ax.imshow(100 * jsd, cmap='magma_r', interpolation='nearest')
    for i in range(n_classes):
        for j in range(n_classes):
            ax.text(j, i, f'{100 * jsd[i, j]:.1f}', ha='center', va='center', fontsize=6,
                    color='white' if jsd[i, j] > jsd.max() * 0.6 else 'black')
    ax.set_xticks(range(n_classes), classes), ax.set_yticks(range(n_classes), classes)
    ax.set_xlabel('class'), ax.set_ylabel('class')
    ax.set_title('Jensen-Shannon divergence (x100, base 2)\nof class activation rates, last gated layer')
    fig.colorbar(im, ax=ax, fraction=0.046).set_label('JSD x 100')
    save(fig, 'jsd.png')
    dump({'jsd_x100': (100 * jsd).tolist(), 'classes': classes, 'base': 2,
          'note': 'squared scipy jensenshannon distance of the rate vectors normalised to sum 1', **summary}, 'jsd.json')

    # 3. t-SNE of the last layer's attention vectors (Fig. 5)
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(labels), size=min(tsne_samples, len(labels)), replace=False))
    emb = TSNE(n_components=2, random_state=seed, init='pca', perplexity=30).fit_transform(attention[idx])
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    cmap = plt.get_cmap('tab10')
    for c in range(n_classes):
        m = labels[idx] == c
        ax.scatter(emb[m, 0], emb[m, 1], s=5, color=cmap(c), label=classes[c])
    ax.set_title(f't-SNE of the last layer\'s attention vectors ({len(idx)} test samples)')
    ax.set_xlabel('t-SNE 1'), ax.set_ylabel('t-SNE 2')
    ax.legend(title='class', markerscale=3, fontsize=8, loc='best')
    save(fig, 'tsne.png')
    centroids = np.stack([emb[labels[idx] == c].mean(0) for c in range(n_classes)])
    spread = np.mean([np.linalg.norm(emb[labels[idx] == c] - centroids[c], axis=1).mean() for c in range(n_classes)])
    nearest_centroid = np.linalg.norm(emb[:, None] - centroids[None], axis=2).argmin(1)
    dump({'indices': idx.tolist(), 'embedding': emb.tolist(), 'labels': labels[idx].tolist(),
          'nearest_centroid_agreement': float((nearest_centroid == labels[idx]).mean()),
          'mean_within_class_distance': float(spread)}, 'tsne.json')

    # 4. trial-to-trial variability (Fig. 6): the first correctly classified input of (up to) four classes
    correct = preds == labels
    picks = [int(np.flatnonzero((labels == c) & correct)[0]) for c in range(n_classes) if ((labels == c) & correct).any()]
    picks = picks[:4] or [0]  # a model that gets nothing right still shows its variability
    trial_actions = [sampled_trials(net, images[i], trials, seed + k) for k, i in enumerate(picks)]
    fig, axes = plt.subplots(len(picks), 1, figsize=(10, 1.2 + 0.9 * len(picks)), squeeze=False)
    axes = axes[:, 0]
    for ax, i, acts in zip(axes, picks, trial_actions):
        ax.imshow(acts, aspect='auto', cmap='Greys', vmin=0, vmax=1, interpolation='nearest')
        ax.set_yticks(range(trials), [f'trial {t + 1}' for t in range(trials)], fontsize=7)
        ax.set_title(f'test image {i} (class {labels[i]}): last-layer actions over {trials} sampled trials '
                     f'(black = kept)', fontsize=9)
    axes[-1].set_xlabel('filter')
    save(fig, 'trial_variability.png')
    variability = []
    for i, acts in zip(picks, trial_actions):
        always_on, always_off = acts.all(0), (~acts.astype(bool)).all(0)
        variability.append({'test_index': i, 'label': int(labels[i]), 'actions': acts.astype(int).tolist(),
                            'always_on': float(always_on.mean()), 'always_off': float(always_off.mean()),
                            'varying': float(1 - always_on.mean() - always_off.mean())})
    dump(variability, 'trial_variability.json')

    # 5. sparsity in numbers
    nf = net.nf
    hw_in = images.shape[2] * images.shape[3]
    macs = gated_stage_macs(actions, nf, 2 * nf, hw_in, hw_in // 4, net.agents[0].fc1.out_features)
    keep = {name: float(a.mean()) for name, a in zip(layer_names, actions)}
    sparsity = {'mean_keep_ratio_per_agent': keep, 'target_keep_ratio': args.get('keep_ratio'),
                'gated_stage_macs_per_sample': macs}
    dump(sparsity, 'sparsity.json')

    numbers.update({'jsd': {k: v for k, v in summary.items() if k != 'pairs_by_overlap'}, 'sparsity': sparsity,
                    'tsne_nearest_centroid_agreement': float((nearest_centroid == labels[idx]).mean()),
                    'trial_variability': [{k: v for k, v in t.items() if k != 'actions'} for t in variability]})
    numbers['files'] = sorted(files + ['summary.json'])
    (out / 'summary.json').write_text(json.dumps(numbers, indent=1) + '\n')
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
