"""Export the JSON Schema of every public model (`python -m schemas.export DIR`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pydantic import BaseModel

import schemas


def export(directory: Path) -> list[Path]:
    """Write one `<Model>.schema.json` per exported model and return the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name in schemas.__all__:
        model = getattr(schemas, name)
        if isinstance(model, type) and issubclass(model, BaseModel):
            path = directory / f"{name}.schema.json"
            path.write_text(json.dumps(model.model_json_schema(), indent=2, ensure_ascii=False) + "\n")
            written.append(path)
    return written


if __name__ == "__main__":
    for p in export(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/schemas")):
        print(p)
