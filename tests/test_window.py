"""Aggregation: one sighting per band per window, impossible signals counted and dropped."""

from maitre.gateway.window import Window


def test_window_summarises_each_band() -> None:
    w = Window()
    for rssi, t in ((-70, 1.0), (-60, 1.2), (-65, 1.1)):
        w.add("band:0011223344556677", rssi, t, -59)
    w.add("band:8899aabbccddeeff", -80, 1.3, None)
    by_id = {s.id: s for s in w.drain()}
    s = by_id["band:0011223344556677"]
    assert (s.n, s.rssi, s.rssi_max, s.t, s.tx) == (3, -65.0, -60, 1.2, -59)
    assert by_id["band:8899aabbccddeeff"].tx is None


def test_drain_starts_a_new_window() -> None:
    w = Window()
    w.add("band:0011223344556677", -70, 1.0, None)
    assert len(w.drain()) == 1
    assert w.drain() == []


def test_impossible_rssi_is_counted_not_aggregated() -> None:
    w = Window()
    w.add("band:0011223344556677", -300, 1.0, None)
    w.add("band:0011223344556677", 99, 1.0, None)
    assert w.drain() == []
    assert w.rejected_rssi == 2
