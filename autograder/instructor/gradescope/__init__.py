"""Gradescope's programming-assignment autograder, built by ``python -m autograder gradescope-zip``.

- ``run``: what runs on Gradescope's machine, once per submission (hardened grading of the
  uploaded notebook into ``/autograder/results/results.json``).
- ``setup.sh``, ``run_autograder``: the zip's two scripts, as templates (``autograder/instructor/gradescope_zip.py``
  fills in the stage and the PyTorch requirement).
"""
