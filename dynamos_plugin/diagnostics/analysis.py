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

``summary.json`` and ``summary.md`` list every file and the headline numbers.

Options: ``--trials`` (sampled trials per input in Fig. 6, default 4), ``--tsne-samples`` (test
images embedded by t-SNE, default 2000), ``--seed`` (t-SNE subsample and random state, sampled
actions). Only ``seq-mnist`` is supported (the paper's Section 6 uses Seq-MNIST, buffer 500).
"""

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np
import torch

from dynamos_plugin.mammoth_glue import REPO, load_checkpoint

#: the training arguments copied from the checkpoint into ``summary.json``
CHECKPOINT_ARGS = ('model', 'dataset', 'buffer_size', 'seed', 'nf', 'temperature', 'hidden_dim_ratio', 'agent_stride',
                   'keep_ratio', 'infer_mode', 'inf_thresh', 'n_epochs', 'batch_size', 'lr')

FILE_DESCRIPTIONS = {
    'activation_rates_class.png': 'Fig. 3a: activation rate of the last 40 filters of the last gated layer, per class',
    'activation_rates_task.png': 'Fig. 3b: the same per task',
    'activation_rates_all_layers.png': 'Fig. 7: activation rates of every filter of the 4 gated layers, per class and per task',
    'activation_rates.json': 'the rates behind Fig. 3 and 7 (layer x class x filter, layer x task x filter)',
    'jsd.png': 'Fig. 4: Jensen-Shannon divergence (x100, base 2) between the classes\' activation-rate vectors',
    'jsd.json': 'the JSD matrix and its summary (lowest pair, ratios to the mean and the largest pair)',
    'tsne.png': 'Fig. 5: t-SNE of the last gated layer\'s attention vectors, coloured by class',
    'tsne.json': 'the t-SNE embedding, the sample indices and labels, and a clustering score',
    'trial_variability.png': 'Fig. 6: last-layer actions of correctly classified inputs over sampled trials',
    'trial_variability.json': 'the sampled actions and the fractions of filters always kept / always dropped / varying',
    'sparsity.json': 'mean keep ratio per agent and the gated stage\'s multiply-accumulates against the dense network',
    'summary.json': 'the headline numbers and this list of files',
    'summary.md': 'the same, as Markdown',
}

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
    The result is symmetric with a zero diagonal; a row that sums to 0 gives NaN in its pairs.
    """
    from scipy.spatial.distance import jensenshannon
    n = rates.shape[0]
    out = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            out[i, j] = out[j, i] = jensenshannon(rates[i], rates[j], base=2) ** 2
    return out


def jsd_summary(jsd: np.ndarray, names: Sequence[str]) -> dict:
    """The paper's Fig. 4 summary: the most overlapping pair and how it compares with the mean and largest pair.

    Args:
        jsd: symmetric ``(n, n)`` divergences (NaN pairs, from a class without kept filters, are ignored).
        names: the ``n`` class names.
    Returns:
        the lowest and largest pair and their values x100, the mean over the pairs i < j x100,
        ``mean_over_lowest`` (the paper: about 15) and ``largest_over_lowest`` (the paper, for 1-8:
        about 42), and every pair from most to least overlapping.
    """
    iu = np.triu_indices(jsd.shape[0], k=1)
    values = jsd[iu]
    if np.isnan(values).all():
        raise ValueError('every Jensen-Shannon divergence is undefined (no class has a kept filter)')
    lo, hi = int(np.nanargmin(values)), int(np.nanargmax(values))
    pair = lambda k: [names[iu[0][k]], names[iu[1][k]]]  # noqa: E731
    lowest = float(values[lo])
    return {'lowest_pair': pair(lo), 'lowest_jsd_x100': 100 * lowest,
            'mean_jsd_x100': 100 * float(np.nanmean(values)), 'largest_pair': pair(hi),
            'largest_jsd_x100': 100 * float(values[hi]),
            'mean_over_lowest': float(np.nanmean(values) / lowest) if lowest > 0 else float('inf'),
            'largest_over_lowest': float(values[hi] / lowest) if lowest > 0 else float('inf'),
            'pairs_by_overlap': [[*pair(k), 100 * float(values[k])] for k in np.argsort(values) if not np.isnan(values[k])]}


def gated_stage_macs(actions: List[np.ndarray], in_channels: int, channels: int, in_hw: int, out_hw: int,
                     agent_hidden: int) -> Dict:
    """Multiply-accumulates per sample of the gated stage (stage 2), skipping dropped channels.

    Stage 2 has two blocks, each ``conv1 (3x3) -> conv2 (3x3)`` plus a shortcut (a 1x1 conv in the
    first block, which has stride 2; the identity in the second), with agents ``a1`` (on conv1's
    outputs) and ``a2`` (on the block's outputs). A channel dropped by ``a1`` is zero after the ReLU,
    so conv2 need not read it; a channel dropped by ``a2`` need not be computed by conv2 or the
    shortcut, and the next block (its conv1, its agent and its identity shortcut) need not read it.
    With ``k`` kept channels per agent, per sample and output position:

    ========================  ===================  ==================
    part                      dense                gated
    ========================  ===================  ==================
    block 1 conv1 (3x3, s2)   ``C_in * C * 9``     ``C_in * k1 * 9``
    block 1 conv2 (3x3)       ``C * C * 9``        ``k1 * k2 * 9``
    block 1 shortcut (1x1)    ``C_in * C``         ``C_in * k2``
    block 2 conv1 (3x3)       ``C * C * 9``        ``k2 * k3 * 9``
    block 2 conv2 (3x3)       ``C * C * 9``        ``k3 * k4 * 9``
    ========================  ===================  ==================

    All of them run on the ``out_hw`` positions of the stage's output (the first conv has stride 2).
    The agents' own cost, reported apart (the dense network has none): each agent's pointwise conv
    ``(channels it reads) * C`` per output position (it has the stride of the conv it gates) and
    its MLP ``2 * C * agent_hidden``. Agent 1 reads all ``C_in`` channels, agent 2 the ``k1``
    kept ones, agent 3 ``k2``, agent 4 ``k3``. Batch norm, ReLU and pooling are not counted.

    Args:
        actions: the four agents' ``(N, C)`` 0/1 actions, in network order.
        in_channels: channels entering the stage (nf); channels: the stage's width (2 nf).
        in_hw: spatial size (H*W) of the stage's input (informational: the stride-2 convs and
            agent 1 produce ``out_hw`` positions, so every count uses ``out_hw``).
        out_hw: spatial size (H*W) of the stage's output.
        agent_hidden: the agents' MLP width.
    Returns:
        per-sample means: ``dense`` and ``gated`` MACs of the convolutions (shortcut included),
        ``agents`` (their overhead), the ratios to dense, and ``parts``: the same per convolution
        and per agent (``{'dense': ..., 'gated': ...}`` / ``{'macs': ...}``).
    """
    if len(actions) != 4:
        raise ValueError(f'the gated stage has 4 agents, got actions of {len(actions)}')
    k1, k2, k3, k4 = [np.asarray(a, dtype=np.float64).sum(axis=1) for a in actions]  # kept channels per sample
    c_in, c, hw = in_channels, channels, out_hw
    convs = {  # name: (dense, gated per sample)
        'block1.conv1': (c_in * c * 9, c_in * k1 * 9),
        'block1.conv2': (c * c * 9, k1 * k2 * 9),
        'block1.shortcut': (c_in * c, c_in * k2),
        'block2.conv1': (c * c * 9, k2 * k3 * 9),
        'block2.conv2': (c * c * 9, k3 * k4 * 9),
    }
    mlp = 2 * c * agent_hidden
    agents = {'block1.agent1': np.full_like(k1, c_in * c), 'block1.agent2': k1 * c, 'block2.agent1': k2 * c,
              'block2.agent2': k3 * c}
    parts = {name: {'dense': float(d * hw), 'gated': float(np.mean(g * hw))} for name, (d, g) in convs.items()}
    parts.update({name: {'macs': float(np.mean(pw * hw + mlp))} for name, pw in agents.items()})
    dense = float(sum(d for d, _ in convs.values()) * hw)
    gated = float(np.mean(sum(g for _, g in convs.values()) * hw))
    agent_total = float(np.mean(sum(pw * hw + mlp for pw in agents.values())))
    return {'dense': dense, 'gated': gated, 'agents': agent_total, 'gated_over_dense': gated / dense,
            'gated_plus_agents_over_dense': (gated + agent_total) / dense, 'parts': parts}


def cluster_scores(embedding: np.ndarray, attention: np.ndarray, labels: np.ndarray, seed: int = 0) -> Dict[str, float]:
    """How well the classes cluster: silhouette of the 2-D embedding, and 5-fold cross-validated
    5-nearest-neighbour accuracy in the embedding and in the attention space itself (Fig. 5)."""
    from sklearn.metrics import silhouette_score
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier
    out = {'silhouette_embedding': float('nan'), 'knn5_accuracy_embedding': float('nan'),
           'knn5_accuracy_attention': float('nan')}
    counts = np.bincount(labels)
    if len(np.unique(labels)) < 2 or counts[counts > 0].min() < 5:
        return out  # too few samples per class for the scores
    out['silhouette_embedding'] = float(silhouette_score(embedding, labels))
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    for name, x in (('embedding', embedding), ('attention', attention)):
        out[f'knn5_accuracy_{name}'] = float(cross_val_score(KNeighborsClassifier(5), x, labels, cv=folds).mean())
    return out


# ---------------------------------------------------------------------------------------------
# Model and data
# ---------------------------------------------------------------------------------------------


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
    files, numbers = [], {'checkpoint': str(checkpoint),
                          'checkpoint_args': {k: args.get(k) for k in CHECKPOINT_ARGS if k in args},
                          'dataset': dataset, 'test_samples': int(len(labels)),
                          'test_accuracy': float((preds == labels).mean() * 100),
                          'inference': f'thresholded actions, p >= {net.inf_thresh}; the trial-to-trial figure samples them'}

    def save(fig, name):
        fig.tight_layout()
        fig.savefig(out / name, dpi=130)
        plt.close(fig)
        files.append(name)

    def dump(obj, name):
        (out / name).write_text(json.dumps(_finite(obj), indent=1, allow_nan=False) + '\n')
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
    ax.set_ylabel('task (classes)')
    save(fig, 'activation_rates_task.png')
    fig, axes = plt.subplots(len(actions), 2, figsize=(16, 3.0 * len(actions)))
    for i, name in enumerate(layer_names):
        _heatmap(axes[i, 0], by_class[i], classes, f'{name}: by class', 'filter')
        axes[i, 0].set_ylabel('class')
        _heatmap(axes[i, 1], by_task[i], [f'task {t + 1}' for t in range(n_tasks)], f'{name}: by task', 'filter')
        axes[i, 1].set_ylabel('task')
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
    perplexity = min(30.0, max(1.0, (len(idx) - 1) / 3))  # sklearn needs perplexity < n_samples
    emb = TSNE(n_components=2, random_state=seed, init='pca', perplexity=perplexity).fit_transform(attention[idx])
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    cmap = plt.get_cmap('tab10')
    for c in range(n_classes):
        m = labels[idx] == c
        ax.scatter(emb[m, 0], emb[m, 1], s=5, color=cmap(c), label=classes[c])
    ax.set_title(f't-SNE of the last layer\'s attention vectors ({len(idx)} test samples)')
    ax.set_xlabel('t-SNE 1'), ax.set_ylabel('t-SNE 2')
    ax.legend(title='class', markerscale=3, fontsize=8, loc='best')
    save(fig, 'tsne.png')
    present = np.unique(labels[idx])  # a small subsample may miss a class
    centroids = np.stack([emb[labels[idx] == c].mean(0) for c in present])
    spread = np.mean([np.linalg.norm(emb[labels[idx] == c] - centroids[k], axis=1).mean() for k, c in enumerate(present)])
    nearest_centroid = present[np.linalg.norm(emb[:, None] - centroids[None], axis=2).argmin(1)]
    clustering = cluster_scores(emb, attention[idx], labels[idx], seed)
    centroid_dist = np.linalg.norm(centroids[:, None] - centroids[None], axis=2)
    dump({'indices': idx.tolist(), 'embedding': emb.tolist(), 'labels': labels[idx].tolist(),
          'perplexity': perplexity, 'random_state': seed,
          'nearest_centroid_agreement': float((nearest_centroid == labels[idx]).mean()),
          'mean_within_class_distance': float(spread), **clustering,
          'nearest_other_class_centroids': {str(c): [int(present[k]) for k in np.argsort(centroid_dist[i])[1:3]]
                                            for i, c in enumerate(present)}}, 'tsne.json')

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
        ax.set_ylabel('trial')
    axes[-1].set_xlabel('filter (last gated layer)')
    from matplotlib.patches import Patch
    fig.legend(handles=[Patch(facecolor='black', edgecolor='grey', label='kept (a = 1)'),
                        Patch(facecolor='white', edgecolor='grey', label='dropped (a = 0)')],
               loc='lower right', ncol=2, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
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
                    'tsne_clustering': clustering,
                    'trial_variability': [{k: v for k, v in t.items() if k != 'actions'} for t in variability]})
    numbers['files'] = sorted(files + ['summary.json', 'summary.md'])
    numbers['file_descriptions'] = {name: FILE_DESCRIPTIONS.get(name, '') for name in numbers['files']}
    (out / 'summary.json').write_text(json.dumps(_finite(numbers), indent=1, allow_nan=False) + '\n')
    (out / 'summary.md').write_text(summary_markdown(numbers))
    return numbers


