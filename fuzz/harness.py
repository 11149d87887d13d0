"""What the data-loader harnesses of this folder share (``fuzz_hdf5.py``, ``fuzz_idx.py``): an
address-space limit, a bound on each load's memory, a work folder, and the run.

Each harness limits its address space (``resource.setrlimit(RLIMIT_AS)``) to its size after
the imports plus :data:`MARGIN`, and sets ``DEEPMAT_MAX_LOAD_BYTES`` to 1 TiB: only the file
checks can keep a load small, and a load that is not kept small fails with MemoryError, which
libFuzzer reports as a crash, like any exception other than ValueError. Below that limit,
:func:`load` reports a load that raises the process's peak memory (``ru_maxrss``) by more than
:data:`MAX_GROWTH`: inputs are a few KB, so even at 1032:1 no honest load needs that much.
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
from collections.abc import Callable

os.environ["DEEPMAT_MAX_LOAD_BYTES"] = str(1 << 40)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

#: The address space a harness may use beyond what it holds after its imports.
MARGIN = 1 << 30
#: How much one load may raise the peak resident memory.
MAX_GROWTH = 64 << 20
#: The folder of the files each input is written to.
WORK = tempfile.mkdtemp(prefix="deepmat-fuzz-")


def limit_address_space(margin: int = MARGIN) -> int:
    """Cap RLIMIT_AS at the present size + ``margin``; return the cap in bytes."""
    with open("/proc/self/status") as status:
        size = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize"))
    cap = size + margin
    resource.setrlimit(resource.RLIMIT_AS, (cap, resource.getrlimit(resource.RLIMIT_AS)[1]))
    return cap


def load(call: Callable[[], object]) -> object:
    """``call()`` (a load), or None when it raises ValueError; AssertionError when it raised the
    peak resident memory by more than :data:`MAX_GROWTH`."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        result = call()
    except ValueError:
        result = None
    growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024
    if growth > MAX_GROWTH:
        raise AssertionError(f"one load raised the peak resident memory by {growth >> 20} MiB")
    return result


def run(test_one_input: Callable[[bytes], None], seed_corpus: Callable[[str], None]) -> None:
    """Write the seeds into the corpus folders named on the command line, cap the address
    space, and fuzz ``test_one_input``."""
    import atheris

    for folder in [a for a in sys.argv[1:] if not a.startswith("-")]:
        os.makedirs(folder, exist_ok=True)
        seed_corpus(folder)
    print(f"RLIMIT_AS: {limit_address_space() >> 20} MiB", file=sys.stderr)
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
