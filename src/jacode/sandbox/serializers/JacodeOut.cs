// ---- jacode: values to the results channel (file descriptor 3), wire format v1 (see jacode/sandbox/values.py) ----
// Values are written by their runtime type (every value reaches here as object): long.Equals(int) is false,
// so a long ('l') and an int ('i') must stay apart. The order of the type tests is JacodeEquals' order
// (string, dictionary, enumerable, tuple). A value without an encoding is written as '?' and never equals
// anything. Each record is built in memory and written at once, so a program that ends early keeps every
// record it completed.
using System;
using System.Collections;
using System.Diagnostics;
using System.IO;

static class JacodeOut {
    const int MaxDepth = 64;
    static Stream output;
    static int current = -1;

    // A failed Debug.Assert in the candidate's own code: Mono would print nothing and carry on. It fails the
    // check being evaluated and ends the program, as the fail-fast listener did before.
    class FailFast : TraceListener {
        public override void Write(string m) {}
        public override void WriteLine(string m) {}
        public override void Fail(string m) { Fail(m, null); }
        public override void Fail(string m, string d) {
            if (current >= 0) WriteError(current, "Debug.Assert failed: " + m + " " + d);
            Environment.Exit(1);
        }
    }

    public static void Start() {
        Trace.Listeners.Clear();
        Trace.Listeners.Add(new FailFast());
    }

    public static void Begin(int index) { current = index; }

    static void Write(MemoryStream record) {
        try {
            if (output == null) {
                // Append: a new open file on the channel must not truncate it nor write from offset 0.
                output = new FileStream("/proc/self/fd/3", FileMode.Append, FileAccess.Write);
            }
            record.WriteTo(output);
            output.Flush();
        } catch (Exception) {
            // The channel is gone: nothing more can be reported.
        }
    }

    public static void Result(int index, object value) {
        var r = new MemoryStream();
        try {
            Ascii(r, "R" + index + " ");
            Put(r, value, 0);
            r.WriteByte((byte)'\n');
        } catch (Exception e) {  // e.g. an enumerator of the candidate's own type that throws
            Error(index, e);
            return;
        }
        current = -1;
        Write(r);
    }

    public static void Error(int index, Exception e) {
        string what;
        try {
            what = e.GetType().FullName + ": " + e.Message;
        } catch (Exception) {
            what = e.GetType().FullName;
        }
        WriteError(index, what);
    }

    static void WriteError(int index, string what) {
        current = -1;
        if (what.Length > 2000) what = what.Substring(0, 2000);
        var r = new MemoryStream();
        Ascii(r, "E" + index + " ");
        Str(r, what);
        r.WriteByte((byte)'\n');
        Write(r);
    }

    static void Ascii(MemoryStream o, string s) {
        foreach (char c in s) o.WriteByte((byte)c);
    }

