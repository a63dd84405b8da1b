"""chain and use (reference §1.5, §2.2 rows 6 and 70)."""
import pytest

from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd

from . import Run, load, run


def tag(name, cont="chain()"):
    """A plugin whose entry pipeline appends its name to each Data, then continues."""
    return (f"pipy().pipeline().replaceData(d => new Data(d.toString() + '{name}'))"
            + (f".{cont}" if cont else ""))


PLUGINS = {"plugins/a.js": tag("a"), "plugins/b.js": tag("b"), "plugins/c.js": tag("c")}


def test_chain_runs_each_module_entry_in_order_then_passes_through(tmp_path):
    src = "pipy().pipeline('main').chain(['plugins/a.js', 'plugins/b.js', 'plugins/c.js'])"
    assert run(tmp_path, src, [Data("x"), StreamEnd()], PLUGINS) == [("D", b"xabc"), ("SE", "")]


def test_chain_plugin_may_stop_the_chain(tmp_path):
    files = dict(PLUGINS)
    files["plugins/b.js"] = "pipy().pipeline().replaceData(new Data('stop'))"
    src = "pipy().pipeline('main').chain(['plugins/a.js', 'plugins/b.js', 'plugins/c.js'])"
    assert run(tmp_path, src, [Data("x")], files) == [("D", b"stop")]


def test_chain_position_is_inherited_by_sub_pipelines(tmp_path):
    files = dict(PLUGINS)
    files["plugins/b.js"] = """pipy({_hit: false})
      .pipeline().branch(() => _hit, $ => $.replaceData(new Data('hit')), $ => $.link('go'))
      .pipeline('go').replaceData(d => new Data(d.toString() + 'b')).chain()"""
    src = "pipy().pipeline('main').chain(['plugins/a.js', 'plugins/b.js', 'plugins/c.js'])"
    assert run(tmp_path, src, [Data("x")], files) == [("D", b"xabc")]


def test_chain_without_a_chain_passes_through(tmp_path):
    assert run(tmp_path, "pipy().pipeline('main').chain()", [Data("x")]) == [("D", b"x")]


def test_chain_shares_the_context_and_exports(tmp_path):
    files = {
        "plugins/a.js": "pipy().import({__who: 'main'}).pipeline().handleData(() => __who += 'a').chain()",
        "plugins/b.js": "pipy().import({__who: 'main'}).pipeline().handleData(() => __who += 'b').chain()",
    }
    src = "pipy().export('main', {__who: ''}).pipeline('main').chain(['plugins/a.js', 'plugins/b.js'])"
    w = load(tmp_path, src, files)
    r = Run(w)
    r.feed(Data("x"))
    assert r.context.data[w.by_path["/main.js"].index]["__who"] == "ab"


def test_chain_missing_entry_pipeline_is_a_bind_error(tmp_path):
    files = {"plugins/a.js": "pipy().pipeline('x').dummy()"}
    with pytest.raises(Exception, match="entry pipeline not found in module /plugins/a.js"):
        load(tmp_path, "pipy().pipeline('main').chain(['plugins/a.js'])", files)


def test_chain_missing_module_fails_to_load(tmp_path):
    with pytest.raises(Exception, match="Cannot open script at /nope.js"):
        load(tmp_path, "pipy().pipeline('main').chain(['nope.js'])")


def test_chain_bad_argument(tmp_path):
    with pytest.raises(Exception, match="TypeError: chain"):
        load(tmp_path, "pipy().pipeline('main').chain('a.js')")


def test_chain_modules_are_loaded_once(tmp_path):
    src = ("pipy().pipeline('main').chain(['plugins/a.js']).pipeline('two')"
           ".chain(['plugins/a.js', 'plugins/b.js'])")
    w = load(tmp_path, src, PLUGINS)
    assert [m.path for m in w.modules] == ["/main.js", "/plugins/a.js", "/plugins/b.js"]
    assert Run(w, "two").feed(Data("x")) == [("D", b"xab")]


def test_use_links_to_a_named_or_entry_pipeline(tmp_path):
    files = {"lib.js": ("pipy().pipeline().replaceData(new Data('entry'))"
                        ".pipeline('up').replaceData(d => new Data(d.toString().toUpperCase()))")}
    src = "pipy().pipeline('main').use('lib.js', 'up').pipeline('e').use('lib.js')"
    w = load(tmp_path, src, files)
    assert Run(w).feed(Data("x")) == [("D", b"X")]
    assert Run(w, "e").feed(Data("x")) == [("D", b"entry")]


def test_use_unknown_pipeline_name(tmp_path):
    with pytest.raises(Exception, match="pipeline not found with name: nope"):
        load(tmp_path, "pipy().pipeline('main').use('lib.js', 'nope')",
             {"lib.js": "pipy().pipeline('x').dummy()"})


