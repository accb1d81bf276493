"""
The research variants of Dynamos for general continual learning, as their own model, ``dynamos-variants``
(:mod:`dynamos_plugin.variants.model`, which imports Mammoth: :func:`dynamos_plugin.register` imports it),
with their losses (:mod:`~dynamos_plugin.variants.losses`) and the mask-drift probe
(:mod:`~dynamos_plugin.variants.drift`). None is in the paper; ``dynamos`` stays the paper's. What they do
on MNIST-360: ``results/studies/mnist360-agents/``.
"""
