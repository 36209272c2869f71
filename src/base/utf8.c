/* utf8.c: UTF-8 decoding and validation, shared by every parser of names and strings. */
#include "wippy/base.h"

size_t wp_utf8_decode(const uint8_t *s, size_t len, uint32_t *cp) {
    if (len == 0)
        return 0;
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    /* 0x80..0xc1 are continuation bytes or overlong 2-byte leads; past 0xf4 is beyond U+10FFFF */
    size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
    if (n == 0 || n > len || s[0] > 0xf4)
        return 0;
    uint32_t c = s[0] & (0x7f >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < min[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0; /* overlong, out of range, or a surrogate */
    *cp = c;
    return n;
}

bool wp_utf8_valid(const uint8_t *s, size_t len) {
    uint32_t cp;
    for (size_t i = 0; i < len;) {
        size_t n = wp_utf8_decode(s + i, len - i, &cp);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}