def plugin(name, turn=False, down=True):
    """A plugin with 'request' and (optionally) 'response' pipelines that log their name."""
    src = f"pipy().import({{__log: 'm', __turnDown: 'm'}})"
    src += f".pipeline('request').handleData(() => __log.push('{name}>'))"
    if turn:
        src += ".handleData(() => __turnDown = true)"
    if down:
        src += f".pipeline('response').handleData(() => __log.push('<{name}'))"
    return src


MAIN = """pipy().export('m', {__log: null, __turnDown: false})
  .pipeline('main').handleStreamStart(() => __log = [])
  .use(['p/a.js', 'p/b.js', 'p/c.js', 'p/none.js'], 'request', 'response', () => __turnDown)"""


def _log(w, r):
    return r.context.data[w.by_path["/main.js"].index]["__log"]


def test_use_plugin_chain_runs_up_in_order_then_down_in_reverse(tmp_path):
    files = {"p/a.js": plugin("a"), "p/b.js": plugin("b"), "p/c.js": plugin("c"),
             "p/none.js": "pipy().pipeline('other').dummy()"}
    w = load(tmp_path, MAIN, files)
    r = Run(w)
    assert r.feed(Data("x")) == [("D", b"x")]
    assert _log(w, r) == ["a>", "b>", "c>", "<c", "<b", "<a"]


def test_use_turn_down_skips_later_stages_and_runs_the_turning_modules_down(tmp_path):
    files = {"p/a.js": plugin("a"), "p/b.js": plugin("b", turn=True), "p/c.js": plugin("c"),
             "p/none.js": "pipy().pipeline('other').dummy()"}
    w = load(tmp_path, MAIN, files)
    r = Run(w)
    assert r.feed(Data("x"), StreamEnd()) == [("D", b"x"), ("SE", "")]
    assert _log(w, r) == ["a>", "b>", "<b", "<a"]


def test_use_module_without_down_passes_the_response_through(tmp_path):
    files = {"p/a.js": plugin("a"), "p/b.js": plugin("b", down=False), "p/c.js": plugin("c"),
             "p/none.js": "pipy().pipeline('other').dummy()"}
    w = load(tmp_path, MAIN, files)
    r = Run(w)
    r.feed(Data("x"))
    assert _log(w, r) == ["a>", "b>", "c>", "<c", "<a"]


def test_use_up_only_form(tmp_path):
    files = {"p/a.js": plugin("a"), "p/b.js": plugin("b")}
    src = ("pipy().export('m', {__log: [], __turnDown: false})"
           ".pipeline('main').use(['p/a.js', 'p/b.js'], 'request')")
    w = load(tmp_path, src, files)
    r = Run(w)
    assert r.feed(Data("x")) == [("D", b"x")]
    assert _log(w, r) == ["a>", "b>"]


def test_use_request_response_with_messages(tmp_path):
    files = {
        "p/cache.js": """pipy().import({__turnDown: 'm'})
          .pipeline('request').replaceMessage(req => (
              req.head.path === '/hit' ? (__turnDown = true, new Message({}, 'cached')) : req))
          .pipeline('response').handleMessageStart(m => m.head.via = 'cache')""",
        "p/origin.js": """pipy()
          .pipeline('request').replaceMessage(req => new Message({status: 200}, 'origin'))""",
    }
    src = ("pipy().export('m', {__turnDown: false}).pipeline('main')"
           ".use(['p/cache.js', 'p/origin.js'], 'request', 'response', () => __turnDown)")
    w = load(tmp_path, src, files)
    hit = Run(w).feed(MessageStart({"path": "/hit"}), MessageEnd())
    miss = Run(w).feed(MessageStart({"path": "/x"}), MessageEnd())
    assert hit == [("MS", {"via": "cache"}), ("D", b"cached"), ("ME", None)]
    assert miss == [("MS", {"status": 200, "via": "cache"}), ("D", b"origin"), ("ME", None)]


def test_use_native_module_is_refused(tmp_path):
    with pytest.raises(Exception, match="native modules"):
        load(tmp_path, "pipy().pipeline('main').use('x.so')")


def test_use_bad_turn_down(tmp_path):
    with pytest.raises(Exception, match="TypeError: use: turnDown"):
        load(tmp_path, "pipy().pipeline('main').use(['a.js'], 'up', 'down', 5)",
             {"a.js": "pipy().pipeline('up').dummy()"})


def test_chain_position_is_known_to_on_start_events(tmp_path):
    # onStart's events run through the new pipeline while it is still being instantiated
    files = dict(PLUGINS)
    files["plugins/a.js"] = "pipy().pipeline().onStart(() => new Data('s')).chain()"
    src = "pipy().pipeline('main').chain(['plugins/a.js', 'plugins/b.js'])"
    assert run(tmp_path, src, [Data("x")], files) == [("D", b"sb"), ("D", b"xb")]
