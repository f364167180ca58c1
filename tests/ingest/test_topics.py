"""MQTT topics of docs/CONTRACT.md §2: parsing, region ownership, subscription filters."""

from __future__ import annotations

import pytest

from hazmon.ingest.topics import (
    Channel,
    Route,
    TopicError,
    owned_regions,
    parse_topic,
    subscriptions,
    topic_for,
)
from tests.support import ENT, ENT2


@pytest.mark.parametrize(
    ("topic", "route"),
    [
        (f"hazmon/v1/320921/{ENT}/telemetry", Route("320921", ENT, Channel.TELEMETRY)),
        (f"hazmon/v1/320921/{ENT}/status", Route("320921", ENT, Channel.STATUS)),
        (f"hazmon/v1/320921/{ENT}/alarms", Route("320921", ENT, Channel.ALARMS)),
        (f"hazmon/v1/320902/{ENT2}/telemetry", Route("320902", ENT2, Channel.TELEMETRY)),
        # every allowed credit-code character
        ("hazmon/v1/000000/0123456789ABCDEFGH/telemetry",
         Route("000000", "0123456789ABCDEFGH", Channel.TELEMETRY)),
        ("hazmon/v1/999999/JKLMNPQRTUWXY01234/status",
         Route("999999", "JKLMNPQRTUWXY01234", Channel.STATUS)),
    ],
)
def test_parse_topic_accepts(topic: str, route: Route) -> None:
    assert parse_topic(topic) == route
    assert topic_for(route.region, route.enterprise, route.channel) == topic


@pytest.mark.parametrize(
    "topic",
    [
        # wrong root
        f"hazmon/v2/320921/{ENT}/telemetry",
        f"Hazmon/v1/320921/{ENT}/telemetry",
        f"plant/v1/320921/{ENT}/telemetry",
        f"/hazmon/v1/320921/{ENT}/telemetry",
        # wrong depth
        f"hazmon/v1/320921/{ENT}",
        f"hazmon/v1/320921/{ENT}/telemetry/extra",
        f"hazmon/v1/320921/{ENT}/telemetry/",
        "hazmon/v1",
        "",
        f"hazmon/v1//320921/{ENT}/telemetry",
        # bad region
        f"hazmon/v1/32092/{ENT}/telemetry",
        f"hazmon/v1/3209211/{ENT}/telemetry",
        f"hazmon/v1/32092a/{ENT}/telemetry",
        f"hazmon/v1/+/{ENT}/telemetry",
        f"hazmon/v1/３２０９２１/{ENT}/telemetry",  # full-width digits
        f"hazmon/v1//{ENT}/telemetry",
        # bad credit code: length, lower case, and the letters GB 32100 leaves out
        "hazmon/v1/320921/91320921MA1XXXXX0/telemetry",
        "hazmon/v1/320921/91320921MA1XXXXX0QQ/telemetry",
        "hazmon/v1/320921/91320921ma1xxxxx0q/telemetry",
        "hazmon/v1/320921/91320921MA1XXXXX0I/telemetry",
        "hazmon/v1/320921/91320921MA1XXXXX0O/telemetry",
        "hazmon/v1/320921/91320921MA1XXXXX0Z/telemetry",
        "hazmon/v1/320921/91320921MA1XXXXX0S/telemetry",
        "hazmon/v1/320921/91320921MA1XXXXX0V/telemetry",
        "hazmon/v1/320921/91320921MA1XXXXX-Q/telemetry",
        "hazmon/v1/320921/+/telemetry",
        # unknown channel
        f"hazmon/v1/320921/{ENT}/telemetri",
        f"hazmon/v1/320921/{ENT}/Telemetry",
        f"hazmon/v1/320921/{ENT}/",
        f"hazmon/v1/320921/{ENT}/#",
    ],
)
def test_parse_topic_refuses(topic: str) -> None:
    with pytest.raises(TopicError):
        parse_topic(topic)


def test_topic_error_is_a_value_error_and_names_the_topic() -> None:
    topic = f"hazmon/v1/320921/{ENT}/telemetri"
    with pytest.raises(ValueError, match="telemetri"):
        parse_topic(topic)


REGIONS = ["320921", "320902", "320105", "110101", "320921"]  # a repeat


@pytest.mark.parametrize(
    ("prefixes", "owned"),
    [
        ([], None),
        ([""], None),
        (["", ""], None),
        (["32"], ["320105", "320902", "320921"]),
        (["3209"], ["320902", "320921"]),
        (["320921"], ["320921"]),
        (["3209", "11"], ["110101", "320902", "320921"]),
        (["32", "3209"], ["320105", "320902", "320921"]),  # overlapping: each once
        (["44"], []),
        (["", "11"], ["110101"]),
    ],
)
def test_owned_regions(prefixes: list[str], owned: list[str] | None) -> None:
    assert owned_regions(prefixes, REGIONS) == owned


def test_owned_regions_takes_any_iterables() -> None:
    assert owned_regions(iter(["3209"]), frozenset(REGIONS)) == ["320902", "320921"]


def test_subscriptions_all_regions() -> None:
    assert subscriptions(None) == ["hazmon/v1/+/+/+"]


def test_subscriptions_per_region() -> None:
    assert subscriptions(["320902", "320921"]) == [
        "hazmon/v1/320902/+/+",
        "hazmon/v1/320921/+/+",
    ]


def test_subscriptions_none_owned() -> None:
    assert subscriptions([]) == []


def test_subscriptions_from_owned_regions_match_their_topics() -> None:
    filters = subscriptions(owned_regions(["3209"], REGIONS))
    # every channel of an owned region, including misspelled ones, is subscribed to
    for f in filters:
        root, version, region, ent, channel = f.split("/")
        assert (root, version, ent, channel) == ("hazmon", "v1", "+", "+")
        assert region.startswith("3209")
