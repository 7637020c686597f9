"""The shared text toolkit: terms, word lists."""

from pipeline.text import content_terms, term_set, word_list


def test_terms_join_inflections_and_name_adjectives():
    assert term_set("Russia agreed") == term_set("Russian agrees")
    assert term_set("delegation") == term_set("delegations")


def test_stop_words_are_left_out_and_counts_kept():
    assert content_terms("The talks and the talks") == {"talk": 2}


def test_word_lists_are_data_files_with_comments_skipped():
    stop = word_list("stopwords")
    assert {"the", "according"} <= stop and "#" not in "".join(stop)
    assert "source:" not in stop and "Source:" not in stop


def test_overlap_is_the_jaccard_share_of_terms():
    from pipeline.text import overlap

    assert overlap({"a", "b"}, {"b", "c"}) == 1 / 3
    assert overlap(set(), set()) == 0.0
