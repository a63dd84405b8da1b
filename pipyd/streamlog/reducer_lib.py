"""What the TypeScript checker of reducers (reducer_ts.py) runs in the compiler's worker.

``LIB`` is our own declarations file, checked with ``noLib: true`` in place of TypeScript's
``lib.d.ts`` (dukpy ships none, and the full ES2020 lib would be a 1 MB parse per worker): the
global interfaces the checker cannot run without (Array, Boolean, Function, IArguments, Number,
Object, RegExp, String; Symbol and the iteration interfaces, which spread and ``for…of`` look up
at an ES2015+ target), what a reducer uses (JSON, Math, Date, console, Map, Set, errors, the
usual utility types) and the sandbox's own globals (``ReducerEvent<T>``, ``dispatch``,
``request``; see sandbox.py's prelude). A method missing here is a false "does not exist" error
at PUT, so the common surface of ES2020 is declared, not only the minimum.

``CHECKER`` is the JavaScript run once in the compiler's context (after typescriptServices.js):
it parses ``LIB`` once, then for each PUT builds a program of three files (the lib, the stream's
event-type declarations, the reducer) over an in-memory CompilerHost, and answers the emitted
JavaScript with the reducer's syntactic and semantic diagnostics.
"""
from __future__ import annotations

import json

__all__ = ["LIB", "CHECKER"]

