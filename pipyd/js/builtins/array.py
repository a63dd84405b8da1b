"""Array: constructor, statics and Array.prototype (ECMA-262 §23.1) on JSArray (a dense list).

Callbacks are called as plain Python calls ``fn(value, index, array)``; a ``thisArg`` is honoured
for ``JSFunction`` callbacks (arrows ignore it, as in JS). Iteration bounds are fixed when the
method starts, as the spec's ``len`` is (a callback that pushes does not extend the walk).

Approximations: arrays are dense (``new Array(3)`` holds three ``undefined``s and callbacks visit
them, where engines skip holes); ``keys()``/``values()``/``entries()`` return arrays, which
for-of, spread and Array.from accept, instead of iterator objects; ``new Array(n)`` refuses n
above 2**26 (RangeError) instead of building a sparse array.
"""
from __future__ import annotations

import types
from functools import cmp_to_key, partial
from itertools import islice
from typing import Any, Callable

from pipyd.js.builtins.classes import BuiltinClass, register_prototype
from pipyd.js.coerce import (array_join, same_value_zero, strict_equals, to_boolean, to_integer,
                             to_number, to_string)
from pipyd.js.values import JSArray, JSFunction, range_error, type_error, undefined

MAX_DENSE_LENGTH = 2**26
_PYFUNC = types.FunctionType
_UNUSED_REST = ("\u01c2_",)  # the *rest of a compiled arrow without a rest parameter (compiler.py)
_ARITY: dict[int, tuple[Any, int]] = {}


def callback(fn: Any, this_arg: Any = undefined) -> Callable[..., Any]:
    """The callable to invoke for a callback argument, with ``thisArg`` bound for JSFunctions."""
    if not callable(fn):
        raise type_error(f"{to_string(fn) if not isinstance(fn, (dict, list)) else 'object'} is not a function")
    if type(fn) is JSFunction:  # `this` bound once (a C partial), not per call in __call__
        return partial(fn.fn, this_arg)
    return fn


def arity(f: Any) -> int:
    """How many of (value, index, array) a callback needs: its parameter count when it is a
    compiled arrow (runtime.FN_INFO; extra arguments would only land in its ``*rest``), else 3.
    Passing fewer saves building the argument tuple on every element."""
    if type(f) is _PYFUNC:
        code = f.__code__
        hit = _ARITY.get(id(code))  # by id: hashing a code object hashes all of it
        if hit is not None and hit[0] is code:
            return hit[1]
        n = code.co_argcount
        n = n if n < 3 and code.co_varnames[n:n + 1] == _UNUSED_REST else 3  # (co_varnames is built per read)
        _ARITY[id(code)] = (code, n)  # holding the code keeps its id from being reused
        return n
    return 3


def relative_index(v: Any, length: int, default: int) -> int:
    """A relative start/end argument clamped to [0, length] (§23.1.3 'relativeStart')."""
    if v is undefined:
        return default
    r = v if type(v) is int else to_integer(v)
    if r < 0:
        r += length
        return 0 if r < 0 else int(r)
    return length if r > length else int(r)


def iterable_to_list(v: Any, array_like: bool = False) -> list:
    """The values an iterable yields (arrays, strings, and types with a ``js_iter`` method such as
    Map and Set, as runtime.iterate); with ``array_like``, other objects are read through their
    ``length`` (Array.from)."""
    if isinstance(v, list):
        return list(v)
    if type(v) is str:
        return list(v)
    js_iter = getattr(type(v), "js_iter", None)
    if js_iter is not None:
        return list(js_iter(v))
    if v is None or v is undefined:
        raise type_error(f"{to_string(v)} is not iterable")
    if array_like:
        from pipyd.js import runtime
        n = to_integer(runtime.get(v, "length"))
        return [runtime.get(v, str(i)) for i in range(max(0, min(int(n), MAX_DENSE_LENGTH)))]
    raise type_error(f"{'object' if isinstance(v, dict) else to_string(v)} is not iterable")


# --- constructor and statics -----------------------------------------------------------------

def array_call(*args: Any) -> JSArray:
    """Array(...) and new Array(...): one number argument is a length, anything else the elements."""
    if len(args) == 1 and (type(args[0]) is int or type(args[0]) is float):
        n = args[0]
        if (type(n) is float and not n.is_integer()) or n < 0 or n > MAX_DENSE_LENGTH:
            raise range_error("Invalid array length")
        return JSArray([undefined] * int(n))
    return JSArray(args)


