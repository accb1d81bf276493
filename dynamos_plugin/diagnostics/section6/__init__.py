"""
The paper's Section 6 analysis, one module per figure; :mod:`dynamos_plugin.diagnostics.analysis` is the
command that runs them in turn on a checkpoint.

- :mod:`.data`: the test set, the network's actions, attention vectors and predictions on it;
- :mod:`.output`: the output folder (figures as PNG, numbers as strict JSON) and the heat-map helper;
- :mod:`.activation`: activation rates per class and per task (Fig. 3, Fig. 7);
- :mod:`.jsd`: Jensen-Shannon divergences between the classes (Fig. 4);
- :mod:`.tsne`: t-SNE of the last gated layer's attention vectors and how well the classes cluster (Fig. 5);
- :mod:`.variability`: one input's actions over sampled trials (Fig. 6);
- :mod:`.macs`: keep ratios and the gated stage's multiply-accumulates with dropped channels skipped;
- :mod:`.summary`: ``summary.json`` and ``summary.md``, the headline numbers and the list of files.
"""
