"""Imported by the workers' warm process (multiprocessing's forkserver) alone, as its last
preloaded module: when the batch is over and it exits, it ends at once (``os._exit``) rather
than freeing numpy, scipy and the grader one object at a time, a tenth of a second of CPU.

It holds no file, no result and no child of its own to wait for: the workers forked from it
report to the grader's parent and end by ``os._exit`` already (multiprocessing's way), so the
exit handler registered here never runs in them.
"""

from __future__ import annotations

import atexit
import os

atexit.register(os._exit, 0)
