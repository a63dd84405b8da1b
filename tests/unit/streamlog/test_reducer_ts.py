"""TypeScript reducers: type check over our own lib, positions, ``current.#name`` (§7).

One compiler worker for the module (loading typescriptServices.js takes ~2 s); each check then
costs ~150 ms of QuickJS, so the cases are few and each covers a behaviour."""
import asyncio

import pytest

from pipyd.streamlog import reducer_ts
from pipyd.streamlog.sandbox import ReducerSandbox
from pipyd.streamlog.store import BadRequest

GREETING = "interface Greeting {\n  greeting: string;\n  count: number;\n}\n"


@pytest.fixture(scope="module")
def sandbox():
    sb = ReducerSandbox(workers=1)
    yield sb
    sb.close()


@pytest.fixture
def compile_ts(sandbox, monkeypatch):
    """``compile_ts(source, decls)`` → JavaScript, or the BadRequest's ``errors``."""
    def run(source: str, decls: str = GREETING):
        async def declarations(store, key):
            return decls
        monkeypatch.setattr(reducer_ts, "declarations", declarations)
        try:
            return asyncio.run(reducer_ts.transpile(sandbox, None, "t/s", source))
        except BadRequest as e:
            return e.detail["errors"]
    return run


def test_misused_typed_field_is_an_error_at_its_position(compile_ts):
    errors = compile_ts("(s: string = '', e: ReducerEvent<Greeting>) =>\n"
                        "  s + e.data.count.toUpperCase()")
    assert errors == [{"line": 2, "column": 20, "code": 2339,
                       "message": "Property 'toUpperCase' does not exist on type 'number'."}]


def test_correct_typed_reducer_emits_javascript(compile_ts):
    js = compile_ts("""{
      reduce: (state: Record<string, number> = {}, e: ReducerEvent<Greeting>) =>
        ({...state, [e.data.greeting]: (state[e.data.greeting] ?? 0) + e.data.count}),
      selector: {types: ['greeting']} as const,
    }""")
    assert isinstance(js, str) and "ReducerEvent" not in js and "Record" not in js
    assert "reduce: (state = {}, e) =>" in js


def test_untyped_event_data_is_any(compile_ts):
    js = compile_ts("(s: number = 0, e) => s + e.data.whatever.toUpperCase().length", decls="")
    assert isinstance(js, str)
    js = compile_ts("(s: number = 0, e: ReducerEvent) => s + e.data.anything", decls="")
    assert isinstance(js, str)


def test_unknown_identifier_and_program_form_positions(compile_ts):
    errors = compile_ts("const k = 2;\nfunction f(x: number) { return x * k; }\n"
                        "(s = 0, e) => f(s) + nope")
    assert [(e["line"], e["column"], e["code"]) for e in errors] == [(3, 22, 2304)]
    assert "nope" in errors[0]["message"]


def test_syntax_error_positions(compile_ts):
    errors = compile_ts("(s: number = 0, e) => {\n  s +\n")
    assert errors[0]["line"] == 2 and errors[0]["code"] == 1109


def test_current_refs_kept_and_columns_mapped(compile_ts):
    js = compile_ts("(s = 0, e, i, current) => current.#byGreeting.Hello + current.#my-count")
    assert "current.#byGreeting.Hello + current.#my-count" in js
    # the error after two references is reported where the tenant wrote it
    src = "(s = 0, e: ReducerEvent<Greeting>, i, current) => current.#a + current.#b + e.data.nope"
    errors = compile_ts(src)
    assert errors[0]["column"] == src.index("nope") + 1
    # a type error on the reference itself names it as written, at its `#`
    src = "(s = 0, e, i, current: {}) => current.#other"
    errors = compile_ts(src)
    assert errors[0]["column"] == src.index("#") + 1
    assert "'#other'" in errors[0]["message"]


def test_common_globals_type_check(compile_ts):
    js = compile_ts("""(s: {seen: string[], at: string} = {seen: [], at: ''}, e: ReducerEvent) => {
      const m = new Map<string, number>(); m.set('a', 1);
      const u = new Set([...s.seen, String(e.data)]);
      for (const [k, v] of m) console.log(k, v.toFixed(2));
      const when = new Date(Date.now()).toISOString();
      const parts = JSON.stringify(e.data).split(',').map(x => x.trim()).filter(Boolean);
      if (Math.random() > 2) dispatch('/a/b', {n: parts.length}, {eventType: 'x'});
      return {seen: Array.from(u).sort(), at: when.slice(0, 10) + Object.keys(s).join('')};
    }""")
    assert isinstance(js, str), js


@pytest.mark.parametrize("src", [
    "class Acc { total = 0; add(n: number) { this.total += n; return this; } }\n"
    "function* g() { yield 1; }\n"
    "(s = 0, e: ReducerEvent<Greeting>) => new Acc().add(s).add(e.data.count).total + [...g()][0]",
    "(s: Record<string, number> = {}, e: ReducerEvent<Greeting>) => Object.fromEntries("
    "Object.entries(s).sort(([, a], [, b]) => b - a).slice(0, 10))",
    "(s = 0, e: ReducerEvent<Greeting>) => { const p: Partial<Greeting> = {};"
    " const o: Omit<Greeting, 'count'> = {greeting: ''}; try { throw new TypeError('x'); } catch {}"
    " return s + (p.count ?? 0) + o.greeting.length + e.data.count.toFixed(2).length; }",
])
def test_more_of_es2020_type_checks(compile_ts, src):
    assert isinstance(compile_ts(src), str)


def test_lib_itself_is_clean(sandbox):
    """Our declarations type-check on their own (a mistake there is a false error on every PUT)."""
    doc = asyncio.run(sandbox.transpile({"selfTest": True}, reducer_ts._SETUP))
    assert doc == {"js": "", "errors": []}


def test_hide_refs_shifts():
    body, shifts = reducer_ts._hide_refs("a\r\nx.#ré + y.\n  #b")
    assert body == "a\r\nx.__pipyd_ref_72c3a9 + y.\n  __pipyd_ref_62"
    assert shifts == [(2, 3, 3, 18), (3, 3, 2, 14)]
    e = {"line": 2, "column": 3 + 18 + 3, "message": "at __pipyd_ref_72c3a9", "code": 1}
    assert reducer_ts._tenant_position(e, shifts) == {**e, "column": 3 + 3 + 3,
                                                      "message": "at #ré"}
    inside = {**e, "column": 3 + 5}
    assert reducer_ts._tenant_position(inside, shifts)["column"] == 3
