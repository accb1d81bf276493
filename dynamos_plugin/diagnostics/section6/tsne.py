"""t-SNE of the last gated layer's attention vectors, coloured by class, and how well the classes cluster (Fig. 5)."""

from typing import Dict

import numpy as np

from dynamos_plugin.diagnostics.section6.data import CLASSES, Evaluated
from dynamos_plugin.diagnostics.section6.output import Output, pyplot


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


def embed(attention: np.ndarray, n: int, samples: int, seed: int):
    """A random subsample (``samples`` of the ``n`` test images, sorted) and its 2-D t-SNE embedding; returns
    ``(indices, embedding, perplexity)``."""
    from sklearn.manifold import TSNE
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(n, size=min(samples, n), replace=False))
    perplexity = min(30.0, max(1.0, (len(idx) - 1) / 3))  # sklearn needs perplexity < n_samples
    emb = TSNE(n_components=2, random_state=seed, init='pca', perplexity=perplexity).fit_transform(attention[idx])
    return idx, emb, perplexity


def centroid_numbers(emb: np.ndarray, labels: np.ndarray) -> dict:
    """Class centroids in the embedding: how often the nearest one is the sample's class, the mean distance to
    the own centroid, and each class's two nearest other classes."""
    present = np.unique(labels)  # a small subsample may miss a class
    centroids = np.stack([emb[labels == c].mean(0) for c in present])
    spread = np.mean([np.linalg.norm(emb[labels == c] - centroids[k], axis=1).mean() for k, c in enumerate(present)])
    nearest_centroid = present[np.linalg.norm(emb[:, None] - centroids[None], axis=2).argmin(1)]
    centroid_dist = np.linalg.norm(centroids[:, None] - centroids[None], axis=2)
    return {'nearest_centroid_agreement': float((nearest_centroid == labels).mean()),
            'mean_within_class_distance': float(spread),
            'nearest_other_class_centroids': {str(c): [int(present[k]) for k in np.argsort(centroid_dist[i])[1:3]]
                                              for i, c in enumerate(present)}}


def fig5_tsne(out: Output, emb: np.ndarray, labels: np.ndarray) -> None:
    """Fig. 5: the embedded samples, one colour per class."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    cmap = plt.get_cmap('tab10')
    for c in range(len(CLASSES)):
        m = labels == c
        ax.scatter(emb[m, 0], emb[m, 1], s=5, color=cmap(c), label=CLASSES[c])
    ax.set_title(f't-SNE of the last layer\'s attention vectors ({len(labels)} test samples)')
    ax.set_xlabel('t-SNE 1'), ax.set_ylabel('t-SNE 2')
    ax.legend(title='class', markerscale=3, fontsize=8, loc='best')
    out.save(fig, 'tsne.png')


def tsne_step(run: Evaluated, out: Output, samples: int, seed: int) -> dict:
    """Fig. 5 and ``tsne.json``; returns the centroid agreement and the clustering scores."""
    idx, emb, perplexity = embed(run.attention, len(run.labels), samples, seed)
    labels = run.labels[idx]
    fig5_tsne(out, emb, labels)
    centroids = centroid_numbers(emb, labels)
    clustering = cluster_scores(emb, run.attention[idx], labels, seed)
    out.dump({'indices': idx.tolist(), 'embedding': emb.tolist(), 'labels': labels.tolist(),
              'perplexity': perplexity, 'random_state': seed,
              'nearest_centroid_agreement': centroids['nearest_centroid_agreement'],
              'mean_within_class_distance': centroids['mean_within_class_distance'], **clustering,
              'nearest_other_class_centroids': centroids['nearest_other_class_centroids']}, 'tsne.json')
    return {'tsne_nearest_centroid_agreement': centroids['nearest_centroid_agreement'], 'tsne_clustering': clustering}
