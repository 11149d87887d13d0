"""What the data-loader harnesses of this folder share (``fuzz_hdf5.py``, ``fuzz_idx.py``): an
address-space limit, a work folder, and the run.

Each harness limits its address space (``resource.setrlimit(RLIMIT_AS)``) to its size after
the imports plus :data:`MARGIN`, and sets ``DEEPMAT_MAX_LOAD_BYTES`` to 1 TiB: only the file
checks can keep a load small, and a load that is not kept small fails with MemoryError, which
libFuzzer reports as a crash, like any exception other than ValueError.
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
#: The folder of the files each input is written to.
WORK = tempfile.mkdtemp(prefix="deepmat-fuzz-")


def limit_address_space(margin: int = MARGIN) -> int:
    """Cap RLIMIT_AS at the present size + ``margin``; return the cap in bytes."""
    with open("/proc/self/status") as status:
        size = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize"))
    cap = size + margin
    resource.setrlimit(resource.RLIMIT_AS, (cap, resource.getrlimit(resource.RLIMIT_AS)[1]))
    return cap


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