def is_array(v: Any = undefined, *_: Any) -> bool:
    return isinstance(v, JSArray)


def array_from(items: Any = undefined, map_fn: Any = undefined, this_arg: Any = undefined, *_: Any) -> JSArray:
    values = iterable_to_list(items, array_like=True)
    if map_fn is undefined:
        return JSArray(values)
    f = callback(map_fn, this_arg)
    return JSArray([f(v, i) for i, v in enumerate(values)])


def array_of(*items: Any) -> JSArray:
    return JSArray(items)


# --- Array.prototype: access and search ------------------------------------------------------

def at(this: JSArray, index: Any = undefined, *_: Any) -> Any:
    i = to_integer(index)
    if i < 0:
        i += len(this)
    return this[int(i)] if 0 <= i < len(this) else undefined


def concat(this: JSArray, *items: Any) -> JSArray:
    out = JSArray(this)
    for it in items:
        if isinstance(it, JSArray):
            out.extend(it)
        else:
            out.append(it)
    return out


def includes(this: JSArray, x: Any = undefined, from_index: Any = undefined, *_: Any) -> bool:
    start = relative_index(from_index, len(this), 0)
    if type(x) is str and start == 0:
        return x in this  # str == only matches equal str
    for i in range(start, len(this)):
        if same_value_zero(this[i], x):
            return True
    return False


def index_of(this: JSArray, x: Any = undefined, from_index: Any = undefined, *_: Any) -> int:
    start = relative_index(from_index, len(this), 0)
    if type(x) is str:
        try:
            return this.index(x, start)
        except ValueError:
            return -1
    for i in range(start, len(this)):
        if strict_equals(this[i], x):
            return i
    return -1


def last_index_of(this: JSArray, x: Any = undefined, *rest: Any) -> int:
    n = len(this)
    start = n - 1
    if rest:
        r = to_integer(rest[0])
        start = int(min(r, n - 1)) if r >= 0 else int(max(r + n, -1))
    for i in range(start, -1, -1):
        if strict_equals(this[i], x):
            return i
    return -1


def join(this: JSArray, sep: Any = undefined, *_: Any) -> str:
    return array_join(this, "," if sep is undefined else to_string(sep))


def array_to_string(this: Any, *_: Any) -> str:
    return array_join(this, ",")


def slice_(this: JSArray, start: Any = undefined, end: Any = undefined, *_: Any) -> JSArray:
    n = len(this)
    return JSArray(this[relative_index(start, n, 0):relative_index(end, n, n)])


# --- Array.prototype: callbacks ---------------------------------------------------------------

def for_each(this: JSArray, fn: Any = undefined, this_arg: Any = undefined, *_: Any) -> Any:
    f = callback(fn, this_arg)
    if arity(f) == 1:
        for v in islice(this, len(this)):
            f(v)
        return undefined
    for i, v in zip(range(len(this)), this):
        f(v, i, this)
    return undefined


def map_(this: JSArray, fn: Any = undefined, this_arg: Any = undefined, *_: Any) -> JSArray:
    f = callback(fn, this_arg)
    n = len(this)
    if arity(f) == 1:  # islice over the live list: later elements are read when reached
        return JSArray([f(v) for v in islice(this, n)])
    return JSArray([f(v, i, this) for i, v in zip(range(n), this)])


def filter_(this: JSArray, fn: Any = undefined, this_arg: Any = undefined, *_: Any) -> JSArray:
    f = callback(fn, this_arg)
    n = len(this)
    if arity(f) == 1:
        return JSArray([v for v in islice(this, n) if (r := f(v)) is True or (r is not False and to_boolean(r))])
    return JSArray([v for i, v in zip(range(n), this)
                    if (r := f(v, i, this)) is True or (r is not False and to_boolean(r))])


def some(this: JSArray, fn: Any = undefined, this_arg: Any = undefined, *_: Any) -> bool:
    f = callback(fn, this_arg)
    for i, v in zip(range(len(this)), this):
        if to_boolean(f(v, i, this)):
            return True
    return False


