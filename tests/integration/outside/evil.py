"""Outside the whitelist folder: a test checks it never runs."""
import os
open(os.path.join(os.environ["FIXTURE_DIR"], "evil-ran"), "w").close()
