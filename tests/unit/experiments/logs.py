"""Mammoth logs as the runner reads them (the unit tests of the log parser, the error line and the Seq-SVHN
timing)."""

import textwrap

# a realistic end of a Seq-MNIST log: every line twice (stderr and the logger), earlier tasks first
CLASS_IL_LOG = textwrap.dedent("""\
    [INFO] 24-Nov-26 00:11:20 - Task 1
    Accuracy for 1 task(s): \t [Class-IL]: 99.81 % \t [Task-IL]: 99.81 %
    [INFO] 24-Nov-26 00:11:28 - Accuracy for 1 task(s): \t [Class-IL]: 99.81 % \t [Task-IL]: 99.81 %
    \tRaw accuracy values: Class-IL [99.81087470449172] | Task-IL [99.81087470449172]
    [INFO] 24-Nov-26 00:11:28 - \tRaw accuracy values: Class-IL [99.81087470449172] | Task-IL [99.81087470449172]
    Accuracy for 5 task(s): \t [Class-IL]: 96.61 % \t [Task-IL]: 99.7 %
    [INFO] 24-Nov-26 00:20:27 - Accuracy for 5 task(s): \t [Class-IL]: 96.61 % \t [Task-IL]: 99.7 %
    \tRaw accuracy values: Class-IL [98.5, 96.25, 94.0, 94.75, 99.5] | Task-IL [99.5, 99.25, 99.75, 100.0, 99.5]
    [INFO] 24-Nov-26 00:20:27 - \tRaw accuracy values: Class-IL [98.5, 96.25, 94.0, 94.75, 99.5] | Task-IL [99.5, 99.25, 99.75, 100.0, 99.5]
    [INFO] 24-Nov-26 00:20:27 - System stats:
    """)

# the end of a real MNIST-360 (general continual learning) log
DOMAIN_IL_LOG = textwrap.dedent("""\
    [INFO] 24-Nov-26 02:52:09 - Task 1
    Accuracy for 1 task(s): [Domain-IL]: 88.15 %
    [INFO] 24-Nov-26 02:52:12 - Accuracy for 1 task(s): [Domain-IL]: 88.15 %
    \tRaw accuracy values: Domain-IL [88.15]
    [INFO] 24-Nov-26 02:52:12 - \tRaw accuracy values: Domain-IL [88.15]
    [INFO] 24-Nov-26 02:52:12 - Logging results and arguments in /tmp/m/general-continual/mnist-360/er/logs.pyd
    """)

# the end of a real failed run's log (patches/0007: one error line, then the hint), as the runner writes it:
# its first line is the command
FAILED_LOG = textwrap.dedent("""\
    # .venv/bin/python mammoth/main.py --model dynamos --dataset seq-mnist --base_path /nowhere
    [INFO] 25-Nov-26 10:51:59 - Current working directory: /home/researcher/dynamos/mammoth.
    [INFO] 25-Nov-26 10:51:59 - Main process PID: 15842
    [ERROR] 25-Nov-26 10:51:59 - FileNotFoundError: MNIST not found in /nowhere/MNIST/raw and it could not be downloaded
    [ERROR] 25-Nov-26 10:51:59 - (set MAMMOTH_TRACEBACK=1 to see the traceback)

    """)

# an argument error: Mammoth's short usage line, then argparse's error
ARGPARSE_LOG = textwrap.dedent("""\
    # .venv/bin/python mammoth/main.py --model dynamos --dataset seq-mnist --buffer_size abc
    [INFO] 25-Nov-26 10:52:01 - Running Mammoth! on vm.
    usage: main.py --model MODEL --dataset DATASET [options]  (add --help to list the options)
    main.py: error: argument --buffer_size: 'abc' is not a valid int
    """)
