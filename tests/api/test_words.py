"""API answers name the parameters a caller sends, never the command line's flags."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from istvhub.api.words import api_words

FLAG = re.compile(r"(?<![\w-])--[a-z]")


def test_stage_messages_in_api_words() -> None:
    assert api_words("option --h3-res: must be 8, 9 or 10") == "h3_res: must be 8, 9 or 10"
    assert api_words("option --from: after --to") == "from: after to"
    assert (
        api_words(
            "field 'layout': if so, upload again with --confirm-replace (API: confirm_replace=true)"
        )
        == "field 'layout': if so, upload again with confirm_replace=true"
    )
    assert api_words("then upload again with it (CLI: --accept-mapping)") == (
        "then upload again with it"
    )
    # a file name that happens to hold two dashes is the user's own text: left alone
    assert (
        api_words("file 'march--final.csv': no data rows")
        == "file 'march--final.csv': no data rows"
    )


words = st.text(alphabet="abcdefghij-_ ()':,", max_size=12)


@given(
    st.lists(st.one_of(words, st.from_regex(r"--[a-z][a-z0-9-]{0,8}", fullmatch=True)), max_size=8)
)
def test_no_flag_survives(parts: list[str]) -> None:
    assert not FLAG.search(api_words(" ".join(parts)))
