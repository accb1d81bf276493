"""The plugin inside the patched Mammoth, in-process: the entry point registers the models, backbones and dataset
(dynamos_plugin/__init__.py), `--model_config best` reads a per-buffer-size row, `--minibatch_size` is honoured."""


def test_plugin_hook_registers_models_backbones_datasets(mammoth_imported):
    assert 'dynamos' in mammoth_imported
    from models import get_model_names
    from backbone import REGISTERED_BACKBONES
    from datasets import get_dataset_names
    models = get_model_names()
    assert models['dynamos'].__module__ == 'dynamos_plugin.dynamos'
    assert models['msa'].__module__ == 'dynamos_plugin.msa'
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
