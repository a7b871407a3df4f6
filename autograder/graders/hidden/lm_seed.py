"""The seed of stage 08's hidden test split (instructors only: this folder never ships to students).

The split is the Spanish side of ``course_data.make_test_split(TEST_SEED, TEST_SIZE)``: sentences of the
course grammar that are in neither public split. Change the seed for a new term.
"""

TEST_SEED = 58_210_443
TEST_SIZE = 500
