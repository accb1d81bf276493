"""What was published, as data: the paper's numbers (the report's "paper" column) and Mammoth's best
arguments (the learning rate and loss weights that ER, DER and DER++ are run with)."""

from typing import Dict, Optional, Tuple

# Mammoth's published lr / alpha / beta (mammoth/utils/best_args.py), every buffer size it lists.
# Its batch_size / minibatch_size / n_epochs are deliberately left out (Dynamos' are used).
# Seq-SVHN (32x32) takes Seq-CIFAR-10's rows (see the package docstring).
MAMMOTH_BEST_SOURCE = {'seq-mnist': 'seq-mnist', 'mnist-360': 'mnist-360', 'seq-svhn32': 'seq-cifar10'}
MAMMOTH_BEST: Dict[Tuple[str, str], Dict[int, Dict[str, float]]] = {
    ('seq-mnist', 'er'): {200: {'lr': 0.01}, 500: {'lr': 0.1}, 5120: {'lr': 0.1}},
    ('seq-mnist', 'der'): {200: {'lr': 0.03, 'alpha': 0.2}, 500: {'lr': 0.03, 'alpha': 1.0},
                           5120: {'lr': 0.1, 'alpha': 0.5}},
    ('seq-mnist', 'derpp'): {200: {'lr': 0.03, 'alpha': 0.2, 'beta': 1.0}, 500: {'lr': 0.03, 'alpha': 1.0, 'beta': 0.5},
                             5120: {'lr': 0.1, 'alpha': 0.2, 'beta': 0.5}},
    ('mnist-360', 'er'): {200: {'lr': 0.2}, 500: {'lr': 0.2}, 1000: {'lr': 0.2}},
    ('mnist-360', 'der'): {200: {'lr': 0.1, 'alpha': 0.5}, 500: {'lr': 0.2, 'alpha': 0.5},
                           1000: {'lr': 0.1, 'alpha': 0.5}},
    ('mnist-360', 'derpp'): {200: {'lr': 0.2, 'alpha': 0.5, 'beta': 1.0}, 500: {'lr': 0.2, 'alpha': 0.5, 'beta': 1.0},
                             1000: {'lr': 0.2, 'alpha': 0.2, 'beta': 1.0}},
    ('seq-svhn32', 'er'): {200: {'lr': 0.1}, 500: {'lr': 0.1}, 5120: {'lr': 0.1}},
    ('seq-svhn32', 'der'): {200: {'lr': 0.03, 'alpha': 0.3}, 500: {'lr': 0.03, 'alpha': 0.3},
                            5120: {'lr': 0.03, 'alpha': 0.3}},
    ('seq-svhn32', 'derpp'): {200: {'lr': 0.03, 'alpha': 0.1, 'beta': 0.5}, 500: {'lr': 0.03, 'alpha': 0.2, 'beta': 0.5},
                              5120: {'lr': 0.03, 'alpha': 0.1, 'beta': 1.0}},
}

# the paper's numbers (dynamos-spec.md): (mean, std or None). Table 2: means of 3 seeds; Table 1: 5 seeds
PAPER: Dict[Tuple[str, str, Optional[int]], Tuple[float, Optional[float]]] = {
    ('seq-mnist', 'dynamos', 500): (97.19, None), ('seq-mnist', 'dynamos', 1000): (97.51, None),
    ('seq-mnist', 'dynamos', 2000): (97.57, None),
    ('seq-svhn32', 'dynamos', 500): (84.815, None), ('seq-svhn32', 'dynamos', 1000): (87.38, None),
    ('seq-svhn32', 'dynamos', 2000): (88.54, None),
    ('mnist-360', 'dynamos', 100): (64.418, 4.095), ('mnist-360', 'dynamos', 200): (79.638, 2.853),
    ('mnist-360', 'dynamos', 500): (90.519, 0.737),
    ('mnist-360', 'msa', 100): (61.192, 3.072), ('mnist-360', 'msa', 200): (75.364, 1.259),
    ('mnist-360', 'msa', 500): (88.150, 0.888),
    ('mnist-360', 'sgd', None): (18.712, 0.690),
}
# the paper's Table 2 also lists CCGN (not re-run here): shown for context only
PAPER_CCGN = {('seq-mnist', 500): 94.01, ('seq-mnist', 1000): 95.94, ('seq-mnist', 2000): 95.94,
              ('seq-svhn32', 500): 67.45, ('seq-svhn32', 1000): 73.99, ('seq-svhn32', 2000): 81.02}
