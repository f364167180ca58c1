"""Share what a validated registry repeats, so a province's registry stays small in memory.

A registry of 100,000 sensors repeats itself: the same unit strings, ranges, GB 50493
default limits and rule overrides, sensor after sensor. Pydantic also gives every model
instance its own `__pydantic_fields_set__` set (about 300 bytes, several per sensor),
while a registry has only a handful of distinct ones. `Sharer` walks models bottom-up
and replaces each value with the first equal one it has seen:

- strings, floats and ints by value (exact type; 0.0 and -0.0 apart, NaN never shared);
- tuples and models by the identity of their contents, which are shared already, so
  "equal" means the same type, the same set fields and the very same values; models
  are frozen, so two equal ones can be one object; a model holding a list is its own;
- the fields-set sets, which pydantic copies before changing a copy (`model_copy`) and
  frozen models never change.

The strings and floats kept are fresh copies: pydantic keeps the parser's objects, and
one kept in place would pin the heap pages of the whole parsed file.

Nothing relies on the identity of a registry model (the engine keys on `SensorInfo`,
which stays one per sensor). The tables live only as long as the `Sharer`, and are kept
lean (keyed by an int hash, verified by identity) since their garbage is freed amid the
models that stay.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


class Sharer:
    """One per registry load: `model()` each validated piece, then drop the sharer."""

    def __init__(self) -> None:
        self._strs: dict[str, str] = {}
        self._floats: dict[float, float] = {}
        self._ints: dict[int, int] = {}
        self._zeros = (0.0 * 1.0, -0.0 * 1.0)  # 0.0 == -0.0: kept apart by sign
        self._fields_sets: dict[frozenset[str], set[str]] = {}
        # hash of (type, contents' identities) → the object, or a list of them on collision
        self._by_hash: dict[int, Any] = {}
        # Models already through `model()`, kept alive so their ids stay theirs: a piece
        # shared on its own (a sensor) is not walked again inside its parent.
        self._done: dict[int, BaseModel] = {}

    def model(self, m: M) -> M:
        """`m` with its contents shared, or an equal model seen before (then `m` is unused)."""
        if id(m) in self._done:
            return m
        d = m.__dict__
        shareable = not (m.__pydantic_extra__ or m.__pydantic_private__)
        for name, value in d.items():
            v = self._value(value)
            if v is not value:
                d[name] = v
            if isinstance(v, (list, dict, set)):
                shareable = False
        fields_set = m.__pydantic_fields_set__
        shared_fs = self._fields_sets.setdefault(frozenset(fields_set), fields_set)
        if shared_fs is not fields_set:
            object.__setattr__(m, "__pydantic_fields_set__", shared_fs)
        if shareable:
            m = self._one(m, (id(shared_fs), *map(id, d.values())), _same_model)
        self._done[id(m)] = m
        return m

    def _value(self, v: Any) -> Any:
        t = type(v)
        if t is str:
            s = self._strs.get(v)
            if s is None:
                s = self._strs[v] = _copy_str(v)
            return s
        if t is float:
            if v != v:
                return v * 1.0  # NaN: a fresh copy, never equal to another
            if v == 0.0:
                return self._zeros[math.copysign(1.0, v) < 0]
            f = self._floats.get(v)
            if f is None:
                f = self._floats[v] = v * 1.0
            return f
        if t is int:
            return self._ints.setdefault(v, v)
        if isinstance(v, BaseModel):
            return self.model(v)
        if t is list:
            for i, x in enumerate(v):
                y = self._value(x)
                if y is not x:
                    v[i] = y
            return v
        if t is tuple:
            items = tuple(self._value(x) for x in v)
            if any(isinstance(x, (list, dict, set)) for x in items):
                return items
            return self._one(items, tuple(map(id, items)), _same_tuple)
        return v  # None, bools, enum members: singletons; anything else as it is

    def _one(self, obj: T, ids: tuple[int, ...], same: Callable[[Any, T], bool]) -> T:
        # The table keeps only the int hash, not `ids`: its garbage is freed amid the models.
        key = hash((type(obj), ids))
        found = self._by_hash.get(key)
        if found is None:
            self._by_hash[key] = obj
            return obj
        candidates = found if type(found) is list else [found]
        for c in candidates:
            if same(c, obj):
                return c  # type: ignore[no-any-return]
        self._by_hash[key] = [*candidates, obj]
        return obj


def _same_model(a: Any, b: BaseModel) -> bool:
    if type(a) is not type(b) or a.__pydantic_fields_set__ is not b.__pydantic_fields_set__:
        return False
    da, db = a.__dict__, b.__dict__
    if da.keys() != db.keys():
        return False
    return all(x is y for x, y in zip(da.values(), db.values(), strict=True))


def _same_tuple(a: Any, b: tuple[Any, ...]) -> bool:
    return type(a) is tuple and len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


def _copy_str(s: str) -> str:
    return s.encode("utf-8", "surrogatepass").decode("utf-8", "surrogatepass")
