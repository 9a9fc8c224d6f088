"""The cache store, by what a later store (a later build) finds in it: entries come back
once written, damaged ones are misses, a sweep keeps what was used and nothing else,
entries stored under a name are replaced, and a forked copy writes only its own."""

from __future__ import annotations

import os
import random

import pytest

from sitegen import store as store_module
from sitegen.store import CacheStore


def _files(store: CacheStore) -> list:
    return sorted(store.folder.iterdir()) if store.folder.is_dir() else []


def test_entries_come_back_once_written_and_damaged_ones_are_misses(tmp_path):
    store = CacheStore(tmp_path)
    store.put("a", b"first")
    store.put("b", b"second")
    assert store.put_value("c", {"n": [1, 2]})
    assert store.get("a") == b"first"  # held, not yet written: read here already
    assert CacheStore(tmp_path).get("a") is None
    store.flush()
    again = CacheStore(tmp_path)
    assert again.get("a") == b"first" and again.get_value("c") == {"n": [1, 2]}
    copy = again.get_value("c")
    copy["n"].append(3)
    assert again.get_value("c") == {"n": [1, 2]}  # every get is a fresh copy
    assert not again.put_value("d", lambda: 1)  # not picklable: not stored, no error
    assert CacheStore(tmp_path, enabled=False).get("a") is None  # --rerun
    for path in _files(store):  # cut short
        path.write_bytes(path.read_bytes()[:-1])
    cut = CacheStore(tmp_path)
    assert cut.get("b") == b"second" and cut.get_value("c") is None  # the last one was cut


@pytest.mark.parametrize("seed", range(3))
def test_the_writing_store_reads_its_packs_as_a_later_store_does(tmp_path, seed):
    rng = random.Random(seed)
    entries = {f"k{i}": rng.randbytes(rng.choice([0, 1, 7, 300, 5000])) for i in range(40)}
    store = CacheStore(tmp_path)
    for number, (key, data) in enumerate(entries.items()):
        store.put(key, data)
        if number % 13 == 12:
            assert store.flush()  # several packs
    assert store.flush()
    later = CacheStore(tmp_path)
    for key, data in entries.items():
        assert store.get(key) == data and later.get(key) == data


@pytest.mark.parametrize("seed", range(3))
def test_a_flipped_byte_anywhere_is_a_miss_never_a_wrong_entry(tmp_path, seed):
    rng = random.Random(seed)
    values = {f"key {i}": os.urandom(rng.randrange(1, 300)) for i in range(20)}
    store = CacheStore(tmp_path)
    for key, value in values.items():
        store.put(key, value)
    store.flush()
    (path,) = _files(store)
    data = bytearray(path.read_bytes())
    for _ in range(5):
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    path.write_bytes(bytes(data))
    found = {key: CacheStore(tmp_path).get(key) for key in values}
    assert all(got is None or got == values[key] for key, got in found.items())
    assert any(got is None for got in found.values())


def test_a_sweep_keeps_what_the_build_used_and_removes_the_rest(tmp_path):
    store = CacheStore(tmp_path)
    store.put("old", b"x" * 1000)  # most of its pack: written again without it
    store.put("kept", b"y")
    store.put("only kept", b"w")
    store.flush()
    (store.folder / "leftover.123.tmp").write_bytes(b"half")  # of a killed build
    (store.folder / ("0" * 64)).write_bytes(b"an entry of an older version")
    later = CacheStore(tmp_path)
    assert later.get("kept") == b"y"
    later.keep(later.name("only kept"))
    later.put("new", b"z")
    later.sweep()
    last = CacheStore(tmp_path)
    assert last.get("old") is None and last.get("kept") == b"y" and last.get("new") == b"z"
    assert last.get("only kept") == b"w"
    assert not list(store.folder.glob("*.tmp")) and not (store.folder / ("0" * 64)).exists()


