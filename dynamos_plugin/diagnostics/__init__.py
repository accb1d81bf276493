"""
The lab's diagnostics of trained Dynamos (and baseline) runs; none of them is imported by Mammoth.

- :mod:`dynamos_plugin.diagnostics.analysis`: the paper's Section 6 analysis of a Seq-MNIST Dynamos
  checkpoint (``python -m dynamos_plugin.diagnostics.analysis --checkpoint ... --dataset seq-mnist
  --base_path ... --out DIR``), one module per figure in :mod:`dynamos_plugin.diagnostics.section6`:
  activation rates (Fig. 3, 7), Jensen-Shannon divergences (Fig. 4), t-SNE (Fig. 5), trial-to-trial
  variability (Fig. 6), and the multiply-accumulates the dropped channels save;
- :mod:`dynamos_plugin.diagnostics.bn_check`: a checkpoint evaluated with its stored BatchNorm statistics
  and with statistics recomputed for the same weights (``python -m dynamos_plugin.diagnostics.bn_check``);
- :mod:`dynamos_plugin.diagnostics.agent_trace`: the agents' statistics over training, read back from
  the logs of ``dynamos`` runs and plotted (``python -m dynamos_plugin.diagnostics.agent_trace``);

They store the paths of their inputs relative to the repository root when inside it
(:func:`dynamos_plugin.glue.paths.repo_relative`), so that committed results hold no machine's
absolute paths.

What they found is in ``results/section6/`` and ``results/studies/``.
"""
