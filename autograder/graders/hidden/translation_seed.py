"""The seeds of stage 07's hidden test split. Instructors only: this folder never ships to students.

The split is made at grading time by ``course_data.make_test_split(seed, size, tier)``: sentences
from the course grammar that are in neither public split. The *hard* tier puts a noun-adjective
combination that the public splits never show into every sentence. Change the seeds for a new
term; published seeds make the split public.
"""

TEST_SEED = 80_713_259
TEST_SIZE = 500
HARD_SEED = 41_906_377
HARD_SIZE = 300
