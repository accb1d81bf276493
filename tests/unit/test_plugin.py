"""The plugin inside the patched Mammoth, in-process: the entry point registers the models, backbones and dataset
(dynamos_plugin/__init__.py), `--model_config best` reads a per-buffer-size row, `--minibatch_size` is honoured;
and, in a fresh interpreter, what Mammoth's entry point loads imports none of the lab's code."""

import json
import os
import subprocess
import sys
import textwrap

from dynamos_plugin.glue.paths import MAMMOTH

#: the lab's code and libraries: the method (what Mammoth loads) must import none of them
LAB_MODULES = ('dynamos_plugin.experiments', 'dynamos_plugin.diagnostics', 'dynamos_plugin.glue', 'benchmarks')
LAB_LIBRARIES = ('matplotlib', 'scipy', 'sklearn', 'submitit')


def test_plugin_hook_registers_models_backbones_datasets(mammoth_imported):
    assert 'dynamos' in mammoth_imported
    from models import get_model_names
    from backbone import REGISTERED_BACKBONES
    from datasets import get_dataset_names
    models = get_model_names()
    assert models['dynamos'].__module__ == 'dynamos_plugin.dynamos'
    assert models['msa'].__module__ == 'dynamos_plugin.msa'
    assert models['dynamos-variants'].__module__ == 'dynamos_plugin.variants.model'
    assert {'gated-resnet', 'ungated-resnet'} <= set(REGISTERED_BACKBONES)
    assert 'seq-svhn32' in get_dataset_names(names_only=True)


def test_model_config_best_loads_a_yaml_with_several_buffer_sizes(mammoth_imported):
    import main
    args = main.parse_args(['--model', 'dynamos', '--dataset', 'seq-mnist', '--buffer_size', '1000',
                            '--model_config', 'best'])
    # Table 5, seq-mnist, buffer 1000
    assert (args.alpha, args.beta, args.policy_penalty, args.reward_weight, args.prototype_loss) == (0.1, 2.5, 200, 0.7, 0.5)


def test_minibatch_size_is_honoured(mnist_dir, tmp_path, mammoth_imported):
    import main
    from datasets import get_dataset
    args = main.parse_args(['--model', 'er', '--dataset', 'seq-mnist', '--buffer_size', '50', '--lr', '0.1',
                            '--batch_size', '10', '--minibatch_size', '3', '--base_path', str(mnist_dir)])
    from utils.conf import base_path
    base_path(args.base_path)
    main.extend_args(args, get_dataset(args))
    assert (args.batch_size, args.minibatch_size) == (10, 3)


def test_what_mammoth_loads_imports_no_lab_code(mnist_dir, tmp_path):
    """A fresh interpreter parses a Dynamos command line and builds model, backbone and dataset as
    ``mammoth/main.py`` does (the plugin registered through its entry point). No module of the lab may be loaded,
    and no module of the plugin may import a lab library (Mammoth's own models import scipy and scikit-learn:
    that is Mammoth's business, so the importer is what is checked)."""
    script = textwrap.dedent(f"""
        import builtins, json, os, sys
        sys.path.insert(0, {str(MAMMOTH)!r}); os.chdir({str(MAMMOTH)!r})
        importers, original = [], builtins.__import__
        def recording_import(name, globals=None, *args, **kwargs):
            if name.split('.')[0] in {LAB_LIBRARIES!r}:
                importers.append([name, (globals or {{}}).get('__name__', '?')])
            return original(name, globals, *args, **kwargs)
        builtins.__import__ = recording_import
        import main
        args = main.parse_args(['--model', 'dynamos', '--dataset', 'seq-mnist', '--buffer_size', '50',
                                '--base_path', {str(mnist_dir)!r}, '--num_workers', '0'])
        model, dataset, args = main.initialize(args)
        json.dump({{'modules': sorted(sys.modules), 'importers': importers, 'model': type(model).__module__}},
                  open({str(tmp_path / 'loaded.json')!r}, 'w'))
    """)
    proc = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                          env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert proc.returncode == 0, proc.stderr[-3000:]
    loaded = json.loads((tmp_path / 'loaded.json').read_text())
    assert loaded['model'] == 'dynamos_plugin.dynamos'
    plugin = [m for m in loaded['modules'] if m.startswith('dynamos_plugin')]
    assert {'dynamos_plugin.dynamos', 'dynamos_plugin.variants.model', 'dynamos_plugin.msa'} <= set(plugin)
    assert [m for m in loaded['modules'] if m.startswith(LAB_MODULES)] == []
    assert [(name, by) for name, by in loaded['importers'] if by.startswith('dynamos_plugin')] == []


def test_the_plugin_install_needs_no_lab_library_and_the_lab_extra_has_them():
    """setup.cfg: installing the plugin pulls only what the method and Mammoth need; the lab's libraries are the
    ``lab`` extra, which ``setup.sh`` installs (with ``test``) so that the README's two commands still do everything."""
    import configparser
    from dynamos_plugin.glue.paths import REPO
    cfg = configparser.ConfigParser()
    cfg.read(REPO / 'setup.cfg')
    names = lambda text: {line.split('=')[0].split('>')[0].split('<')[0].strip().lower()  # noqa: E731
                          for line in text.splitlines() if line.strip() and not line.strip().startswith('#')}
    required = names(cfg['options']['install_requires'])
    lab = names(cfg['options.extras_require']['lab'])
    assert {'torch', 'torchvision', 'numpy'} <= required
    assert not required & {'matplotlib', 'scipy', 'scikit-learn', 'submitit'}
    assert lab == {'matplotlib', 'scipy', 'scikit-learn', 'submitit'}
    assert '-e ".[lab,test]"' in (REPO / 'setup.sh').read_text()
