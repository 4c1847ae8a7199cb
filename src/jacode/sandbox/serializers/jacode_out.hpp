// ---- jacode: values to the results channel (file descriptor 3), wire format v1 (see jacode/sandbox/values.py) ----
// Values are written by their static C++ type: MultiPL-E's `==` is resolved on static types, and the trusted
// side needs to know them (an int is not a long, a float is not a double). A type without an encoding is
// written as '?' and never equals anything. Each record is built in memory and written with write(2), so a
// program that ends early keeps every record it completed.
#include <unistd.h>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <exception>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <typeinfo>
#include <utility>
#include <variant>
#include <vector>
#include <any>

namespace jacode {

// The helpers that are not templates are the same in every program. jacode compiles them once (sandbox/pch.py,
// with __jacode_out_object defined) and links that object into each program, which is then compiled with
// __jacode_out_linked defined and sees their declarations only: g++ does not compile them again for each
// program. Anywhere else this file is what it was, with inline definitions.
#ifdef __jacode_out_linked
void put_dec(std::string& o, long long v);
void put_int(std::string& o, char tag, long long v);
void put_bytes(std::string& o, const char* p, std::size_t n);
void put_hex(std::string& o, char tag, unsigned long long bits, int digits);
void put_unknown(std::string& o, const char* what);
void write_record(const std::string& r);
void write_error(int index, const char* what);
void write_exception(int index, const std::exception& e);
#else
#ifdef __jacode_out_object
#define __jacode_out_helper
#else
#define __jacode_out_helper inline
#endif

// Decimal digits, as std::to_string writes them. Not std::to_string itself: its templates (one per integer type,
// and the std::string operator+ around them) cost g++ ~5% of each program's compile at -O0.
__jacode_out_helper void put_dec(std::string& o, long long v) {
    char buf[24];
    char* end = buf + sizeof buf;
    char* p = end;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        *--p = char('0' + (int)(u % 10));
        u /= 10;
    } while (u != 0);
    if (v < 0) *--p = '-';
    o.append(p, (std::size_t)(end - p));
}

__jacode_out_helper void put_int(std::string& o, char tag, long long v) {
    o += tag;
    put_dec(o, v);
    o += ';';
}

__jacode_out_helper void put_bytes(std::string& o, const char* p, std::size_t n) {
    o += 's';
    put_dec(o, (long long)n);
    o += ':';
    o.append(p, n);
}

__jacode_out_helper void put_hex(std::string& o, char tag, unsigned long long bits, int digits) {
    static const char hex[] = "0123456789abcdef";
    o += tag;
    for (int i = digits - 1; i >= 0; --i) o += hex[(bits >> (4 * i)) & 15];
    o += ';';
}

__jacode_out_helper void put_unknown(std::string& o, const char* what) {
    o += '?';
    put_bytes(o, what, std::strlen(what));
}