    // UTF-16 to UTF-8 by hand, lone surrogates included (as 3-byte sequences): Encoding.UTF8 would replace
    // them with U+FFFD, making two different strings equal.
    static void Str(MemoryStream o, string s) {
        var b = new MemoryStream();
        for (int i = 0; i < s.Length; i++) {
            int c = s[i];
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) {
                c = char.ConvertToUtf32(s[i], s[i + 1]);
                i++;
            }
            if (c < 0x80) {
                b.WriteByte((byte)c);
            } else if (c < 0x800) {
                b.WriteByte((byte)(0xc0 | (c >> 6)));
                b.WriteByte((byte)(0x80 | (c & 0x3f)));
            } else if (c < 0x10000) {
                b.WriteByte((byte)(0xe0 | (c >> 12)));
                b.WriteByte((byte)(0x80 | ((c >> 6) & 0x3f)));
                b.WriteByte((byte)(0x80 | (c & 0x3f)));
            } else {
                b.WriteByte((byte)(0xf0 | (c >> 18)));
                b.WriteByte((byte)(0x80 | ((c >> 12) & 0x3f)));
                b.WriteByte((byte)(0x80 | ((c >> 6) & 0x3f)));
                b.WriteByte((byte)(0x80 | (c & 0x3f)));
            }
        }
        Ascii(o, "s" + b.Length + ":");
        b.WriteTo(o);
    }

    static void Unknown(MemoryStream o, string what) {
        o.WriteByte((byte)'?');
        Str(o, what);
    }

    static void Put(MemoryStream o, object v, int depth) {
        if (depth > MaxDepth) { Unknown(o, "nested too deep"); return; }
        if (v == null) { o.WriteByte((byte)'n'); return; }
        if (v is bool) { Ascii(o, (bool)v ? "b1" : "b0"); return; }
        if (v is int) { Ascii(o, "i" + ((int)v).ToString(System.Globalization.CultureInfo.InvariantCulture) + ";"); return; }
        if (v is long) { Ascii(o, "l" + ((long)v).ToString(System.Globalization.CultureInfo.InvariantCulture) + ";"); return; }
        if (v is char) { Ascii(o, "c" + (int)(char)v + ";"); return; }
        if (v is float) {
            int bits = BitConverter.ToInt32(BitConverter.GetBytes((float)v), 0);
            Ascii(o, "f" + ((uint)bits).ToString("x8") + ";");
            return;
        }
        if (v is double) {
            long bits = BitConverter.DoubleToInt64Bits((double)v);
            Ascii(o, "d" + ((ulong)bits).ToString("x16") + ";");
            return;
        }
        if (v is string) { Str(o, (string)v); return; }
        var dict = v as IDictionary;
        if (dict != null) {
            var keys = new ArrayList();
            var vals = new ArrayList();
            foreach (DictionaryEntry e in dict) { keys.Add(e.Key); vals.Add(e.Value); }
            Ascii(o, "M" + keys.Count + ":");
            for (int i = 0; i < keys.Count; i++) { Put(o, keys[i], depth + 1); Put(o, vals[i], depth + 1); }
            return;
        }
        var seq = v as IEnumerable;
        if (seq != null) {
            // Copy first: the count written must be the number of elements written.
            var items = new ArrayList();
            foreach (object x in seq) items.Add(x);
            Ascii(o, "L" + items.Count + ":");
            foreach (object x in items) Put(o, x, depth + 1);
            return;
        }
        var tuple = v as System.Runtime.CompilerServices.ITuple;
        if (tuple != null) {
            Ascii(o, "T" + tuple.Length + ":");
            for (int i = 0; i < tuple.Length; i++) Put(o, tuple[i], depth + 1);
            return;
        }
        Unknown(o, v.GetType().FullName);
    }
}

// Structural equality for the tests' .Equals(...) on collections (MultiPL-E issue 71: List.Equals is
// reference equality in .NET, so correct solutions could never pass); jacode's loader rewrites the tests'
// `.Equals(` to `.JacodeEquals(`. Compiled into both programs: the expected program type-checks the
// original comparisons with it, and completions compiled against it before may keep doing so.
static class JacodeEquality {
    public static bool JacodeEquals(this object a, object b) {
        if (a == null || b == null) return a == null && b == null;
        if (a is string || b is string) return a.Equals(b);
        var da = a as IDictionary; var db = b as IDictionary;
        if (da != null || db != null) {
            if (da == null || db == null || da.Count != db.Count) return false;
            foreach (DictionaryEntry e in da) {
                if (!db.Contains(e.Key) || !JacodeEquals(e.Value, db[e.Key])) return false;
            }
            return true;
        }
        var ea = a as IEnumerable; var eb = b as IEnumerable;
        if (ea != null || eb != null) {
            if (ea == null || eb == null) return false;
            var ia = ea.GetEnumerator(); var ib = eb.GetEnumerator();
            while (true) {
                bool ma = ia.MoveNext(), mb = ib.MoveNext();
                if (ma != mb) return false;
                if (!ma) return true;
                if (!JacodeEquals(ia.Current, ib.Current)) return false;
            }
        }
        var ta = a as System.Runtime.CompilerServices.ITuple; var tb = b as System.Runtime.CompilerServices.ITuple;
        if (ta != null && tb != null) {
            if (ta.Length != tb.Length) return false;
            for (int i = 0; i < ta.Length; i++) if (!JacodeEquals(ta[i], tb[i])) return false;
            return true;
        }
        return a.Equals(b);
    }
}
