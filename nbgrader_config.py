# nbgrader configuration of the course: solutions/ is the source, assignments/ the English release and
# assignments_es/ the Spanish one. Regenerate both with `make release`; a test fails when one is out of date.
c = get_config()  # noqa: F821 (provided by nbgrader)

import os  # noqa: E402

# The course's language, in this one place: "en" or "es". It picks the notebooks' prose (each source
# notebook holds both; the Spanish release is assignments_es/, with the same assignment ids and cells)
# and the language of every report: check cells, hardened reports, feedback. The kernels and the
# hardened grader that nbgrader starts inherit it. AUTOGRADER_LANG in the environment overrides it.
os.environ.setdefault("AUTOGRADER_LANG", "en")  # "es": the Spanish edition

from autograder.instructor.bilingual import generate_assignment_steps, release_directory  # noqa: E402

c.CourseDirectory.course_id = "transformers"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = release_directory(os.environ["AUTOGRADER_LANG"])
# The release keeps the course language's prose (autograder.instructor.bilingual.KeepLanguage, then nbgrader's own steps).
c.GenerateAssignment.preprocessors = generate_assignment_steps()

# Stubs in the release raise NotImplementedError, which the graders recognise.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# A deleted check cell is put back (from the gradebook) before grading, instead of losing the item.
c.OverwriteCells.add_missing_cells = True

# One cell may run for at most two minutes; a student's infinite loop ends there.
c.ExecutePreprocessor.timeout = 120
c.Execute.timeout = 120

# The scores `nbgrader autograde` records come from the hardened grader (`python -m autograder grade`:
# trusted process, sandboxed worker, definitions only); the check cells still run in the kernel, as
# the students' instant feedback. See autograder/instructor/nbgrader_hardened.py.
# One `autograde` run grades the class in one batch per stage (parallel slots: c.HardenedScores.jobs,
# default min(2, cores)); a notebook whose graded files differ from the batch's is graded alone.
# One grader per notebook instead: c.HardenedScores.batch = False
# Plain in-kernel scores instead (not safe against patched checks): c.HardenedScores.enabled = False
from autograder.instructor.nbgrader_hardened import autograde_preprocessors  # noqa: E402

c.Autograde.autograde_preprocessors = autograde_preprocessors()

