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

__all__ = ['register']


def register() -> None:
    """Registers the plugin's backbones, models and datasets with Mammoth (idempotent)."""
    from dynamos_plugin import backbone, dynamos, msa, seq_svhn32  # noqa: F401  (importing registers)
    from dynamos_plugin.variants import model  # noqa: F401  (dynamos-variants)
