"""Hardened grading: student code in a sandboxed worker, comparisons and scores in the grader.

- ``protocol``: the wire format (JSON + raw array bytes; nothing pickled).
- ``worker``: runs inside the sandbox; a zygote that forks a fresh child per submission.
- ``cage``: the sandbox itself (bubblewrap where it works, resource limits everywhere) and the
  grader's handle on the zygote.
- ``proxy``: the ``student`` object graders talk to, answered by the worker.

The batch driver is ``autograder.grading.batch``; the reports are written by ``autograder.grading.outputs``.
"""
