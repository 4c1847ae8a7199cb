// ---- jacode: values to the results channel (file descriptor 3), wire format v1 (see jacode/sandbox/values.py) ----
// What assert.deepEqual (legacy mode) looks at is written: primitives, arrays (elements), plain objects (own
// enumerable string keys; prototypes are ignored by deepEqual). Anything else (Map, Set, Date, boxed
// primitives, functions, sparse arrays or arrays with extra properties, cycles) is '?': never equal to a
// MultiPL-E expected value, which is always built from literals. Each record is written with one writeSync, so
// a program that ends early keeps every record it completed.
const __jacode_out = (() => {
  const fs = require("fs");
  const MAX_DEPTH = 64;
  const isArray = Array.isArray;
  const keysOf = Object.keys;
  const hasOwn = Function.prototype.call.bind(Object.prototype.hasOwnProperty);
  const tagOf = Function.prototype.call.bind(Object.prototype.toString);
  const floatView = new DataView(new ArrayBuffer(8));

  function hex8(n) {
    return n.toString(16).padStart(8, "0");
  }

  // UTF-16 to UTF-8 by hand, lone surrogates included (as 3-byte sequences): Buffer.from would replace them
  // with U+FFFD, making two different strings equal.
  function utf8(s) {
    const b = [];
    for (let i = 0; i < s.length; i++) {
      let c = s.charCodeAt(i);
      if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d < 0xe000) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
        }
      }
      if (c < 0x80) b.push(c);
      else if (c < 0x800) b.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
      else if (c < 0x10000) b.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
      else b.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 0x3f), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
    }
    return Buffer.from(b);
  }

  function str(out, s) {
    const bytes = utf8(s);
    out.push(Buffer.from("s" + bytes.length + ":"), bytes);
  }

  function unknown(out, what) {
    out.push(Buffer.from("?"));
    str(out, what);
  }

  function put(out, v, depth) {
    if (depth > MAX_DEPTH) return unknown(out, "nested too deep");
    switch (typeof v) {
      case "undefined": return out.push(Buffer.from("u"));
      case "boolean": return out.push(Buffer.from(v ? "b1" : "b0"));
      case "number":
        floatView.setFloat64(0, v);
        return out.push(Buffer.from("d" + hex8(floatView.getUint32(0)) + hex8(floatView.getUint32(4)) + ";"));
      case "bigint": return out.push(Buffer.from("g" + v.toString() + ";"));
      case "string": return str(out, v);
      case "object": break;
      default: return unknown(out, typeof v);
    }
    if (v === null) return out.push(Buffer.from("n"));
    if (isArray(v)) {
      const n = v.length;
      const keys = keysOf(v);
      if (keys.length !== n) return unknown(out, "array with holes or extra properties");
      const items = [];
      for (let i = 0; i < n; i++) {
        if (!hasOwn(v, i)) return unknown(out, "array with holes or extra properties");
        items.push(v[i]);
      }
      out.push(Buffer.from("L" + n + ":"));
      for (const x of items) put(out, x, depth + 1);
      return;
    }
    const tag = tagOf(v);
    if (tag !== "[object Object]") return unknown(out, tag);
    const keys = keysOf(v);
    const vals = keys.map((k) => v[k]);
    out.push(Buffer.from("M" + keys.length + ":"));
    for (let i = 0; i < keys.length; i++) {
      str(out, keys[i]);
      put(out, vals[i], depth + 1);
    }
  }

  function write(chunks) {
    const buf = Buffer.concat(chunks);
    let off = 0;
    try {
      while (off < buf.length) off += fs.writeSync(3, buf, off, buf.length - off);
    } catch (e) {
      // The channel is gone: nothing more can be reported.
    }
  }

  function error(index, e) {
    let what;
    try {
      what = (e instanceof Error ? e.name + ": " + e.message : typeof e + ": " + String(e));
    } catch (u) {
      what = "unprintable exception";
    }
    const out = [Buffer.from("E" + index + " ")];
    str(out, what.slice(0, 2000));
    out.push(Buffer.from("\n"));
    write(out);
  }

  function result(index, v) {
    const out = [Buffer.from("R" + index + " ")];
    try {
      put(out, v, 0);
    } catch (e) {  // e.g. a getter of the candidate's own object that throws
      return error(index, e);
    }
    out.push(Buffer.from("\n"));
    write(out);
  }

  return { result, error };
})();
