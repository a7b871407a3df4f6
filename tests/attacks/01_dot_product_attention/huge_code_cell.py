"""A cell of 20 000 one-line calls, 140 000 characters: parsing code like it once cost the grader's
own process gigabytes. The submission is refused with a reason before anything parses it."""
ATTACKS = ("softmax", "dot_product_attention")
AT_IMPORT = "len(0)\n"
AT_IMPORT_REPEAT = 20_000
SAYS = "characters of code"
