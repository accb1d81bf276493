"""
Dynamos for Mammoth.

Dynamos (Varma, Arani, Zonooz, "Dynamically Modular and Sparse General Continual Learning",
VISAPP 2023) as a plugin for the Mammoth continual-learning framework. Mammoth loads it
through the ``mammoth.plugins`` entry point declared in ``setup.cfg``, which calls
:func:`register`. The pieces of the paper live in their own modules:

- :mod:`dynamos_plugin.agent`: the agent (self-attention network + probability layer, Fig. 1);
- :mod:`dynamos_plugin.backbone`: the gated reduced ResNet-18 and its un-gated twin;
- :mod:`dynamos_plugin.losses`: reward (Eq. 3), policy (Eq. 4), prototype (Eq. 5) and
  consistency (Eq. 6) losses;
- :mod:`dynamos_plugin.buffer`: the add-if-correct reservoir buffer (Section 3.2);
- :mod:`dynamos_plugin.dynamos`: the ``dynamos`` model (Eq. 7), the paper and nothing else;
- :mod:`dynamos_plugin.stats`, :mod:`dynamos_plugin.runlog`: what a run logs, and its machine-readable line;
- :mod:`dynamos_plugin.msa`: the Eq. 8 baseline of the paper's Table 1 (``--model msa``);
- :mod:`dynamos_plugin.variants`: ``dynamos-variants``, the research variants of the GCL study (not the paper);
- :mod:`dynamos_plugin.seq_svhn32`: the paper's 32x32 Seq-SVHN benchmark.

Everything that touches Mammoth imports it by the top-level names ``main.py`` uses
(``models``, ``backbone``, ``datasets``, ``utils``), so it is imported only from :func:`register`.
"""

import os
from typing import Optional

__all__ = ['register', 'default_data_path']


def default_data_path() -> Optional[str]:
    """The data folder Mammoth uses when ``--base_path`` is not given: ``$DYNAMOS_DATA``, else ``data/`` in the
    repository this plugin is checked out in (the lab tools' default, outside the ``mammoth/`` submodule);
    None for a copy installed elsewhere (Mammoth's own default, ``./data/`` in ``mammoth/``, stays)."""
    if os.environ.get('DYNAMOS_DATA'):
        return os.path.abspath(os.environ['DYNAMOS_DATA'])
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.path.join(repo, 'data') if os.path.isdir(os.path.join(repo, 'mammoth')) else None


def register() -> None:
    """Registers the plugin's backbones, models and datasets with Mammoth (idempotent), and makes
    :func:`default_data_path` the default of ``--base_path`` (patch 0019), unless one is already set."""
    from dynamos_plugin import backbone, dynamos, msa, seq_svhn32  # noqa: F401  (importing registers)
    from dynamos_plugin.variants import model  # noqa: F401  (dynamos-variants)
    from utils.conf import base_path
    data = default_data_path()
    if data is not None and not hasattr(base_path, 'path'):
        base_path(data)
