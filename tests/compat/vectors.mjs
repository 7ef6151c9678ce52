// Prints MessagePack test vectors as JSON lines: {name, hex, expect, minimal}.
// Every vector is encoded by a real encoder: notepack.io (what @socket.io/redis-emitter uses) or @msgpack/msgpack
// (for what notepack never writes: float32, bigint widths, extension types). `expect` describes the value in a
// tagged form the C# tests compare with; `minimal` says whether the encoding is the shortest one (the C# writer must
// then produce the same bytes).
import notepack from "notepack.io";
import { encode as mpEncode, ExtData } from "@msgpack/msgpack";

const out = [];

function describe(v) {
  if (v === null || v === undefined) return { t: "nil" };
  if (typeof v === "boolean") return { t: "bool", v };
  if (typeof v === "bigint") return { t: "int", v: v.toString() };
  if (typeof v === "number") return Number.isInteger(v) ? { t: "int", v: String(v) } : { t: "float", v: floatText(v) };
  if (typeof v === "string") return { t: "str", v };
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return { t: "bin", v: Buffer.from(v).toString("hex") };
  if (v instanceof ExtData) return { t: "ext", type: v.type, v: Buffer.from(v.data).toString("hex") };
  if (v instanceof Date) return { t: "ext", type: -1, ms: v.getTime() };
  if (Array.isArray(v)) return { t: "arr", v: v.map(describe) };
  return { t: "map", v: Object.keys(v).map((k) => [describe(k), describe(v[k])]) };
}

function floatText(v) {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "Infinity";
  if (v === -Infinity) return "-Infinity";
  return String(v);
}

function note(name, value) {
  out.push({ name: "notepack " + name, hex: notepack.encode(value).toString("hex"), expect: describe(value), minimal: true });
}

function mp(name, value, options = {}, expect = describe(value), minimal = true) {
  out.push({ name: "msgpack " + name, hex: Buffer.from(mpEncode(value, options)).toString("hex"), expect, minimal });
}

// nil, bool
note("null", null);
note("true", true);
note("false", false);

// integers: every width notepack chooses, at each boundary
for (const n of [0, 1, 127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296, Number.MAX_SAFE_INTEGER,
  -1, -32, -33, -128, -129, -32768, -32769, -2147483648, -2147483649, Number.MIN_SAFE_INTEGER]) {
  note("int " + n, n);
}
// uint64 / int64 beyond 2^53 (bigint, always 9 bytes in @msgpack/msgpack)
for (const n of [18446744073709551615n, 9223372036854775807n, 9223372036854775808n, -9223372036854775808n, 5n, -5n]) {
  mp("bigint " + n, n, { useBigInt64: true }, describe(n), false);
}

// floats (only non-integers: notepack writes integer-valued doubles above 2^64, like Number.MAX_VALUE, as a broken uint 64)
for (const f of [0.5, -1.25, 3.141592653589793, 1e-300, 123456.789, NaN, Infinity, -Infinity]) {
  note("float64 " + floatText(f), f);
}
for (const f of [0.5, -1.25, 3.4028234663852886e38, 1.401298464324817e-45]) {
  mp("float32 " + f, f, { forceFloat32: true }, { t: "float", v: floatText(f) });
}

// strings: fixstr, str8, str16, str32, multi-byte UTF-8
for (const len of [0, 1, 31, 32, 255, 256, 65535, 65536]) {
  note("str length " + len, "x".repeat(len));
}
note("str utf8", "héllo wörld ✓ 😀");
note("str emoji str8", "😀".repeat(10));

// binary: bin8, bin16, bin32
for (const len of [0, 1, 255, 256, 65535, 65536]) {
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) b[i] = (i * 7 + 3) & 0xff;
  note("bin length " + len, b);
}

// arrays: fixarray, array16, array32
for (const len of [0, 1, 15, 16, 65535, 65536]) {
  note("array length " + len, Array.from({ length: len }, (_, i) => i % 200));
}
note("array mixed", [1, "two", null, true, 2.5, [3, [4]], { five: 5 }, Buffer.from([6])]);

// maps: fixmap, map16, map32
for (const len of [0, 1, 15, 16, 65536]) {
  const o = {};
  for (let i = 0; i < len; i++) o["k" + i] = i;
  note("map size " + len, o);
}
note("map nested", { a: { b: { c: [1, { d: "e" }] } }, bin: Buffer.from("hi") });

// extension types: timestamps (notepack encodes Date), fixext 1/2/4/8/16, ext8/16/32
note("date timestamp32", new Date(1700000000000));
note("date timestamp64", new Date(1700000000123));
note("date timestamp96", new Date(-1000));
for (const len of [1, 2, 4, 8, 16, 0, 3, 17, 255, 256, 65536]) {
  const d = new Uint8Array(len);
  for (let i = 0; i < len; i++) d[i] = i & 0xff;
  mp("ext length " + len, new ExtData(7, d));
}
mp("ext negative type", new ExtData(-100, new Uint8Array([1, 2, 3])));

// an emitter message as @socket.io/redis-emitter builds it
note("emitter message", ["emitter", { type: 2, data: ["time", new Date(1700000000000)], nsp: "/" },
  { rooms: ["room1"], flags: { volatile: true }, except: [] }]);

for (const v of out) process.stdout.write(JSON.stringify(v) + "\n");