LIB = r"""
interface Object {
  constructor: Function;
  toString(): string;
  toLocaleString(): string;
  valueOf(): Object;
  hasOwnProperty(v: PropertyKey): boolean;
  isPrototypeOf(v: Object): boolean;
  propertyIsEnumerable(v: PropertyKey): boolean;
}
interface ObjectConstructor {
  new (value?: any): Object;
  (value?: any): any;
  readonly prototype: Object;
  keys(o: object): string[];
  values<T>(o: {[k: string]: T} | ArrayLike<T>): T[];
  values(o: {}): any[];
  entries<T>(o: {[k: string]: T} | ArrayLike<T>): [string, T][];
  entries(o: {}): [string, any][];
  fromEntries<T = any>(entries: Iterable<readonly [PropertyKey, T]>): {[k: string]: T};
  fromEntries(entries: Iterable<readonly any[]>): any;
  assign<T extends {}, U>(target: T, source: U): T & U;
  assign<T extends {}, U, V>(target: T, a: U, b: V): T & U & V;
  assign(target: object, ...sources: any[]): any;
  freeze<T>(o: T): Readonly<T>;
  isFrozen(o: any): boolean;
  create(o: object | null, properties?: {[k: PropertyKey]: PropertyDescriptor}): any;
  getPrototypeOf(o: any): any;
  getOwnPropertyNames(o: any): string[];
  defineProperty<T>(o: T, p: PropertyKey, attributes: PropertyDescriptor): T;
  is(a: any, b: any): boolean;
}
declare var Object: ObjectConstructor;
interface PropertyDescriptor {
  configurable?: boolean; enumerable?: boolean; value?: any; writable?: boolean;
  get?(): any; set?(v: any): void;
}
type PropertyKey = string | number | symbol;

interface Function {
  apply(this: Function, thisArg: any, args?: any): any;
  call(this: Function, thisArg: any, ...args: any[]): any;
  bind(this: Function, thisArg: any, ...args: any[]): any;
  toString(): string;
  readonly length: number;
  readonly name: string;
  prototype: any;
}
interface FunctionConstructor { readonly prototype: Function; }
declare var Function: FunctionConstructor;
interface CallableFunction extends Function {}
interface NewableFunction extends Function {}
interface IArguments { [index: number]: any; length: number; callee: Function; }

interface Boolean { valueOf(): boolean; }
interface BooleanConstructor { new (value?: any): Boolean; <T>(value?: T): boolean; }
declare var Boolean: BooleanConstructor;

interface Number {
  toString(radix?: number): string;
  toFixed(digits?: number): string;
  toExponential(digits?: number): string;
  toPrecision(precision?: number): string;
  toLocaleString(locales?: string | string[], options?: object): string;
  valueOf(): number;
}
interface NumberConstructor {
  new (value?: any): Number;
  (value?: any): number;
  readonly MAX_SAFE_INTEGER: number; readonly MIN_SAFE_INTEGER: number;
  readonly MAX_VALUE: number; readonly MIN_VALUE: number; readonly EPSILON: number;
  readonly NaN: number; readonly POSITIVE_INFINITY: number; readonly NEGATIVE_INFINITY: number;
  isFinite(n: unknown): boolean;
  isInteger(n: unknown): boolean;
  isNaN(n: unknown): boolean;
  isSafeInteger(n: unknown): boolean;
  parseFloat(s: string): number;
  parseInt(s: string, radix?: number): number;
}
declare var Number: NumberConstructor;
declare var NaN: number;
declare var Infinity: number;
declare function parseInt(s: string, radix?: number): number;
declare function parseFloat(s: string): number;
declare function isNaN(n: number): boolean;
declare function isFinite(n: number): boolean;
declare function encodeURIComponent(s: string | number | boolean): string;
declare function decodeURIComponent(s: string): string;
declare function encodeURI(s: string): string;
declare function decodeURI(s: string): string;

interface String {
  readonly length: number;
  readonly [index: number]: string;
  toString(): string;
  valueOf(): string;
  at(index: number): string | undefined;
  charAt(pos: number): string;
  charCodeAt(index: number): number;
  codePointAt(pos: number): number | undefined;
  concat(...strings: string[]): string;
  endsWith(search: string, endPosition?: number): boolean;
  includes(search: string, position?: number): boolean;
  indexOf(search: string, position?: number): number;
  lastIndexOf(search: string, position?: number): number;
  localeCompare(that: string): number;
  match(regexp: string | RegExp): RegExpMatchArray | null;
  matchAll(regexp: RegExp): IterableIterator<RegExpMatchArray>;
  normalize(form?: string): string;
  padEnd(maxLength: number, fill?: string): string;
  padStart(maxLength: number, fill?: string): string;
  repeat(count: number): string;
  replace(search: string | RegExp,
      replacement: string | ((substring: string, ...args: any[]) => string)): string;
  replaceAll(search: string | RegExp,
      replacement: string | ((substring: string, ...args: any[]) => string)): string;
  search(regexp: string | RegExp): number;
  slice(start?: number, end?: number): string;
  split(separator: string | RegExp, limit?: number): string[];
  startsWith(search: string, position?: number): boolean;
  substring(start: number, end?: number): string;
  substr(from: number, length?: number): string;
  toLowerCase(): string;
  toUpperCase(): string;
  toLocaleLowerCase(): string;
  toLocaleUpperCase(): string;
  trim(): string;
  trimEnd(): string;
  trimStart(): string;
  [Symbol.iterator](): IterableIterator<string>;
}
interface StringConstructor {
  new (value?: any): String;
  (value?: any): string;
  fromCharCode(...codes: number[]): string;
  fromCodePoint(...codePoints: number[]): string;
  raw(template: {raw: readonly string[] | ArrayLike<string>}, ...substitutions: any[]): string;
}
declare var String: StringConstructor;
interface TemplateStringsArray extends ReadonlyArray<string> { readonly raw: readonly string[]; }

interface RegExp {
  exec(s: string): RegExpExecArray | null;
  test(s: string): boolean;
  readonly source: string; readonly flags: string; readonly global: boolean;
  readonly ignoreCase: boolean; readonly multiline: boolean; lastIndex: number;
}
interface RegExpConstructor {
  new (pattern: RegExp | string, flags?: string): RegExp;
  (pattern: RegExp | string, flags?: string): RegExp;
}
declare var RegExp: RegExpConstructor;
interface RegExpMatchArray extends Array<string> {
  index?: number;
  input?: string;
  groups?: {[key: string]: string};
}
interface RegExpExecArray extends Array<string> {
  index: number;
  input: string;
  groups?: {[key: string]: string};
}

interface Symbol {
  toString(): string;
  valueOf(): symbol;
  readonly description: string | undefined;
}
interface SymbolConstructor {
  (description?: string | number): symbol;
  readonly iterator: unique symbol;
  readonly asyncIterator: unique symbol;
  for(key: string): symbol;
}
declare var Symbol: SymbolConstructor;
interface IteratorYieldResult<T> { done?: false; value: T; }
interface IteratorReturnResult<T> { done: true; value: T; }
type IteratorResult<T, R = any> = IteratorYieldResult<T> | IteratorReturnResult<R>;
interface Iterator<T, R = any, N = any> {
  next(...args: [] | [N]): IteratorResult<T, R>;
  return?(value?: R): IteratorResult<T, R>;
  throw?(e?: any): IteratorResult<T, R>;
}
interface Iterable<T, R = any, N = any> { [Symbol.iterator](): Iterator<T, R, N>; }
interface IterableIterator<T, R = any, N = any> extends Iterator<T, R, N> {
  [Symbol.iterator](): IterableIterator<T, R, N>;
}
interface Generator<T = unknown, R = any, N = any> extends Iterator<T, R, N> {
  next(...args: [] | [N]): IteratorResult<T, R>;
  return(value: R): IteratorResult<T, R>;
  throw(e: any): IteratorResult<T, R>;
  [Symbol.iterator](): Generator<T, R, N>;
}
interface ArrayLike<T> { readonly length: number; readonly [n: number]: T; }

interface ReadonlyArray<T> {
  readonly length: number;
  readonly [n: number]: T;
  at(index: number): T | undefined;
  concat(...items: (T | ConcatArray<T>)[]): T[];
  entries(): IterableIterator<[number, T]>;
  every(predicate: (value: T, index: number, array: readonly T[]) => unknown): boolean;
  filter<S extends T>(predicate: (value: T, index: number, array: readonly T[]) => value is S): S[];
  filter(predicate: (value: T, index: number, array: readonly T[]) => unknown): T[];
  find<S extends T>(predicate: (value: T, index: number,
      obj: readonly T[]) => value is S): S | undefined;
  find(predicate: (value: T, index: number, obj: readonly T[]) => unknown): T | undefined;
  findIndex(predicate: (value: T, index: number, obj: readonly T[]) => unknown): number;
  findLast(predicate: (value: T, index: number, obj: readonly T[]) => unknown): T | undefined;
  findLastIndex(predicate: (value: T, index: number, obj: readonly T[]) => unknown): number;
  flat<U>(this: readonly (U | readonly U[])[], depth?: 1): U[];
  flatMap<U>(callback: (value: T, index: number, array: T[]) => U | readonly U[]): U[];
  forEach(callback: (value: T, index: number, array: readonly T[]) => void): void;
  includes(search: T, fromIndex?: number): boolean;
  indexOf(search: T, fromIndex?: number): number;
  join(separator?: string): string;
  keys(): IterableIterator<number>;
  lastIndexOf(search: T, fromIndex?: number): number;
  map<U>(callback: (value: T, index: number, array: readonly T[]) => U): U[];
  reduce(callback: (previous: T, current: T, index: number, array: readonly T[]) => T): T;
  reduce<U>(callback: (previous: U, current: T, index: number, array: readonly T[]) => U,
      initial: U): U;
  reduceRight(callback: (previous: T, current: T, index: number, array: readonly T[]) => T): T;
  reduceRight<U>(callback: (previous: U, current: T, index: number, array: readonly T[]) => U,
      initial: U): U;
  slice(start?: number, end?: number): T[];
  some(predicate: (value: T, index: number, array: readonly T[]) => unknown): boolean;
  toString(): string;
  values(): IterableIterator<T>;
  [Symbol.iterator](): IterableIterator<T>;
}
interface ConcatArray<T> {
  readonly length: number;
  readonly [n: number]: T;
  join(separator?: string): string;
  slice(start?: number, end?: number): T[];
}
interface Array<T> {
  length: number;
  [n: number]: T;
  at(index: number): T | undefined;
  concat(...items: (T | ConcatArray<T>)[]): T[];
  copyWithin(target: number, start: number, end?: number): this;
  entries(): IterableIterator<[number, T]>;
  every(predicate: (value: T, index: number, array: T[]) => unknown): boolean;
  fill(value: T, start?: number, end?: number): this;
  filter<S extends T>(predicate: (value: T, index: number, array: T[]) => value is S): S[];
  filter(predicate: (value: T, index: number, array: T[]) => unknown): T[];
  find<S extends T>(predicate: (value: T, index: number, obj: T[]) => value is S): S | undefined;
  find(predicate: (value: T, index: number, obj: T[]) => unknown): T | undefined;
  findIndex(predicate: (value: T, index: number, obj: T[]) => unknown): number;
  findLast(predicate: (value: T, index: number, obj: T[]) => unknown): T | undefined;
  findLastIndex(predicate: (value: T, index: number, obj: T[]) => unknown): number;
  flat<U>(this: (U | readonly U[])[], depth?: 1): U[];
  flatMap<U>(callback: (value: T, index: number, array: T[]) => U | readonly U[]): U[];
  forEach(callback: (value: T, index: number, array: T[]) => void): void;
  includes(search: T, fromIndex?: number): boolean;
  indexOf(search: T, fromIndex?: number): number;
  join(separator?: string): string;
  keys(): IterableIterator<number>;
  lastIndexOf(search: T, fromIndex?: number): number;
  map<U>(callback: (value: T, index: number, array: T[]) => U): U[];
  pop(): T | undefined;
  push(...items: T[]): number;
  reduce(callback: (previous: T, current: T, index: number, array: T[]) => T): T;
  reduce<U>(callback: (previous: U, current: T, index: number, array: T[]) => U, initial: U): U;
  reduceRight(callback: (previous: T, current: T, index: number, array: T[]) => T): T;
  reduceRight<U>(callback: (previous: U, current: T, index: number, array: T[]) => U,
      initial: U): U;
  reverse(): T[];
  shift(): T | undefined;
  slice(start?: number, end?: number): T[];
  some(predicate: (value: T, index: number, array: T[]) => unknown): boolean;
  sort(compare?: (a: T, b: T) => number): this;
  splice(start: number, deleteCount?: number, ...items: T[]): T[];
  toString(): string;
  unshift(...items: T[]): number;
  values(): IterableIterator<T>;
  [Symbol.iterator](): IterableIterator<T>;
}
interface ArrayConstructor {
  new <T = any>(length?: number): T[];
  <T = any>(length?: number): T[];
  isArray(arg: any): arg is any[];
  from<T>(iterable: Iterable<T> | ArrayLike<T>): T[];
  from<T, U>(iterable: Iterable<T> | ArrayLike<T>, map: (v: T, k: number) => U): U[];
  of<T>(...items: T[]): T[];
  readonly prototype: any[];
}
declare var Array: ArrayConstructor;

interface Map<K, V> {
  readonly size: number;
  clear(): void;
  delete(key: K): boolean;
  entries(): IterableIterator<[K, V]>;
  forEach(callback: (value: V, key: K, map: Map<K, V>) => void): void;
  get(key: K): V | undefined;
  has(key: K): boolean;
  keys(): IterableIterator<K>;
  set(key: K, value: V): this;
  values(): IterableIterator<V>;
  [Symbol.iterator](): IterableIterator<[K, V]>;
}
interface MapConstructor {
  new <K = any, V = any>(entries?: Iterable<readonly [K, V]> | null): Map<K, V>;
}
declare var Map: MapConstructor;
interface Set<T> {
  readonly size: number;
  add(value: T): this;
  clear(): void;
  delete(value: T): boolean;
  entries(): IterableIterator<[T, T]>;
  forEach(callback: (value: T, value2: T, set: Set<T>) => void): void;
  has(value: T): boolean;
  keys(): IterableIterator<T>;
  values(): IterableIterator<T>;
  [Symbol.iterator](): IterableIterator<T>;
}
interface SetConstructor { new <T = any>(values?: Iterable<T> | null): Set<T>; }
declare var Set: SetConstructor;

interface JSON {
  parse(text: string, reviver?: (this: any, key: string, value: any) => any): any;
  stringify(value: any,
      replacer?: ((this: any, key: string, value: any) => any) | (number | string)[] | null,
      space?: string | number): string;
}
declare var JSON: JSON;

interface Math {
  readonly E: number; readonly LN10: number; readonly LN2: number; readonly LOG10E: number;
  readonly LOG2E: number; readonly PI: number; readonly SQRT1_2: number; readonly SQRT2: number;
  abs(x: number): number; acos(x: number): number; acosh(x: number): number;
  asin(x: number): number; asinh(x: number): number; atan(x: number): number;
  atanh(x: number): number; atan2(y: number, x: number): number; cbrt(x: number): number;
  ceil(x: number): number; clz32(x: number): number; cos(x: number): number;
  cosh(x: number): number; exp(x: number): number; expm1(x: number): number;
  floor(x: number): number; fround(x: number): number; hypot(...values: number[]): number;
  imul(x: number, y: number): number; log(x: number): number; log10(x: number): number;
  log1p(x: number): number; log2(x: number): number; max(...values: number[]): number;
  min(...values: number[]): number; pow(x: number, y: number): number; random(): number;
  round(x: number): number; sign(x: number): number; sin(x: number): number;
  sinh(x: number): number; sqrt(x: number): number; tan(x: number): number;
  tanh(x: number): number; trunc(x: number): number;
}
declare var Math: Math;

interface Date {
  toString(): string; toDateString(): string; toTimeString(): string; toISOString(): string;
  toJSON(key?: any): string; toUTCString(): string; toLocaleString(): string;
  toLocaleDateString(): string; toLocaleTimeString(): string;
  valueOf(): number; getTime(): number;
  getFullYear(): number; getUTCFullYear(): number; getMonth(): number; getUTCMonth(): number;
  getDate(): number; getUTCDate(): number; getDay(): number; getUTCDay(): number;
  getHours(): number; getUTCHours(): number; getMinutes(): number; getUTCMinutes(): number;
  getSeconds(): number; getUTCSeconds(): number; getMilliseconds(): number;
  getUTCMilliseconds(): number; getTimezoneOffset(): number;
  setTime(time: number): number;
}
interface DateConstructor {
  new (value?: number | string | Date): Date;
  new (year: number, monthIndex: number, date?: number, hours?: number, minutes?: number,
      seconds?: number, ms?: number): Date;
  (): string;
  readonly prototype: Date;
  now(): number;
  parse(s: string): number;
  UTC(year: number, monthIndex?: number, date?: number, hours?: number, minutes?: number,
      seconds?: number, ms?: number): number;
}
declare var Date: DateConstructor;

interface Error { name: string; message: string; stack?: string; cause?: unknown; }
interface ErrorConstructor {
  new (message?: string, options?: {cause?: unknown}): Error;
  (message?: string): Error;
  readonly prototype: Error;
}
declare var Error: ErrorConstructor;
declare var TypeError: ErrorConstructor;
declare var RangeError: ErrorConstructor;
declare var SyntaxError: ErrorConstructor;

interface Console {
  log(...data: any[]): void; info(...data: any[]): void; warn(...data: any[]): void;
  error(...data: any[]): void; debug(...data: any[]): void;
}
declare var console: Console;

type Partial<T> = { [P in keyof T]?: T[P] };
type Required<T> = { [P in keyof T]-?: T[P] };
type Readonly<T> = { readonly [P in keyof T]: T[P] };
type Pick<T, K extends keyof T> = { [P in K]: T[P] };
type Record<K extends keyof any, T> = { [P in K]: T };
type Exclude<T, U> = T extends U ? never : T;
type Extract<T, U> = T extends U ? T : never;
type Omit<T, K extends keyof any> = Pick<T, Exclude<keyof T, K>>;
type NonNullable<T> = T & {};
type Parameters<T extends (...args: any) => any> = T extends (...args: infer P) => any ? P : never;
type ReturnType<T extends (...args: any) => any> = T extends (...args: any) => infer R ? R : any;

/* The sandbox's globals (sandbox.py prelude, streamlog.md §7). */
interface ReducerEvent<T = any> {
  index: number; timestamp: number; eventType: string; contentType: string;
  data: T; encoding?: "base64";
}
declare function dispatch(path: string, value: unknown, options?: {eventType?: string}): void;
declare function request(url: string, options?: {method?: string; headers?: {[k: string]: string};
  body?: unknown}): void;
"""

