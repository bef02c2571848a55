"""Counts a check script's cases and prints each as it ends:

    tally = Tally()
    tally.record("resnet20", problems)   # "ok   resnet20" or "FAIL resnet20: …"
    return tally.summary()               # "N passed, M failed"; the exit status
"""


class Tally:
    def __init__(self):
        self.passed = self.failed = 0

    def record(self, title, problems, limit=None, one_per_line=False):
        """A case without problems passes; otherwise its first `limit`
        problems follow its title, on its line or one per line."""
        if not problems:
            self.passed += 1
            print(f"ok   {title}")
            return
        self.failed += 1
        shown = problems[:limit]
        if one_per_line:
            print(f"FAIL {title}:\n  " + "\n  ".join(shown))
        else:
            print(f"FAIL {title}: " + "; ".join(shown))

    def summary(self):
        print(f"{self.passed} passed, {self.failed} failed")
        return 1 if self.failed else 0
