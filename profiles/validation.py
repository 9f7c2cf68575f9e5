"""One way to report a data file that fails validation: the file, each field path and the problem."""

from __future__ import annotations

from pydantic import ValidationError


def describe_validation_error(source: str, what: str, error: ValidationError) -> str:
    """``profiles/x.toml: invalid profile`` then one ``  field.path: problem`` line per error."""
    lines = [f"{source}: invalid {what}"]
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "(top level)"
        lines.append(f"  {field}: {item['msg']}")
    return "\n".join(lines)
