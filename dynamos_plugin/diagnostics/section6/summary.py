"""``summary.json`` and ``summary.md``: the checkpoint, the headline numbers of every figure and the list of files."""

from dynamos_plugin.diagnostics.section6.output import Output, write_json

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


def write_summary(out: Output, numbers: dict) -> None:
    """Adds the list of files (these two included) and their descriptions to ``numbers``; writes both files."""
    numbers['files'] = sorted(out.files + ['summary.json', 'summary.md'])
    numbers['file_descriptions'] = {name: FILE_DESCRIPTIONS.get(name, '') for name in numbers['files']}
    write_json(numbers, out.folder / 'summary.json')
    (out.folder / 'summary.md').write_text(summary_markdown(numbers))
