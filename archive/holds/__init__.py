"""Legal holds: placed on a scope, marked on every matching record and on the WARC objects holding them.

`book` keeps the holds themselves (write-once objects in the archive store), `marks` puts a
hold's id on the records and switches S3 Object Lock legal hold on the files, and `service`
is what archive/usecases/holds.py (for the CLI and the web application, audited) calls;
`HoldsOnNewFiles` is the step the wiring hands the pipeline, run after each committed file.
"""

from .book import active_holds, load_holds
from .service import HoldOutcome, HoldsOnNewFiles, apply_holds_to_file, place_hold, reapply_holds, release_hold

__all__ = [
    "HoldOutcome",
    "HoldsOnNewFiles",
    "active_holds",
    "apply_holds_to_file",
    "load_holds",
    "place_hold",
    "reapply_holds",
    "release_hold",
]
