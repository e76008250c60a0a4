"""The self-check inside Jupyter: ``from grader import Notebook`` (see :mod:`.notebook`)."""