def every(this: JSArray, fn: Any = undefined, this_arg: Any = undefined, *_: Any) -> bool:
    f = callback(fn, this_arg)
    for i, v in zip(range(len(this)), this):
        if not to_boolean(f(v, i, this)):
            return False
    return True


def _find(this: JSArray, fn: Any, this_arg: Any, backwards: bool) -> tuple[int, Any]:
    f = callback(fn, this_arg)
    n = len(this)
    for i in (range(n - 1, -1, -1) if backwards else range(n)):
        v = this[i] if i < len(this) else undefined
        if to_boolean(f(v, i, this)):
            return i, v
    return -1, undefined


def find(this: JSArray, fn: Any = undefined, this_arg: Any = undefined, *_: Any) -> Any:
    return _find(this, fn, this_arg, False)[1]


def find_index(this: JSArray, fn: Any = undefined, this_arg: Any = undefined, *_: Any) -> int:
    return _find(this, fn, this_arg, False)[0]


def find_last(this: JSArray, fn: Any = undefined, this_arg: Any = undefined, *_: Any) -> Any:
    return _find(this, fn, this_arg, True)[1]


def find_last_index(this: JSArray, fn: Any = undefined, this_arg: Any = undefined, *_: Any) -> int:
    return _find(this, fn, this_arg, True)[0]


def reduce_(this: JSArray, fn: Any = undefined, *init: Any) -> Any:
    f = callback(fn)
    n = len(this)
    if init:
        acc, start = init[0], 0
    elif n == 0:
        raise type_error("Reduce of empty array with no initial value")
    else:
        acc, start = this[0], 1
    for i in range(start, n):
        if i >= len(this):
            break
        acc = f(acc, this[i], i, this)
    return acc


def reduce_right(this: JSArray, fn: Any = undefined, *init: Any) -> Any:
    f = callback(fn)
    n = len(this)
    if init:
        acc, start = init[0], n - 1
    elif n == 0:
        raise type_error("Reduce of empty array with no initial value")
    else:
        acc, start = this[n - 1], n - 2
    for i in range(start, -1, -1):
        if i < len(this):
            acc = f(acc, this[i], i, this)
    return acc


def _flatten(items: list, depth: float, out: list) -> list:
    for v in items:
        if depth >= 1 and isinstance(v, JSArray):
            _flatten(v, depth - 1, out)
        else:
            out.append(v)
    return out


def flat(this: JSArray, depth: Any = undefined, *_: Any) -> JSArray:
    d = 1 if depth is undefined else to_integer(depth)
    return JSArray(_flatten(this, d, []))


def flat_map(this: JSArray, fn: Any = undefined, this_arg: Any = undefined, *_: Any) -> JSArray:
    f = callback(fn, this_arg)
    out = JSArray()
    for i, v in zip(range(len(this)), this):
        r = f(v, i, this)
        if isinstance(r, JSArray):
            out.extend(r)
        else:
            out.append(r)
    return out


# --- Array.prototype: mutation ----------------------------------------------------------------

def push(this: JSArray, *items: Any) -> int:
    if len(items) == 1:
        this.append(items[0])
    else:
        this.extend(items)
    return len(this)


def pop(this: JSArray, *_: Any) -> Any:
    return this.pop() if len(this) else undefined  # a JSArray is truthy even when empty


def shift(this: JSArray, *_: Any) -> Any:
    return this.pop(0) if len(this) else undefined


def unshift(this: JSArray, *items: Any) -> int:
    this[0:0] = items
    return len(this)


def reverse(this: JSArray, *_: Any) -> JSArray:
    this.reverse()
    return this


def fill(this: JSArray, value: Any = undefined, start: Any = undefined, end: Any = undefined, *_: Any) -> JSArray:
    n = len(this)
    s, e = relative_index(start, n, 0), relative_index(end, n, n)
    if e > s:
        this[s:e] = [value] * (e - s)
    return this


def copy_within(this: JSArray, target: Any = undefined, start: Any = undefined, end: Any = undefined,
                *_: Any) -> JSArray:
    n = len(this)
    to = relative_index(target, n, 0)
    frm = relative_index(start, n, 0)
    count = min(relative_index(end, n, n) - frm, n - to)
    if count > 0:
        this[to:to + count] = this[frm:frm + count]
    return this


