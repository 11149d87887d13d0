"""The ``deepmat`` command line: ``deepmat train | evaluate | predict | summary | export |
explain | gradcheck`` (also ``python -m deepmat``).

=============  ==================================================================
module         what it holds
=============  ==================================================================
``main``       the parser built from the COMMANDS table, and ``main()``
``config``     the one table of run options, config files, defaults, the network
``values``     the validators of flag and config values
``sources``    data sets, models and configs as the commands read them
``runs``       the run folder ``train`` writes
``train`` …    one module per command: ``add_parser(subparsers)`` + ``run(args)``
=============  ==================================================================

``deepmat train`` with no arguments runs the main job, the Fashion-MNIST MLP of
``examples/fashion_mnist.py`` (scikit-learn's digits when Fashion-MNIST is not installed).
"""

from deepmat.cli.config import fit_to_data, gather_config, read_config_file, settle
from deepmat.cli.main import COMMANDS, build_parser, main
from deepmat.cli.runs import RUN_FILES

__all__ = [
    "COMMANDS",
    "RUN_FILES",
    "build_parser",
    "fit_to_data",
    "gather_config",
    "main",
    "read_config_file",
    "settle",
]
