"""
The lab's diagnostics of trained Dynamos (and baseline) runs; none of them is imported by Mammoth.

- :mod:`dynamos_plugin.diagnostics.analysis`: the paper's Section 6 analysis of a Seq-MNIST Dynamos
  checkpoint (``python -m dynamos_plugin.diagnostics.analysis --checkpoint ... --dataset seq-mnist
  --base_path ... --out DIR``);
- :mod:`dynamos_plugin.diagnostics.bn_check`: a checkpoint evaluated with its stored BatchNorm statistics
  and with statistics recomputed for the same weights (``python -m dynamos_plugin.diagnostics.bn_check``);
- :mod:`dynamos_plugin.diagnostics.agent_trace`: the agents' statistics over training, read back from
  the logs of ``dynamos`` runs and plotted (``python -m dynamos_plugin.diagnostics.agent_trace``).
"""
