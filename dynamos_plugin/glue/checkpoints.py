"""
Rebuilding a network from a Mammoth checkpoint, for the Section 6 analysis and the BatchNorm check. The mapping
from a checkpoint's arguments to a backbone lives with the backbone (:func:`dynamos_plugin.backbone.backbone_from_checkpoint`).
"""

from pathlib import Path
from typing import Tuple

from dynamos_plugin.glue.paths import mammoth_on_path


def load_checkpoint(path: Path, require_agents: bool = True) -> Tuple[object, dict]:
    """Rebuilds the backbone of a Mammoth checkpoint (``safe`` or ``old_pickle`` format); returns ``(net, args)``,
    the network in eval mode.

    With ``require_agents`` (the Section 6 analysis) a network without agents is refused; without it,
    the un-gated twin (``ungated-resnet``, what the baselines train) is rebuilt too.
    """
    import torch
    with mammoth_on_path():
        from dynamos_plugin.backbone import backbone_from_checkpoint
    try:
        saved = torch.load(path, map_location='cpu', weights_only=False)
    except Exception as e:
        raise ValueError(f'Cannot read the checkpoint {path}: {type(e).__name__}: {e}') from e
    if not isinstance(saved, dict) or 'model' not in saved or 'args' not in saved:
        raise ValueError(f'{path} is not a Mammoth checkpoint (expected the keys `model` and `args`)')
    args = saved['args'] if isinstance(saved['args'], dict) else vars(saved['args'])
    state = {k[len('net.'):]: v for k, v in saved['model'].items() if k.startswith('net.')}
    if require_agents and not any('agent' in k for k in state):
        raise ValueError(f'{path} holds a network without agents (model `{args.get("model")}`, backbone '
                         f'`{args.get("backbone")}`): the analysis needs a Dynamos checkpoint')
    return backbone_from_checkpoint(state, args), args
