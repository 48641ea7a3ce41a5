"""pcre_trie: the regexes match exactly the listed strings, and PCRE accepts their size."""

from __future__ import annotations

import random
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from corsgen.pcre_trie import CHUNK_BUDGET, PCRE_PATTERN_LIMIT, trie_regexes

HOSTISH = st.text(alphabet="abcz09.-:/_[]", min_size=0, max_size=12)


def matches(regexes: list[tuple[str, int]], text: str) -> int:
    return sum(1 for body, _ in regexes if re.fullmatch(f"(?:{body})", text))


@settings(max_examples=300, deadline=None)
@given(st.lists(HOSTISH, min_size=1, max_size=40), st.lists(HOSTISH, max_size=40))
def test_the_regexes_match_exactly_the_listed_strings(listed, others):
    regexes = trie_regexes(listed, budget=200)  # a small budget also exercises the split
    for text in listed:
        assert matches(regexes, text) == 1, text
    for text in others:
        if text not in listed:
            assert matches(regexes, text) == 0, text


def test_lookalikes_of_listed_origins_do_not_match():
    listed = ["https://app.example.com", "https://app.example.com:8443", "null"]
    regexes = trie_regexes(listed)
    for text in (
        "https://app.example.com.evil.com",
        "https://app.example.co",
        "https://appxexample.com",
        "https://app.example.com:844",
        "https://app.example.com:84430",
        "http://app.example.com",
        "nul",
        "",
    ):
        assert matches(regexes, text) == 0, text


def test_a_long_list_is_split_into_regexes_that_fit_pcre():
    rng = random.Random(7)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-"
    origins = [
        f"https://{''.join(rng.choice(alphabet) for _ in range(rng.randint(3, 16)))}.example.com"
        for _ in range(20_000)
    ]
    regexes = trie_regexes(origins)
    assert len(regexes) > 1
    assert all(size <= CHUNK_BUDGET < PCRE_PATTERN_LIMIT for _, size in regexes)
    sample = rng.sample(origins, 300)
    assert all(matches(regexes, origin) == 1 for origin in sample)


def test_the_output_does_not_depend_on_the_order_of_the_input():
    origins = [f"https://tenant{i}.example.com" for i in range(500)]
    assert trie_regexes(origins) == trie_regexes(list(reversed(origins)))


def test_apache_accepts_the_regexes_of_a_large_policy(tmp_path):
    # The size estimate is what keeps every regex under PCRE's limit: the real Apache
    # (which compiles each SetEnvIf regex at start-up) is the judge.
    from corsgen.policy import Policy
    from corsgen.render import render
    from tests.test_server_config import APACHE, apache_config, apache_t, need

    need(APACHE)
    rng = random.Random(11)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-"
    hosts = {
        "".join(rng.choice(alphabet) for _ in range(rng.randint(3, 16))) for _ in range(30_000)
    }
    origins = [f"https://a{host}.example.com" for host in sorted(hosts)]
    origins += [f"https://*.tenant{i}.example.org" for i in range(1_000)]
    policy = Policy.model_validate({"version": 1, "name": "big", "origins": origins})
    text = render(policy, "apache").files["big.conf"]
    assert text.count('SetEnvIf Origin "^') > 2  # more than one regex for the exact list
    (tmp_path / "big.conf").write_text(text)
    result = apache_t(tmp_path, apache_config(tmp_path, ["big"]))
    assert result.returncode == 0, result.stderr[-2000:]
