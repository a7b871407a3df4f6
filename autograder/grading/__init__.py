"""Grading a class: the batch grader, the ``grade`` command, the per-submission outputs, merging
grades into nbgrader's gradebook, and GitHub Classroom's points.

Ships in the student export (students run ``python -m autograder grade`` on their own work); it
never imports :mod:`autograder.instructor`.
"""