def _finite(obj):
    """The object with every NaN or infinite float replaced by None, so that the JSON is standard."""
    if isinstance(obj, float):
        return obj if np.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def summary_markdown(numbers: dict) -> str:
    """The headline numbers and the list of files, as Markdown (``summary.md``)."""
    j, sp = numbers['jsd'], numbers['sparsity']
    macs = sp['gated_stage_macs_per_sample']
    a = numbers.get('checkpoint_args', {})
    lines = ['# Section 6 analysis', '',
             f"Checkpoint: `{numbers['checkpoint']}` (model `{a.get('model')}`, dataset `{a.get('dataset')}`, "
             f"buffer {a.get('buffer_size')}, seed {a.get('seed')}).",
             f"Test set: {numbers['test_samples']} images of `{numbers['dataset']}`; accuracy of the reloaded "
             f"network {numbers['test_accuracy']:.2f} % ({numbers['inference']}).", '',
             '## Jensen-Shannon divergence between classes, last gated layer (x100, base 2)', '',
             f"- lowest pair {'-'.join(j['lowest_pair'])}: {j['lowest_jsd_x100']:.3f}",
             f"- mean over pairs: {j['mean_jsd_x100']:.3f} ({j['mean_over_lowest']:.1f} x the lowest; paper: about 15)",
             f"- largest pair {'-'.join(j['largest_pair'])}: {j['largest_jsd_x100']:.3f} "
             f"({j['largest_over_lowest']:.1f} x the lowest; paper: 1-8, about 42)", '',
             '## t-SNE of the last layer\'s attention vectors', '',
             f"- nearest class centroid in the 2-D embedding agrees with the label for "
             f"{100 * numbers['tsne_nearest_centroid_agreement']:.1f} % of the embedded samples",
             f"- silhouette of the classes in the embedding: {numbers['tsne_clustering']['silhouette_embedding']:.3f}; "
             f"5-NN accuracy (5-fold CV) in the embedding {numbers['tsne_clustering']['knn5_accuracy_embedding']:.3f}, "
             f"in the attention space {numbers['tsne_clustering']['knn5_accuracy_attention']:.3f}", '',
             '## Trial-to-trial variability (sampled actions, last gated layer)', '',
             '| test image | class | always kept | always dropped | varying |', '|---|---|---|---|---|']
    lines += [f"| {t['test_index']} | {t['label']} | {t['always_on']:.3f} | {t['always_off']:.3f} | {t['varying']:.3f} |"
              for t in numbers['trial_variability']]
    lines += ['', f"## Sparsity (target keep ratio {sp['target_keep_ratio']})", '',
              '| agent | mean keep ratio |', '|---|---|']
    lines += [f'| {name} | {v:.4f} |' for name, v in sp['mean_keep_ratio_per_agent'].items()]
    lines += ['', 'Multiply-accumulates per test image of the gated stage, dropped channels skipped:', '',
              '| part | dense | gated | gated / dense |', '|---|---|---|---|']
    for name, part in macs['parts'].items():
        if 'dense' in part:
            lines.append(f"| {name} | {part['dense'] / 1e6:.3f} M | {part['gated'] / 1e6:.3f} M | "
                         f"{part['gated'] / part['dense']:.3f} |")
        else:
            lines.append(f"| {name} (agent overhead) | - | {part['macs'] / 1e6:.3f} M | - |")
    lines += [f"| **convolutions** | {macs['dense'] / 1e6:.3f} M | {macs['gated'] / 1e6:.3f} M | "
              f"{macs['gated_over_dense']:.3f} |",
              f"| **convolutions + agents** | {macs['dense'] / 1e6:.3f} M | {(macs['gated'] + macs['agents']) / 1e6:.3f} M | "
              f"{macs['gated_plus_agents_over_dense']:.3f} |", '', '## Files', '']
    lines += [f"- `{name}`: {numbers['file_descriptions'].get(name, '')}" for name in numbers['files']]
    return '\n'.join(lines) + '\n'


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