# Runs once in the compiler's context; `__tsc(req)` then answers each PUT. `req` is
# {decls, src}: the stream's event-type declarations and the reducer (refs already hidden);
# {selfTest: true} answers the lib's own diagnostics (tests/unit/streamlog/test_reducer_ts.py).
# The reducer is tried as an expression first — `(\n src \n)`, whose positions are one line
# down — and, when that does not parse, as a program (reducer_ts.py explains why).
CHECKER = r"""
(function (g) {
  var LIB = '/lib.reducer.d.ts', DECLS = '/types.d.ts', FILE = '/reducer.ts';
  var options = {
    noLib: true, noResolve: true, types: [], target: ts.ScriptTarget.ES2020,
    module: ts.ModuleKind.None, removeComments: true, newLine: ts.NewLineKind.LineFeed,
    skipLibCheck: true, noEmitOnError: false
  };
  var lib = ts.createSourceFile(LIB, %s, ts.ScriptTarget.ES2020, false);
  function program(files, names, emitted, opts) {
    files[LIB] = lib;
    return ts.createProgram(names, opts || options, {
      getSourceFile: function (name) { return files[name]; },
      getDefaultLibFileName: function () { return LIB; },
      writeFile: function (name, text) { emitted.js = text; },
      getCurrentDirectory: function () { return '/'; },
      getCanonicalFileName: function (f) { return f; },
      useCaseSensitiveFileNames: function () { return true; },
      getNewLine: function () { return '\n'; },
      fileExists: function (f) { return files.hasOwnProperty(f); },
      readFile: function () { return undefined; },
      getDirectories: function () { return []; }
    });
  }
  function check(decls, file) {
    var files = {}, emitted = {js: ''};
    files[DECLS] = ts.createSourceFile(DECLS, decls, ts.ScriptTarget.ES2020, false);
    files[FILE] = file;
    var p = program(files, [LIB, DECLS, FILE], emitted);
    var diags = p.getSyntacticDiagnostics(file);
    if (!diags.length) diags = p.getSemanticDiagnostics(file);
    if (!diags.length) p.emit(file);
    return {js: emitted.js, diags: diags};
  }
  /* The lib alone, fully checked (skipLibCheck is for the PUTs): tests/unit asks for this. */
  function selfTest() {
    var p = program({}, [LIB], {}, Object.assign({}, options, {skipLibCheck: false}));
    return p.getGlobalDiagnostics().concat(p.getSyntacticDiagnostics(lib),
                                           p.getSemanticDiagnostics(lib));
  }
  function positions(r, shift) {
    return r.diags.map(function (d) {
      var at = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start)
                                               : {line: shift, character: 0};
      return {line: at.line + 1 - shift, column: at.character + 1, code: d.code,
              message: ts.flattenDiagnosticMessageText(d.messageText, '\n')};
    });
  }
  g.__tsc = function (req) {
    if (req.selfTest) return {js: '', errors: positions({diags: selfTest()}, 0)};
    /* parsed alone first: a program (and its checker, the cost) is built for one form only */
    var file = ts.createSourceFile(FILE, '(\n' + req.src + '\n)', ts.ScriptTarget.ES2020, false);
    var shift = 1;
    if (file.parseDiagnostics.length) {
      file = ts.createSourceFile(FILE, req.src, ts.ScriptTarget.ES2020, false);
      shift = 0;
    }
    var r = check(req.decls, file);
    return {js: r.js, errors: positions(r, shift)};
  };
})(globalThis);
""" % json.dumps(LIB)
