"""Fingerprints of page contexts: equal values are equal, however they are held."""

from __future__ import annotations

import json

from sitegen.deps import fingerprint


def test_equal_values_held_by_different_objects_have_one_fingerprint():
    rows = [{"kind": "check", "status": "pass", "name": "dW"} for _ in range(3)]
    # the same values, each string a separate object (as read back from a cache)
    copied = json.loads(json.dumps(rows))
    assert copied[0]["kind"] is not rows[0]["kind"]
    assert fingerprint({"rows": rows}) == fingerprint({"rows": copied})
    shared = {"kind": "check", "status": "pass", "name": "dW"}
    assert fingerprint({"rows": [shared] * 3}) == fingerprint({"rows": rows})
    copied[2]["status"] = "fail"
    assert fingerprint({"rows": rows}) != fingerprint({"rows": copied})


def test_a_value_shared_past_all_proportion_still_has_a_fingerprint():
    value: list = ["x" * 1000]
    for _ in range(40):  # 2**40 leaves when written out: only sharing keeps it small
        value = [value, value]
    assert fingerprint(value) == fingerprint(value)
    assert fingerprint(value) != fingerprint([value, 1])


def test_a_cyclic_value_has_a_fingerprint():
    cyclic: list = [1]
    cyclic.append(cyclic)
    assert fingerprint(cyclic) == fingerprint(cyclic)


def test_values_a_template_reads_differently_have_different_fingerprints():
    from markupsafe import Markup

    values = ["<b>x</b>", Markup("<b>x</b>"), None, "", "None", 0, False, b"", (), "s", ["s"]]
    prints = [fingerprint(v) for v in values]
    assert len(set(prints)) == len(values)
    assert fingerprint("<b>x</b>") == fingerprint("".join(["<b>", "x</b>"]))
    assert fingerprint("\ud800") == fingerprint("\ud800")  # a lone surrogate from a file
