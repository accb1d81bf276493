"""
The glue between the lab tooling and Mammoth, one module per concern:

- :mod:`~dynamos_plugin.glue.paths`: the repository, its Mammoth, the default data folder, repository-relative paths;
- :mod:`~dynamos_plugin.glue.mammoth_log`: the accuracy lines of a Mammoth log (:func:`parse_log`);
- :mod:`~dynamos_plugin.glue.checkpoints`: a network rebuilt from a Mammoth checkpoint (:func:`load_checkpoint`).

Nothing Mammoth loads for a run imports this package (``tests/unit/test_plugin.py`` checks it).
"""
