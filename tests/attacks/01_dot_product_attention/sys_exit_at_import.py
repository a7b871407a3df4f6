"""sys.exit(0) while the definitions load (SystemExit from a class body), stubs left unfilled."""
ATTACKS = ("softmax", "dot_product_attention")
SKELETON = True
AT_IMPORT = """
class _Done:
    import sys
    sys.exit(0)
"""
