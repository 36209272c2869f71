/* wat_num.c: integer and float literals of the text format, with exact round-to-nearest-even. */
#include <string.h>

#include "wat_internal.h"

/* ---- Digit runs ---------------------------------------------------------------------------- */

static int digit_value(char c, bool hex) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (hex && c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (hex && c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Scans digit ('_'? digit)* from s; returns the end, or NULL if the run is empty or an '_' is
 * not between two digits. */
static const char *scan_digits(const char *s, const char *end, bool hex) {
    if (s >= end || digit_value(*s, hex) < 0)
        return NULL;
    s++;
    while (s < end) {
        if (*s == '_') {
            if (s + 1 >= end || digit_value(s[1], hex) < 0)
                return NULL;
            s++;
        } else if (digit_value(*s, hex) < 0) {
            break;
        }
        s++;
    }
    return s;
}

static bool has_prefix(const char *s, const char *end, const char *prefix) {
    size_t n = strlen(prefix);
    return (size_t)(end - s) >= n && memcmp(s, prefix, n) == 0;
}

/* The value of a whole digit run; *overflow set if it is 2^64 or more. */
static uint64_t run_value(const char *s, const char *end, bool hex, bool *overflow) {
    uint64_t v = 0;
    unsigned base = hex ? 16 : 10;
    *overflow = false;
    for (; s < end; s++) {
        if (*s == '_')
            continue;
        uint64_t d = (uint64_t)digit_value(*s, hex);
        if (v > (UINT64_MAX - d) / base)
            *overflow = true;
        v = v * base + d;
    }
    return v;
}

/* An unsigned number without sign: decimal or 0x hex. */
static wp_wat_num parse_unsigned(const char *s, const char *end, uint64_t *out, bool *overflow) {
    bool hex = has_prefix(s, end, "0x");
    if (hex)
        s += 2;
    const char *e = scan_digits(s, end, hex);
    if (!e || e != end)
        return WP_WAT_NUM_SYNTAX;
    *out = run_value(s, end, hex, overflow);
    return WP_WAT_NUM_OK;
}

wp_wat_num wp__wat_uint(const char *s, size_t len, unsigned bits, uint64_t *out) {
    bool overflow;
    uint64_t v;
    if (parse_unsigned(s, s + len, &v, &overflow) != WP_WAT_NUM_OK)
        return WP_WAT_NUM_SYNTAX;
    if (overflow || (bits < 64 && v >> bits))
        return WP_WAT_NUM_RANGE;
    *out = v;
    return WP_WAT_NUM_OK;
}

wp_wat_num wp__wat_int(const char *s, size_t len, unsigned bits, uint64_t *out) {
    const char *end = s + len;
    bool neg = false;
    if (s < end && (*s == '+' || *s == '-')) {
        neg = *s == '-';
        s++;
    }
    bool overflow;
    uint64_t v;
    if (parse_unsigned(s, end, &v, &overflow) != WP_WAT_NUM_OK)
        return WP_WAT_NUM_SYNTAX;
    uint64_t mask = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
    uint64_t neg_limit = UINT64_C(1) << (bits - 1); /* magnitude of the most negative value */
    if (overflow || v > mask || (neg && v > neg_limit))
        return WP_WAT_NUM_RANGE;
    *out = (neg ? (uint64_t)0 - v : v) & mask;
    return WP_WAT_NUM_OK;
}

/* ---- Rounding ------------------------------------------------------------------------------ */

/* The shape of an IEEE binary format. */
typedef struct fmt {
    int frac_bits; /* stored fraction bits: 23 or 52 */
    int bias;      /* 127 or 1023 */
    int max_biased;
    int sign_bit; /* 31 or 63 */
} fmt;

static const fmt F32 = {23, 127, 255, 31};
static const fmt F64 = {52, 1023, 2047, 63};

static int clz64(uint64_t v) {
    int n = 0;
    while (!(v & (UINT64_C(1) << 63))) {
        v <<= 1;
        n++;
    }
    return n;
}

/* Rounds m * 2^e (plus a nonzero amount below m's last bit if sticky) to nearest-even in
 * format f. m != 0; e is bounded by the callers to a few thousand either way. Returns false if
 * the result overflows to infinity. */
static bool round_to(const fmt *f, uint64_t m, long e, bool sticky, bool neg, uint64_t *bits) {
    int z = clz64(m);
    m <<= z;
    e -= z;
    long top = e + 63; /* exponent of m's leading bit */
    long emin = 1 - f->bias;
    long ulp = (top > emin ? top : emin) - f->frac_bits;
    long shift = ulp - e; /* low bits of m that fall below the last kept bit */
    uint64_t kept;
    bool half;
    bool rest;
    if (shift > 64) {
        kept = 0;
        half = false;
        rest = true;
    } else if (shift == 64) {
        kept = 0;
        half = (m >> 63) != 0;
        rest = sticky || (m << 1) != 0;
    } else {
        kept = m >> shift;
        half = (m >> (shift - 1)) & 1; /* shift >= 11 here: the normal case drops 63 - frac */
        rest = sticky || (m & ((UINT64_C(1) << (shift - 1)) - 1)) != 0;
    }
    if (half && (rest || (kept & 1)))
        kept++;
    if (kept >> (f->frac_bits + 1)) { /* rounding carried into a new leading bit */
        kept >>= 1;
        ulp++;
    }
    uint64_t sign = neg ? UINT64_C(1) << f->sign_bit : 0;
    uint64_t hidden = UINT64_C(1) << f->frac_bits;
    if (kept < hidden) { /* subnormal or zero */
        *bits = sign | kept;
        return true;
    }
    long biased = ulp + f->frac_bits + f->bias;
    if (biased >= f->max_biased)
        return false;
    *bits = sign | ((uint64_t)biased << f->frac_bits) | (kept - hidden);
    return true;
}

/* ---- Big integers for decimal literals ------------------------------------------------------ */

/* Enough for 10^(DEC_DIGITS + 401) shifted left by 64 bits: about 4,060 of 5,120 bits. */
#define BIG_LIMBS 160
/* Significant decimal digits kept: any digits past these only matter as "nonzero", because an
 * exact halfway point between two f64 values has at most 767 significant digits. */
#define DEC_DIGITS 800

typedef struct big {
    uint32_t w[BIG_LIMBS]; /* little-endian limbs */
    int n;                 /* limbs in use; w[n-1] != 0 unless n == 0 */
} big;

static void big_set(big *b, uint32_t v) {
    b->n = v ? 1 : 0;
    b->w[0] = v;
}

/* b = b * m + add. The callers' sizes are bounded so the result always fits. */
static void big_mul_add(big *b, uint32_t m, uint32_t add) {
    uint64_t carry = add;
    for (int i = 0; i < b->n; i++) {
        uint64_t t = (uint64_t)b->w[i] * m + carry;
        b->w[i] = (uint32_t)t;
        carry = t >> 32;
    }
    if (carry && b->n < BIG_LIMBS)
        b->w[b->n++] = (uint32_t)carry;
}

static void big_pow10(big *b, int e) {
    for (; e >= 9; e -= 9)
        big_mul_add(b, 1000000000u, 0);
    static const uint32_t small[9] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000,
                                      100000000};
    big_mul_add(b, small[e], 0);
}

static int big_bits(const big *b) {
    if (b->n == 0)
        return 0;
    return (b->n - 1) * 32 + (64 - clz64(b->w[b->n - 1]));
}

static void big_shl(big *b, int s) {
    int limbs = s / 32;
    int bits = s % 32;
    int n = b->n + limbs + 1;
    for (int i = n - 1; i >= 0; i--) {
        int src = i - limbs;
        uint32_t hi = src >= 0 && src < b->n ? b->w[src] : 0;
        uint32_t lo = src - 1 >= 0 && src - 1 < b->n ? b->w[src - 1] : 0;
        b->w[i] = bits ? (hi << bits) | (lo >> (32 - bits)) : hi;
    }
    b->n = n;
    while (b->n > 0 && b->w[b->n - 1] == 0)
        b->n--;
}

static void big_shr1(big *b) {
    for (int i = 0; i < b->n; i++)
        b->w[i] = (b->w[i] >> 1) | (i + 1 < b->n ? b->w[i + 1] << 31 : 0);
    while (b->n > 0 && b->w[b->n - 1] == 0)
        b->n--;
}

static int big_cmp(const big *a, const big *b) {
    if (a->n != b->n)
        return a->n < b->n ? -1 : 1;
    for (int i = a->n - 1; i >= 0; i--)
        if (a->w[i] != b->w[i])
            return a->w[i] < b->w[i] ? -1 : 1;
    return 0;
}

static void big_sub(big *a, const big *b) { /* a >= b */
    int64_t borrow = 0;
    for (int i = 0; i < a->n; i++) {
        int64_t t = (int64_t)a->w[i] - (i < b->n ? b->w[i] : 0) - borrow;
        borrow = t < 0;
        a->w[i] = (uint32_t)(t + (borrow ? (INT64_C(1) << 32) : 0));
    }
    while (a->n > 0 && a->w[a->n - 1] == 0)
        a->n--;
}

/* num / den as q * 2^(*e) with q in [2^62, 2^64) and *sticky for a nonzero remainder.
 * Both are nonzero. num is destroyed. */
static uint64_t big_div(big *num, big *den, long *e, bool *sticky) {
    int k = big_bits(den) - big_bits(num) + 63;
    if (k > 0)
        big_shl(num, k);
    else if (k < 0)
        big_shl(den, -k);
    *e = -k;
    big_shl(den, 63);
    uint64_t q = 0;
    for (int i = 63; i >= 0; i--) {
        if (big_cmp(num, den) >= 0) {
            big_sub(num, den);
            q |= UINT64_C(1) << i;
        }
        big_shr1(den);
    }
    *sticky = num->n != 0;
    return q;
}

/* ---- Float literals ------------------------------------------------------------------------ */

/* Significant digits of a decimal literal, with the decimal point folded into exp10. */
typedef struct decimal {
    char digits[DEC_DIGITS + 1];
    int n;
    long exp10; /* value = digits (as an integer) * 10^exp10 */
} decimal;

static void dec_push(decimal *d, char c, bool after_point) {
    if (d->n == 0 && c == '0') { /* leading zero: only the point position moves */
        if (after_point)
            d->exp10--;
        return;
    }
    if (d->n < DEC_DIGITS) {
        d->digits[d->n++] = c;
        if (after_point)
            d->exp10--;
    } else {
        if (!after_point)
            d->exp10++;
        if (c != '0')
            d->digits[DEC_DIGITS] = '1'; /* sticky digit past the kept ones */
    }
}

static void dec_run(decimal *d, const char *s, const char *end, bool after_point) {
    for (; s < end; s++)
        if (*s != '_')
            dec_push(d, *s, after_point);
}

/* Reads "sign? digits" of an exponent, saturating far beyond any float's range. */
static const char *scan_exponent(const char *s, const char *end, long *out) {
    bool neg = false;
    if (s < end && (*s == '+' || *s == '-')) {
        neg = *s == '-';
        s++;
    }
    const char *e = scan_digits(s, end, false);
    if (!e)
        return NULL;
    long v = 0;
    for (; s < e; s++)
        if (*s != '_' && v < 100000000)
            v = v * 10 + (*s - '0');
    *out = neg ? -v : v;
    return e;
}

static wp_wat_num round_decimal(decimal *d, const fmt *f, bool neg, uint64_t *bits) {
    if (d->digits[DEC_DIGITS] == '1') { /* sticky: one more nonzero digit below the kept ones */
        d->digits[d->n++] = '1';
        d->exp10--;
    }
    if (d->n == 0) {
        *bits = neg ? UINT64_C(1) << f->sign_bit : 0;
        return WP_WAT_NUM_OK;
    }
    long point = d->n + d->exp10; /* value is in [10^(point-1), 10^point) */
    if (point > 310)
        return WP_WAT_NUM_RANGE;
    if (point < -400) { /* far below half the smallest subnormal: a signed zero */
        *bits = neg ? UINT64_C(1) << f->sign_bit : 0;
        return WP_WAT_NUM_OK;
    }
    /* Here exp10 is in [-(DEC_DIGITS + 401), 310): both powers fit in a big. */
    big a;
    big b;
    big_set(&a, 0);
    for (int i = 0; i < d->n; i++)
        big_mul_add(&a, 10, (uint32_t)(d->digits[i] - '0'));
    big_set(&b, 1);
    if (d->exp10 > 0)
        big_pow10(&a, (int)d->exp10);
    else
        big_pow10(&b, (int)-d->exp10);
    long e;
    bool sticky;
    uint64_t q = big_div(&a, &b, &e, &sticky);
    return round_to(f, q, e, sticky, neg, bits) ? WP_WAT_NUM_OK : WP_WAT_NUM_RANGE;
}

static wp_wat_num parse_decimal(const char *s, const char *end, const fmt *f, bool neg,
                                uint64_t *bits) {
    decimal d;
    d.n = 0;
    d.exp10 = 0;
    d.digits[DEC_DIGITS] = '0';
    const char *e = scan_digits(s, end, false);
    if (!e)
        return WP_WAT_NUM_SYNTAX;
    dec_run(&d, s, e, false);
    s = e;
    if (s < end && *s == '.') {
        s++;
        e = scan_digits(s, end, false);
        if (e) {
            dec_run(&d, s, e, true);
            s = e;
        }
    }
    if (s < end && (*s == 'e' || *s == 'E')) {
        long x;
        s = scan_exponent(s + 1, end, &x);
        if (!s)
            return WP_WAT_NUM_SYNTAX;
        d.exp10 += x;
    }
    if (s != end)
        return WP_WAT_NUM_SYNTAX;
    return round_decimal(&d, f, neg, bits);
}

/* Hex mantissa digits: the first 16 significant ones are kept in m, the rest only move the
 * exponent (before the point) or the sticky bit. */
static void hex_run(const char *s, const char *end, bool after_point, uint64_t *m, long *e,
                    bool *sticky) {
    for (; s < end; s++) {
        if (*s == '_')
            continue;
        uint64_t dv = (uint64_t)digit_value(*s, true);
        if (*m >> 60 == 0) {
            *m = *m << 4 | dv;
            if (after_point)
                *e -= 4;
        } else {
            if (!after_point)
                *e += 4;
            if (dv)
                *sticky = true;
        }
    }
}

static wp_wat_num parse_hexfloat(const char *s, const char *end, const fmt *f, bool neg,
                                 uint64_t *bits) {
    uint64_t m = 0;
    long e = 0;
    bool sticky = false;
    const char *d = scan_digits(s, end, true);
    if (!d)
        return WP_WAT_NUM_SYNTAX;
    hex_run(s, d, false, &m, &e, &sticky);
    s = d;
    if (s < end && *s == '.') {
        s++;
        d = scan_digits(s, end, true);
        if (d) {
            hex_run(s, d, true, &m, &e, &sticky);
            s = d;
        }
    }
    if (s < end && (*s == 'p' || *s == 'P')) {
        long x;
        s = scan_exponent(s + 1, end, &x);
        if (!s)
            return WP_WAT_NUM_SYNTAX;
        e += x;
    }
    if (s != end)
        return WP_WAT_NUM_SYNTAX;
    if (m == 0) {
        *bits = neg ? UINT64_C(1) << f->sign_bit : 0;
        return WP_WAT_NUM_OK;
    }
    if (e > 100000) /* saturated exponents: far outside either way, keep the arithmetic small */
        e = 100000;
    if (e < -100000)
        e = -100000;
    return round_to(f, m, e, sticky, neg, bits) ? WP_WAT_NUM_OK : WP_WAT_NUM_RANGE;
}

static wp_wat_num parse_nan(const char *s, const char *end, const fmt *f, uint64_t sign,
                            uint64_t *bits) {
    uint64_t exp_all = (uint64_t)f->max_biased << f->frac_bits;
    uint64_t payload = UINT64_C(1) << (f->frac_bits - 1); /* canonical: quiet bit only */
    if (s != end) {
        if (!has_prefix(s, end, ":0x"))
            return WP_WAT_NUM_SYNTAX;
        const char *d = s + 3;
        if (scan_digits(d, end, true) != end)
            return WP_WAT_NUM_SYNTAX;
        bool overflow;
        payload = run_value(d, end, true, &overflow);
        if (overflow || payload == 0 || payload >> f->frac_bits)
            return WP_WAT_NUM_RANGE;
    }
    *bits = sign | exp_all | payload;
    return WP_WAT_NUM_OK;
}

wp_wat_num wp__wat_float(const char *s, size_t len, bool is_f64, uint64_t *out) {
    const fmt *f = is_f64 ? &F64 : &F32;
    const char *end = s + len;
    bool neg = false;
    if (s < end && (*s == '+' || *s == '-')) {
        neg = *s == '-';
        s++;
    }
    uint64_t sign = neg ? UINT64_C(1) << f->sign_bit : 0;
    if (end - s == 3 && memcmp(s, "inf", 3) == 0) {
        *out = sign | (uint64_t)f->max_biased << f->frac_bits;
        return WP_WAT_NUM_OK;
    }
    if (has_prefix(s, end, "nan"))
        return parse_nan(s + 3, end, f, sign, out);
    if (has_prefix(s, end, "0x"))
        return parse_hexfloat(s + 2, end, f, neg, out);
    return parse_decimal(s, end, f, neg, out);
}
