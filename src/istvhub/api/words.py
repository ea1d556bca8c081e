"""Stage errors said in the API's words.

The stages word their errors for the command line ("option --h3-res: must be 8, 9 or 10",
"contradicts --department"), the door most of them were first built for. An API caller or a
page user never typed a flag: the same message must name the query parameter or form field they
did send (``h3_res``, ``department``). Translating once, here at the edge, keeps one message per
rule in the stages and no command-line words in any HTTP answer.
"""

from __future__ import annotations

import re

#: "--confirm-replace (API: confirm_replace=true)": the stage already says the API's way
_BOTH = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*\s*\(API:\s*([^)]+)\)")
#: "(CLI: --accept-mapping)": a hint meant for the command line only
_CLI_ONLY = re.compile(r"\s*\(CLI:[^)]*\)")
#: "option --h3-res: ..." at the start of a reason (after any "file 'x', field 'y': " prefix)
_OPTION = re.compile(r"option (--[a-z][a-z0-9-]*):\s*")
#: any other flag named in the text
_FLAG = re.compile(r"(?<![\w-])--([a-z][a-z0-9-]*)")


def _name(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def api_words(text: str) -> str:
    """``text`` with every command-line flag replaced by the parameter an HTTP caller sends."""
    text = _BOTH.sub(lambda m: m.group(1).strip(), text)
    text = _CLI_ONLY.sub("", text)
    text = _OPTION.sub(lambda m: f"{_name(m.group(1))}: ", text)
    return _FLAG.sub(lambda m: _name(m.group(1)), text)
