"""The instructor's tools: the course folder, release, the demo class, intake of hand-ins, the
student export and its audit (answer scan included), recording expected values, hardened nbgrader,
grades for Moodle/Canvas/Gradescope, the class and similarity reports, the Spanish edition.

Never ships to students (the export leaves this folder out, and its audit refuses an export that
holds any of it), except ``gradescope/``, the autograder that Gradescope runs on its own machine,
which only the Gradescope zip carries.
"""
