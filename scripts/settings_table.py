"""Print the README's settings table from the Settings model, so the docs never drift from the code."""

from pydantic.fields import FieldInfo

from confide.settings import Settings


def env_names(name: str, field: FieldInfo) -> str:
    alias = field.validation_alias
    if alias is not None and hasattr(alias, "choices"):
        return " / ".join(f"`{c}`" for c in alias.choices)
    return f"`CONFIDE_{name.upper()}`"


def main() -> None:
    print("| variable | default | meaning |")
    print("| --- | --- | --- |")
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "—" if default is None or default == "" else f"`{default}`"
        print(f"| {env_names(name, field)} | {shown} | {(field.description or '').replace('|', '/')} |")


if __name__ == "__main__":
    main()
