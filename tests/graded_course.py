"""A small class graded with nbgrader, built once per test session (it takes a while) and shared.

``autograder.instructor.demo.grade_class`` on two students of stage 01: ada (the reference) and carmen (a
softmax without the max-subtraction).
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

from autograder import registry
from autograder.instructor.course import new_course
from autograder.instructor.demo import Grade, Student, grade_class

S1 = registry.STAGES[0].id
MUTANT = "softmax_no_max_subtraction"
CLASS = (Student("ada", "reference", {S1: "reference"}),
         Student("carmen", "no max-subtraction", {S1: f"mutant:{MUTANT}"}))


@functools.lru_cache(maxsize=None)
def graded_course() -> tuple[Path, dict[tuple[str, str], Grade]]:
    root = Path(tempfile.mkdtemp(prefix="graded-course-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    course = new_course(root / "course")
    return course, grade_class(course, CLASS, log=lambda *_: None)

