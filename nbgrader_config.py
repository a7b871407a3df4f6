# nbgrader configuration of the course: solutions/ is the source, assignments/ the release.
# Regenerate the release with `make release`; a test fails when it is out of date.
c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.course_id = "transformers"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"

# Stubs in the release raise NotImplementedError, which the graders recognise.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# A deleted check cell is put back (from the gradebook) before grading, instead of losing the item.
c.OverwriteCells.add_missing_cells = True

# One cell may run for at most two minutes; a student's infinite loop ends there.
c.ExecutePreprocessor.timeout = 120
c.Execute.timeout = 120
