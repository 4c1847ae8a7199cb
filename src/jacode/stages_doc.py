"""The documentation of the stage kinds, generated from the table (jacode.stages) and the configs' fields: what
`jacode stages` prints and what README's recipe section is (a test keeps the README equal to it)."""

from __future__ import annotations

from jacode.config import describe
from jacode.stages import KINDS


def describe_kinds(markdown: bool = False) -> str:
    out = []
    for kind in KINDS.values():
        cls = kind.config_class()
        docs = describe(cls)
        if markdown:
            out.append(f"#### `{kind.name}` — {kind.help}")
            out.append(f"Alone: `{kind.command}`." + (f" Output: `STAGE/{kind.output}`." if kind.output else ""))
            if docs:
                out.append("")
                out.append("| setting | type | default | |")
                out.append("|---|---|---|---|")
                for d in docs:
                    default = "**required**" if d.required else f"`{d.default}`"
                    cells = [f"`{d.name}`", d.type, default, d.help]
                    out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
            out.append("")
        else:
            out.append(f"{kind.name}: {kind.help}  [{kind.command}]")
            for d in docs:
                default = "required" if d.required else f"default {d.default}"
                out.append(f"  {d.name:<26} {d.type:<22} {default:<24} {d.help}")
    return "\n".join(out).rstrip() + "\n"