def test_an_entry_stored_under_a_name_is_replaced_by_the_later_put(tmp_path):
    first = CacheStore(tmp_path)
    first.put_value("records", {"build": 1})
    first.put("body", b"unchanged")
    first.flush()
    second = CacheStore(tmp_path)
    second.put_value("records", {"build": 2})
    second.flush()  # a build of some posts: no sweep
    assert CacheStore(tmp_path).get_value("records") == {"build": 2}
    third = CacheStore(tmp_path)
    assert third.get_value("records") == {"build": 2} and third.get("body") == b"unchanged"
    third.sweep()
    assert CacheStore(tmp_path).get_value("records") == {"build": 2}


def test_an_older_copy_never_comes_back_when_the_newest_goes(tmp_path):
    first = CacheStore(tmp_path)
    first.put_value("records", {"build": 1})
    first.put("body", b"b" * 1000)  # keeps the first pack
    first.sweep()
    second = CacheStore(tmp_path)
    second.get("body")
    second.put_value("records", {"build": 2})
    second.sweep()
    third = CacheStore(tmp_path)  # a build that neither reads nor writes the records
    third.get("body")
    third.sweep()
    fourth = CacheStore(tmp_path)
    assert fourth.get_value("records") is None and fourth.get("body") == b"b" * 1000


def test_repeated_builds_with_small_changes_keep_the_folder_small(tmp_path):
    """Like a day of edits: each build uses most entries, replaces one and its records."""
    for i in range(60):
        store = CacheStore(tmp_path)
        for n in range(40):
            key = f"body {n} v{i if n == i % 40 else 0}"
            if store.get(key) is None:
                store.put(key, f"{key} ".encode() * 50)
        store.put_value("records", {"build": i})
        store.sweep()
        assert len(_files(store)) <= store_module.MAX_PACKS
    last = CacheStore(tmp_path)
    assert last.get_value("records") == {"build": 59}
    assert last.get("body 19 v59") == b"body 19 v59 " * 50
    assert last.get("body 19 v19") is None and last.get("body 18 v0") is not None
    assert sum(p.stat().st_size for p in _files(last)) < 4 * 40 * 600


def test_a_store_holding_much_writes_without_being_asked(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "FLUSH_BYTES", 1000)
    store = CacheStore(tmp_path)
    for i in range(10):
        store.put(f"k{i}", bytes(300))
    assert CacheStore(tmp_path).get("k0") == bytes(300)  # written with the fourth
    assert store.get("k9") == bytes(300)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forked copies need fork")
def test_a_forked_copy_writes_its_own_entries_and_not_its_parents(tmp_path):
    store = CacheStore(tmp_path)
    store.put("made before", b"parent")
    store.get("anything")  # the parent reads the packs there are before the copy writes
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the copy
        status = 1
        try:
            os.close(read_end)
            seen = store.get("made before")  # readable here
            store.put("made in the copy", b"child")
            store.flush()
            os.write(write_end, b"ok" if seen == b"parent" else b"no")
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    answer = os.read(read_end, 2)
    os.close(read_end)
    os.waitpid(pid, 0)
    assert answer == b"ok"
    later = CacheStore(tmp_path)
    assert later.get("made in the copy") == b"child"
    assert later.get("made before") is None  # the parent's to write, and it did not
    assert not store.holds("made in the copy") and store.get("made in the copy") is None
    store.pick_up()
    assert store.holds("made in the copy") and store.get("made in the copy") == b"child"
    assert not store.holds("made before")  # held, not written yet
    store.used.add(store.name("made in the copy"))  # as a copy hands back what it used
    store.sweep()
    last = CacheStore(tmp_path)
    assert last.get("made in the copy") == b"child" and last.get("made before") == b"parent"


def test_a_store_that_cannot_write_still_answers_and_raises_nothing(tmp_path):
    store = CacheStore(tmp_path)
    store.folder.parent.mkdir(parents=True)
    store.folder.write_text("a file where the folder goes")
    store.put("a", b"x")
    assert store.get("a") == b"x"
    assert store.flush() is False and not store.holds("a")
    store.sweep()
    assert CacheStore(tmp_path).get("a") is None
