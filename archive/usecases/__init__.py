"""The use cases both doors share: request cases, legal holds, retention.

The CLI (archive/cli/) and the web application (archive/web/) are thin callers of these: each
function takes the acting person (`Actor`: name, role, client), does the step with the feature
packages (archive/requests/, archive/holds/, archive/retention/) and writes its own audit event,
`ok` with what it did or `failed` with the one-line reason. So what a step checks and what the
audit log shows cannot differ between a command and a browser. Nothing here knows HTTP or the
terminal: errors are the classes of archive/errors.py, each with the HTTP status the web answers.
(Not `archive/services/`: that is the launcher of the local Elasticsearch and MinIO.)
"""

from .actor import Actor

__all__ = ["Actor"]
