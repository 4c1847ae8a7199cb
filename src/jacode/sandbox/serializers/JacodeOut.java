// ---- jacode: values to the results channel (file descriptor 3), wire format v1 (see jacode/sandbox/values.py) ----
// Values are written by their runtime class (every value reaches here boxed): Long.equals(Integer) is false,
// so a Long ('l') and an Integer ('i') must stay apart. A value without an encoding is written as '?' and
// never equals anything. Each record is built in memory and written at once, so a program that ends early
// keeps every record it completed.
import java.io.ByteArrayOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.Map;
import java.util.Optional;

final class JacodeOut {
    private static final int MAX_DEPTH = 64;
    private static OutputStream out;

    private JacodeOut() {}

    private static synchronized void write(ByteArrayOutputStream record) {
        try {
            if (out == null) {
                // Append mode: opening /proc/self/fd/3 makes a new open file; it must not truncate what the
                // channel already holds nor write from offset 0.
                out = new FileOutputStream("/proc/self/fd/3", true);
            }
            record.writeTo(out);
            out.flush();
        } catch (IOException e) {
            // The channel is gone: nothing more can be reported.
        }
    }

    public static void result(int index, Object value) {
        ByteArrayOutputStream r = new ByteArrayOutputStream();
        try {
            ascii(r, "R" + index + " ");
            put(r, value, 0);
            r.write('\n');
        } catch (Throwable t) {  // e.g. a toString or iterator of the candidate's own class that throws
            error(index, t);
            return;
        }
        write(r);
    }

    public static void error(int index, Throwable t) {
        ByteArrayOutputStream r = new ByteArrayOutputStream();
        String what;
        try {
            what = t.getClass().getName() + ": " + t.getMessage();
        } catch (Throwable u) {
            what = t.getClass().getName();
        }
        if (what.length() > 2000) what = what.substring(0, 2000);
        ascii(r, "E" + index + " ");
        string(r, what);
        r.write('\n');
        write(r);
    }

    private static void ascii(ByteArrayOutputStream o, String s) {
        for (int i = 0; i < s.length(); i++) o.write(s.charAt(i));
    }

    // UTF-16 to UTF-8 by hand, lone surrogates included (as 3-byte sequences): String.getBytes would replace
    // them with '?', making two different strings equal.
    private static void string(ByteArrayOutputStream o, String s) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            int c = s.charAt(i);
            if (Character.isHighSurrogate((char) c) && i + 1 < s.length()
                    && Character.isLowSurrogate(s.charAt(i + 1))) {
                c = Character.toCodePoint((char) c, s.charAt(++i));
            }
            if (c < 0x80) {
                b.write(c);
            } else if (c < 0x800) {
                b.write(0xc0 | (c >> 6));
                b.write(0x80 | (c & 0x3f));
            } else if (c < 0x10000) {
                b.write(0xe0 | (c >> 12));
                b.write(0x80 | ((c >> 6) & 0x3f));
                b.write(0x80 | (c & 0x3f));
            } else {
                b.write(0xf0 | (c >> 18));
                b.write(0x80 | ((c >> 12) & 0x3f));
                b.write(0x80 | ((c >> 6) & 0x3f));
                b.write(0x80 | (c & 0x3f));
            }
        }
        ascii(o, "s" + b.size() + ":");
        o.writeBytes(b.toByteArray());
    }

    private static void unknown(ByteArrayOutputStream o, String what) {
        o.write('?');
        string(o, what);
    }

    private static void hex(ByteArrayOutputStream o, char tag, long bits, int digits) {
        String h = Long.toHexString(bits);
        StringBuilder s = new StringBuilder().append(tag);
        for (int i = h.length(); i < digits; i++) s.append('0');
        ascii(o, s.append(h).append(';').toString());
    }

    // javatuples: Unit..Decade only (KeyValue and LabelValue are 2-tuples of other classes, never equal to
    // a Pair); the size tells the class.
    private static boolean javatuple(Object v) {
        if (!(v instanceof org.javatuples.Tuple)) return false;
        switch (v.getClass().getName()) {
            case "org.javatuples.Unit": case "org.javatuples.Pair": case "org.javatuples.Triplet":
            case "org.javatuples.Quartet": case "org.javatuples.Quintet": case "org.javatuples.Sextet":
            case "org.javatuples.Septet": case "org.javatuples.Octet": case "org.javatuples.Ennead":
            case "org.javatuples.Decade":
                return true;
            default:
                return false;
        }
    }

    private static void put(ByteArrayOutputStream o, Object v, int depth) {
        if (depth > MAX_DEPTH) {
            unknown(o, "nested too deep");
        } else if (v == null) {
            o.write('n');
        } else if (v instanceof Boolean) {
            ascii(o, ((Boolean) v) ? "b1" : "b0");
        } else if (v instanceof Integer) {
            ascii(o, "i" + v + ";");
        } else if (v instanceof Long) {
            ascii(o, "l" + v + ";");
        } else if (v instanceof Character) {
            ascii(o, "c" + (int) (Character) v + ";");
        } else if (v instanceof Float) {
            hex(o, 'f', Float.floatToRawIntBits((Float) v) & 0xffffffffL, 8);
        } else if (v instanceof Double) {
            hex(o, 'd', Double.doubleToRawLongBits((Double) v), 16);
        } else if (v instanceof String) {
            string(o, (String) v);
        } else if (v instanceof List) {
            // Copy first: the count written must be the number of elements written.
            Object[] items = ((List<?>) v).toArray();
            ascii(o, "L" + items.length + ":");
            for (Object x : items) put(o, x, depth + 1);
        } else if (v instanceof Map) {
            Object[] entries = ((Map<?, ?>) v).entrySet().toArray();
            ascii(o, "M" + entries.length + ":");
            for (Object e : entries) {
                put(o, ((Map.Entry<?, ?>) e).getKey(), depth + 1);
                put(o, ((Map.Entry<?, ?>) e).getValue(), depth + 1);
            }
        } else if (v instanceof Optional) {
            Optional<?> opt = (Optional<?>) v;
            if (opt.isPresent()) {
                o.write('O');
                put(o, opt.get(), depth + 1);
            } else {
                o.write('o');
            }
        } else if (javatuple(v)) {
            List<Object> items = ((org.javatuples.Tuple) v).toList();
            ascii(o, "T" + items.size() + ":");
            for (Object x : items) put(o, x, depth + 1);
        } else {
            unknown(o, v.getClass().getName());
        }
    }
}
