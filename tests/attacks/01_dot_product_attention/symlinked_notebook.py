"""The notebook handed in is a symbolic link to the reference solution."""
ATTACKS = ("softmax", "dot_product_attention")
SYMLINK_TO_SOLUTION = True
SAYS = "symbolic link"
