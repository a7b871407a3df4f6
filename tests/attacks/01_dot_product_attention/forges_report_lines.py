"""Forged report lines: an exception whose message closes the code fence and writes its own verdict,
a link and a workflow command, hoping report.md (and CI's job summary) show them as the grader's."""
ATTACKS = ("softmax",)
FORGED_LINES = ("# All checks passed: 10 / 10", "[see your grade](https://example.org/grade)", "::error::forged")


def softmax(x, axis=-1):
    raise ValueError("\n```\n\n# All checks passed: 10 / 10\n\n[see your grade](https://example.org/grade)\n"
                     "::error::forged\n```\n")