def splice(this: JSArray, *args: Any) -> JSArray:
    n = len(this)
    start = relative_index(args[0] if args else undefined, n, 0)
    if not args:
        count = 0
    elif len(args) == 1:
        count = n - start
    else:
        count = int(min(max(to_integer(args[1]), 0), n - start))
    removed = JSArray(this[start:start + count])
    this[start:start + count] = args[2:]
    return removed


# --- Array.prototype: sort -------------------------------------------------------------------

def _utf16_key(s: str) -> Any:
    """JS compares strings by UTF-16 code units; Python by code points. They differ only when a
    string holds a character above U+FFFF, so only then sort by the UTF-16 encoding."""
    return s.encode("utf-16-be", "surrogatepass")


def _sorted(items: list, comparefn: Any) -> list:
    """SortIndexedProperties + CompareArrayElements (§23.1.3.30): stable; undefined last; the
    default order compares ToString values; a comparator's result goes through ToNumber."""
    defined = [v for v in items if v is not undefined]
    tail = [undefined] * (len(items) - len(defined))
    if comparefn is undefined:
        keys = [v if type(v) is str else to_string(v) for v in defined]
        if any(k and max(k) > "\uffff" for k in keys):
            keys = [_utf16_key(k) for k in keys]
        order = sorted(range(len(defined)), key=keys.__getitem__)
        return [defined[i] for i in order] + tail

    def compare(a: Any, b: Any) -> int:
        r = comparefn(a, b)
        if type(r) is not int:
            r = to_number(r)
            if r != r:
                return 0
        return (r > 0) - (r < 0)
    return sorted(defined, key=cmp_to_key(compare)) + tail


def _check_comparator(comparefn: Any) -> None:
    if comparefn is not undefined and not callable(comparefn):
        raise type_error("The comparison function must be either a function or undefined")


def array_sort(this: JSArray, comparefn: Any = undefined, *_: Any) -> JSArray:
    _check_comparator(comparefn)
    this[:] = _sorted(this, comparefn)
    return this


def array_to_sorted(this: JSArray, comparefn: Any = undefined, *_: Any) -> JSArray:
    _check_comparator(comparefn)
    return JSArray(_sorted(this, comparefn))


# --- Array.prototype: copies and iteration ----------------------------------------------------

def keys(this: JSArray, *_: Any) -> JSArray:
    return JSArray(range(len(this)))


def values(this: JSArray, *_: Any) -> JSArray:
    return JSArray(this)


def entries(this: JSArray, *_: Any) -> JSArray:
    return JSArray(JSArray((i, v)) for i, v in enumerate(this))


def to_reversed(this: JSArray, *_: Any) -> JSArray:
    return JSArray(reversed(this))


def with_(this: JSArray, index: Any = undefined, value: Any = undefined, *_: Any) -> JSArray:
    i = to_integer(index)
    if i < 0:
        i += len(this)
    if not 0 <= i < len(this):
        raise range_error("Invalid index : " + to_string(index))
    out = JSArray(this)
    out[int(i)] = value
    return out


def to_spliced(this: JSArray, *args: Any) -> JSArray:
    out = JSArray(this)
    splice(out, *args)
    return out


ARRAY_PROTO: dict[str, Callable[..., Any]] = {
    "at": at, "concat": concat, "copyWithin": copy_within, "entries": entries, "every": every,
    "fill": fill, "filter": filter_, "find": find, "findIndex": find_index, "findLast": find_last,
    "findLastIndex": find_last_index, "flat": flat, "flatMap": flat_map, "forEach": for_each,
    "includes": includes, "indexOf": index_of, "join": join, "keys": keys,
    "lastIndexOf": last_index_of, "map": map_, "pop": pop, "push": push, "reduce": reduce_,
    "reduceRight": reduce_right, "reverse": reverse, "shift": shift, "slice": slice_, "some": some,
    "sort": array_sort, "splice": splice, "toString": array_to_string,
    "toLocaleString": array_to_string, "unshift": unshift, "values": values,
    "toReversed": to_reversed, "toSorted": array_to_sorted, "toSpliced": to_spliced, "with": with_,
}

Array = BuiltinClass("Array", array_call, array_call,
                     {"isArray": is_array, "from": array_from, "of": array_of}, ARRAY_PROTO, (JSArray,))
register_prototype((JSArray,), Array)

EXPORTS: dict[str, object] = {"Array": Array}