__jacode_out_helper void write_record(const std::string& r) {
    const char* p = r.data();
    std::size_t left = r.size();
    while (left > 0) {
        ssize_t n = ::write(3, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // the channel is gone: nothing more can be reported
        p += n;
        left -= (std::size_t)n;
    }
}

// An error record: the message, cut to 2000 bytes.
__jacode_out_helper void write_error(int index, const char* what) {
    std::string r;
    r += 'E';
    put_dec(r, index);
    r += ' ';
    std::size_t n = std::strlen(what);
    put_bytes(r, what, n < 2000 ? n : 2000);
    r += '\n';
    write_record(r);
}

// The error record of an exception: its dynamic type's name, ": ", what().
__jacode_out_helper void write_exception(int index, const std::exception& e) {
    std::string m;
    m += typeid(e).name();
    m += ": ";
    m += e.what();
    write_error(index, m.c_str());
}
#undef __jacode_out_helper
#endif  // __jacode_out_linked

// Primary template: no encoding for this type.
template <class T, class = void>
struct Emit {
    static void put(std::string& o, const T&) { put_unknown(o, typeid(T).name()); }
};

template <class T>
void put(std::string& o, const T& v) { Emit<T>::put(o, v); }

// Arithmetic types. Integral types narrower than int promote to int in ==, so they are written as int.
template <> struct Emit<bool> { static void put(std::string& o, bool v) { o += v ? "b1" : "b0"; } };
template <> struct Emit<char> { static void put(std::string& o, char v) { put_int(o, 'c', v); } };
template <> struct Emit<signed char> { static void put(std::string& o, signed char v) { put_int(o, 'i', v); } };
template <> struct Emit<unsigned char> { static void put(std::string& o, unsigned char v) { put_int(o, 'i', v); } };
template <> struct Emit<short> { static void put(std::string& o, short v) { put_int(o, 'i', v); } };
template <> struct Emit<unsigned short> {
    static void put(std::string& o, unsigned short v) { put_int(o, 'i', v); }
};
template <> struct Emit<int> { static void put(std::string& o, int v) { put_int(o, 'i', v); } };
template <> struct Emit<long> { static void put(std::string& o, long v) { put_int(o, 'l', v); } };
template <> struct Emit<long long> { static void put(std::string& o, long long v) { put_int(o, 'l', v); } };
// Unsigned types are written as 64-bit values (MultiPL-E never returns them); one that does not fit is '?'.
template <class U>
struct EmitUnsigned {
    static void put(std::string& o, U v) {
        if ((unsigned long long)v > 0x7fffffffffffffffULL) put_unknown(o, "unsigned value beyond int64");
        else put_int(o, 'l', (long long)v);
    }
};
template <> struct Emit<unsigned int> : EmitUnsigned<unsigned int> {};
template <> struct Emit<unsigned long> : EmitUnsigned<unsigned long> {};
template <> struct Emit<unsigned long long> : EmitUnsigned<unsigned long long> {};
// 128-bit integers: g++ gives this type to an integer literal too large for long (MultiPL-E has one, mbpp_67).
// Written as an unbounded integer ('g'), compared by value like any integer.
template <class I>
struct EmitInt128 {
    static void put(std::string& o, I v) {
        bool neg = v < 0;
        unsigned __int128 u = neg ? (unsigned __int128)0 - (unsigned __int128)v : (unsigned __int128)v;
        std::string digits;
        do {
            digits += char('0' + (int)(u % 10));
            u /= 10;
        } while (u != 0);
        o += 'g';
        if (neg) o += '-';
        o.append(digits.rbegin(), digits.rend());
        o += ';';
    }
};
template <> struct Emit<__int128> : EmitInt128<__int128> {};
template <> struct Emit<unsigned __int128> : EmitInt128<unsigned __int128> {};
template <> struct Emit<float> {
    static void put(std::string& o, float v) {
        std::uint32_t bits;
        std::memcpy(&bits, &v, sizeof bits);
        put_hex(o, 'f', bits, 8);
    }
};
template <> struct Emit<double> {
    static void put(std::string& o, double v) {
        std::uint64_t bits;
        std::memcpy(&bits, &v, sizeof bits);
        put_hex(o, 'd', bits, 16);
    }
};

// Strings: std::string as its raw bytes; C strings up to their NUL, as std::string == const char* compares.
template <class Tr, class A>
struct Emit<std::basic_string<char, Tr, A>> {
    static void put(std::string& o, const std::basic_string<char, Tr, A>& v) { put_bytes(o, v.data(), v.size()); }
};
template <> struct Emit<const char*> {
    static void put(std::string& o, const char* v) {
        if (v == nullptr) put_unknown(o, "null char pointer");
        else put_bytes(o, v, std::strlen(v));
    }
};
template <> struct Emit<char*> { static void put(std::string& o, char* v) { Emit<const char*>::put(o, v); } };
template <std::size_t N>
struct Emit<char[N]> { static void put(std::string& o, const char (&v)[N]) { Emit<const char*>::put(o, v); } };

// Containers.
template <class T, class A>
struct Emit<std::vector<T, A>> {
    static void put(std::string& o, const std::vector<T, A>& v) {
        o += 'L';
        put_dec(o, (long long)v.size());
        o += ':';
        for (const auto& x : v) jacode::put<T>(o, x);
    }
};
template <class K, class V, class C, class A>
struct Emit<std::map<K, V, C, A>> {
    static void put(std::string& o, const std::map<K, V, C, A>& m) {
        o += 'M';
        put_dec(o, (long long)m.size());
        o += ':';
        for (const auto& kv : m) {
            jacode::put<K>(o, kv.first);
            jacode::put<V>(o, kv.second);
        }
    }
};
template <class... T>
struct Emit<std::tuple<T...>> {
    static void put(std::string& o, const std::tuple<T...>& t) {
        o += 'T';
        put_dec(o, (long long)sizeof...(T));
        o += ':';
        std::apply([&o](const auto&... x) { (jacode::put(o, x), ...); }, t);
    }
};
template <class A, class B>
struct Emit<std::pair<A, B>> {
    static void put(std::string& o, const std::pair<A, B>& p) {
        o += "T2:";
        jacode::put<A>(o, p.first);
        jacode::put<B>(o, p.second);
    }
};
template <class T>
struct Emit<std::optional<T>> {
    static void put(std::string& o, const std::optional<T>& v) {
        if (!v) {
            o += 'o';
        } else {
            o += 'O';
            jacode::put<T>(o, *v);
        }
    }
};
template <> struct Emit<std::nullopt_t> { static void put(std::string& o, const std::nullopt_t&) { o += 'N'; } };
template <class... T>
struct Emit<std::variant<T...>> {
    static void put(std::string& o, const std::variant<T...>& v) {
        if (v.valueless_by_exception()) {
            put_unknown(o, "valueless variant");
            return;
        }
        o += 'V';
        put_dec(o, (long long)v.index());
        o += ':';
        std::visit([&o](const auto& x) { jacode::put(o, x); }, v);
    }
};
// std::any has no operator==: MultiPL-E's comparisons with it never compile.
template <> struct Emit<std::any> { static void put(std::string& o, const std::any&) { put_unknown(o, "std::any"); } };

// One alternative of a MultiPL-E `Union_...` type, written like a variant.
template <class T>
void put_alternative(std::string& o, int index, const T& v) {
    o += 'V';
    put_dec(o, (long long)index);
    o += ':';
    jacode::put<T>(o, v);
}

// Candidate side: evaluate one check (a lambda returning candidate(ARGS)) and write its value or its exception.
template <class F>
void check(int index, F&& f) {
    std::string r;
    try {
        auto&& v = f();
        r += 'R';
        put_dec(r, index);
        r += ' ';
        jacode::put(r, v);
        r += '\n';
    } catch (const std::exception& e) {
        write_exception(index, e);
        return;
    } catch (...) {
        write_error(index, "unknown exception");
        return;
    }
    write_record(r);
}

// Expected side: the value of EXPECTED as the comparison with a result of type R sees it. By default that
// is EXPECTED itself; a MultiPL-E Union result type specialises this (the alternative its operator== picks).
template <class R, class = void>
struct ExpectedAs {
    template <class E>
    static void put(std::string& o, const E& e) { jacode::put<E>(o, e); }
};

template <class R, class E>
void expected(int index, const E& e) {
    std::string r;
    r += 'R';
    put_dec(r, index);
    r += ' ';
    ExpectedAs<R>::put(r, e);
    r += '\n';
    write_record(r);
}

template <class F> struct result_of;
template <class R, class... A> struct result_of<R (*)(A...)> { using type = R; };

}  // namespace jacode
