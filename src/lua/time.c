/* time.c: the time module: durations (numbers of nanoseconds, strings like "1h30m", Duration
 * objects), sleep, after, timer, ticker, and Time values (now, unix, date, format). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "wippy/wasi.h"

#define NS_PER_US INT64_C(1000)
#define NS_PER_MS INT64_C(1000000)
#define NS_PER_S INT64_C(1000000000)
#define NS_PER_MIN (60 * NS_PER_S)
#define NS_PER_H (60 * NS_PER_MIN)

static char duration_meta;
static char time_meta;
static char timer_meta;

/* ---- Durations ------------------------------------------------------------------------------ */

static void push_duration(lua_State *L, int64_t ns) {
    int64_t *d = lua_newuserdatauv(L, sizeof *d, 0);
    *d = ns;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &duration_meta);
    lua_setmetatable(L, -2);
}

static int64_t *test_udata(lua_State *L, int idx, const char *key) {
    if (lua_type(L, idx) != LUA_TUSERDATA || !lua_getmetatable(L, idx))
        return NULL;
    lua_rawgetp(L, LUA_REGISTRYINDEX, key);
    bool same = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return same ? lua_touserdata(L, idx) : NULL;
}

/* The unit a duration suffix names, in ns; 0 if none. µ is U+00B5 or U+03BC in UTF-8. */
static int64_t unit_ns(const char *u, size_t n) {
    static const struct {
        const char *name;
        int64_t ns;
    } units[] = {{"ns", 1},         {"us", NS_PER_US},    {"\xc2\xb5s", NS_PER_US},
                 {"\xce\xbcs", NS_PER_US}, {"ms", NS_PER_MS}, {"s", NS_PER_S},
                 {"m", NS_PER_MIN}, {"h", NS_PER_H}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strlen(units[i].name) == n && memcmp(units[i].name, u, n) == 0)
            return units[i].ns;
    return 0;
}

/* One "<number><unit>" at *s; false on a syntax error or overflow. */
static bool parse_part(const char **s, double *total) {
    const char *p = *s;
    double whole = 0;
    double frac = 0;
    double scale = 1;
    bool digits = false;
    for (; *p >= '0' && *p <= '9'; p++, digits = true)
        whole = whole * 10 + (*p - '0');
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, digits = true) {
            frac = frac * 10 + (*p - '0');
            scale *= 10;
        }
    }
    const char *u = p;
    while (*p && !(*p >= '0' && *p <= '9') && *p != '.')
        p++;
    int64_t unit = unit_ns(u, (size_t)(p - u));
    if (!digits || unit == 0)
        return false;
    *total += (whole + frac / scale) * (double)unit;
    *s = p;
    return true;
}

bool wp__lua_parse_duration(const char *s, int64_t *out) {
    bool neg = *s == '-';
    if (*s == '-' || *s == '+')
        s++;
    if (strcmp(s, "0") == 0) {
        *out = 0;
        return true;
    }
    double total = 0;
    if (!*s)
        return false;
    while (*s)
        if (!parse_part(&s, &total))
            return false;
    if (total > 9.2e18)
        return false;
    *out = neg ? -(int64_t)total : (int64_t)total;
    return true;
}

/* Go's form: "1h2m3.5s", "1.5ms", "0s". */
static void format_duration(int64_t d, char *buf, size_t cap) {
    uint64_t u = d < 0 ? (uint64_t)0 - (uint64_t)d : (uint64_t)d;
    const char *sign = d < 0 ? "-" : "";
    char frac[16] = "";
    if (u == 0) {
        snprintf(buf, cap, "0s");
        return;
    }
    if (u < (uint64_t)NS_PER_S) {
        static const struct {
            uint64_t div;
            int digits;
            const char *name;
        } small[] = {{1, 0, "ns"}, {1000, 3, "\xc2\xb5s"}, {1000000, 6, "ms"}};
        int k = u < 1000 ? 0 : u < 1000000 ? 1 : 2;
        if (small[k].digits)
            snprintf(frac, sizeof frac, ".%0*llu", small[k].digits,
                     (unsigned long long)(u % small[k].div));
        for (size_t n = strlen(frac); n > 0 && (frac[n - 1] == '0' || frac[n - 1] == '.'); n--)
            frac[n - 1] = '\0';
        snprintf(buf, cap, "%s%llu%s%s", sign, (unsigned long long)(u / small[k].div), frac,
                 small[k].name);
        return;
    }
    uint64_t h = u / (uint64_t)NS_PER_H;
    uint64_t m = u / (uint64_t)NS_PER_MIN % 60;
    uint64_t s = u / (uint64_t)NS_PER_S % 60;
    snprintf(frac, sizeof frac, ".%09llu", (unsigned long long)(u % (uint64_t)NS_PER_S));
    for (size_t n = strlen(frac); n > 0 && (frac[n - 1] == '0' || frac[n - 1] == '.'); n--)
        frac[n - 1] = '\0';
    if (h)
        snprintf(buf, cap, "%s%lluh%llum%llu%ss", sign, (unsigned long long)h,
                 (unsigned long long)m, (unsigned long long)s, frac);
    else if (m)
        snprintf(buf, cap, "%s%llum%llu%ss", sign, (unsigned long long)m, (unsigned long long)s,
                 frac);
    else
        snprintf(buf, cap, "%s%llu%ss", sign, (unsigned long long)s, frac);
}

int64_t wp__lua_check_duration(lua_State *L, int idx) {
    int64_t *d;
    switch (lua_type(L, idx)) {
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx))
            return lua_tointeger(L, idx);
        return (int64_t)lua_tonumber(L, idx);
    case LUA_TSTRING: {
        int64_t ns;
        if (!wp__lua_parse_duration(lua_tostring(L, idx), &ns))
            luaL_argerror(L, idx,
                          lua_pushfstring(L, "invalid duration \"%s\"", lua_tostring(L, idx)));
        return ns;
    }
    default:
        if ((d = test_udata(L, idx, &duration_meta)) != NULL)
            return *d;
        luaL_typeerror(L, idx, "duration (number of nanoseconds, string or Duration)");
        return 0;
    }
}

/* time.parse_duration(v): Duration, or nil and an INVALID error. */
static int l_parse_duration(lua_State *L) {
    int64_t ns;
    if (lua_type(L, 1) == LUA_TSTRING) {
        if (!wp__lua_parse_duration(lua_tostring(L, 1), &ns))
            return wp__lua_failf(L, WP_ERR_INVALID, "invalid duration \"%s\"",
                                 lua_tostring(L, 1));
    } else if (lua_type(L, 1) == LUA_TNUMBER || test_udata(L, 1, &duration_meta)) {
        ns = wp__lua_check_duration(L, 1);
    } else {
        return wp__lua_failf(L, WP_ERR_INVALID, "invalid duration: a %s",
                             luaL_typename(L, 1));
    }
    push_duration(L, ns);
    return 1;
}

static int make_duration(lua_State *L, int64_t unit) {
    lua_Number n = luaL_checknumber(L, 1);
    if (lua_isinteger(L, 1) && (lua_Number)INT64_MAX / (lua_Number)unit > fabs(n))
        push_duration(L, lua_tointeger(L, 1) * unit);
    else
        push_duration(L, (int64_t)(n * (lua_Number)unit));
    return 1;
}

static int l_nanoseconds(lua_State *L) { return make_duration(L, 1); }
static int l_microseconds(lua_State *L) { return make_duration(L, NS_PER_US); }
static int l_milliseconds(lua_State *L) { return make_duration(L, NS_PER_MS); }
static int l_seconds(lua_State *L) { return make_duration(L, NS_PER_S); }
static int l_minutes(lua_State *L) { return make_duration(L, NS_PER_MIN); }
static int l_hours(lua_State *L) { return make_duration(L, NS_PER_H); }

static int64_t check_dur(lua_State *L) {
    int64_t *d = test_udata(L, 1, &duration_meta);
    if (!d)
        luaL_typeerror(L, 1, "Duration");
    return *d;
}

static int d_float(lua_State *L, int64_t unit) {
    lua_pushnumber(L, (lua_Number)check_dur(L) / (lua_Number)unit);
    return 1;
}
static int d_int(lua_State *L, int64_t unit) {
    lua_pushinteger(L, check_dur(L) / unit);
    return 1;
}
static int d_hours(lua_State *L) { return d_float(L, NS_PER_H); }
static int d_minutes(lua_State *L) { return d_float(L, NS_PER_MIN); }
static int d_seconds(lua_State *L) { return d_float(L, NS_PER_S); }
static int d_milliseconds(lua_State *L) { return d_int(L, NS_PER_MS); }
static int d_microseconds(lua_State *L) { return d_int(L, NS_PER_US); }
static int d_nanoseconds(lua_State *L) { return d_int(L, 1); }

static int d_tostring(lua_State *L) {
    char buf[64];
    format_duration(check_dur(L), buf, sizeof buf);
    lua_pushstring(L, buf);
    return 1;
}

/* Arithmetic and comparison mix Durations with numbers (nanoseconds) and strings. */
static int d_add(lua_State *L) {
    push_duration(L, wp__lua_check_duration(L, 1) + wp__lua_check_duration(L, 2));
    return 1;
}
static int d_sub(lua_State *L) {
    push_duration(L, wp__lua_check_duration(L, 1) - wp__lua_check_duration(L, 2));
    return 1;
}
static int d_mul(lua_State *L) {
    int dur = test_udata(L, 1, &duration_meta) ? 1 : 2;
    push_duration(L, (int64_t)((lua_Number)wp__lua_check_duration(L, dur) *
                               luaL_checknumber(L, 3 - dur)));
    return 1;
}
static int d_div(lua_State *L) {
    lua_Number by = luaL_checknumber(L, 2);
    luaL_argcheck(L, by != 0, 2, "division by zero");
    push_duration(L, (int64_t)((lua_Number)wp__lua_check_duration(L, 1) / by));
    return 1;
}
static int d_unm(lua_State *L) {
    push_duration(L, -check_dur(L));
    return 1;
}
static int d_eq(lua_State *L) {
    lua_pushboolean(L, wp__lua_check_duration(L, 1) == wp__lua_check_duration(L, 2));
    return 1;
}
static int d_lt(lua_State *L) {
    lua_pushboolean(L, wp__lua_check_duration(L, 1) < wp__lua_check_duration(L, 2));
    return 1;
}
static int d_le(lua_State *L) {
    lua_pushboolean(L, wp__lua_check_duration(L, 1) <= wp__lua_check_duration(L, 2));
    return 1;
}

/* ---- Time values ------------------------------------------------------------------------------ */

typedef struct lua_time {
    int64_t sec;  /* since the Unix epoch, UTC */
    int32_t nsec; /* 0..999999999 */
    int32_t off;  /* the zone's offset east of UTC, seconds */
    bool local;   /* the machine's zone (offset recomputed for each instant) */
} lua_time;
/* user value 1: the zone's name */

static int32_t local_offset(int64_t sec) {
    time_t t = (time_t)sec;
    struct tm tm;
    return localtime_r(&t, &tm) ? (int32_t)tm.tm_gmtoff : 0;
}

static lua_time *push_time(lua_State *L, int64_t sec, int64_t nsec, bool local, int32_t off,
                           const char *zone) {
    sec += nsec / NS_PER_S;
    nsec %= NS_PER_S;
    if (nsec < 0) {
        nsec += NS_PER_S;
        sec--;
    }
    lua_time *t = lua_newuserdatauv(L, sizeof *t, 1);
    *t = (lua_time){sec, (int32_t)nsec, local ? local_offset(sec) : off, local};
    lua_rawgetp(L, LUA_REGISTRYINDEX, &time_meta);
    lua_setmetatable(L, -2);
    lua_pushstring(L, local ? "Local" : zone ? zone : "UTC");
    lua_setiuservalue(L, -2, 1);
    return t;
}

void wp__lua_push_now(lua_State *L) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    push_time(L, ts.tv_sec, ts.tv_nsec, true, 0, NULL);
}

static lua_time *check_time(lua_State *L, int idx) {
    lua_time *t = (lua_time *)test_udata(L, idx, &time_meta);
    if (!t)
        luaL_typeerror(L, idx, "Time");
    return t;
}

/* Pushes a Time in t's zone. */
static void push_like(lua_State *L, const lua_time *t, int idx, int64_t sec, int64_t nsec) {
    lua_getiuservalue(L, idx, 1);
    push_time(L, sec, nsec, t->local, t->off, lua_tostring(L, -1));
    lua_remove(L, -2);
}

/* Civil date from days since 1970-01-01 (Howard Hinnant's algorithm). */
static void civil(int64_t days, int64_t *y, int *m, int *d) {
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

typedef struct parts {
    int64_t year;
    int month, day, hour, min, sec, wday, yday;
    int32_t nsec;
    int32_t off;
} parts;

static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

static parts split(const lua_time *t) {
    parts p;
    int64_t local = t->sec + t->off;
    int64_t days = floor_div(local, 86400);
    int64_t rem = local - days * 86400;
    civil(days, &p.year, &p.month, &p.day);
    p.hour = (int)(rem / 3600);
    p.min = (int)(rem / 60 % 60);
    p.sec = (int)(rem % 60);
    p.wday = (int)((days % 7 + 11) % 7); /* 1970-01-01 was a Thursday (4) */
    p.yday = (int)(days - days_from_civil(p.year, 1, 1)) + 1;
    p.nsec = t->nsec;
    p.off = t->off;
    return p;
}

static const char *const MONTHS[] = {"January", "February", "March",     "April",
                                     "May",     "June",     "July",      "August",
                                     "September", "October", "November", "December"};
static const char *const DAYS[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                   "Thursday", "Friday", "Saturday"};

/* Go layout tokens, longest first where one is a prefix of another. */
static size_t format_token(luaL_Buffer *b, const char *s, const parts *p, const char *zone) {
    char tmp[48];
    int hour12 = p->hour % 12 ? p->hour % 12 : 12;
    int offm = (p->off < 0 ? -p->off : p->off) / 60;
    char sign = p->off < 0 ? '-' : '+';
#define TOKEN(lit, ...)                                                                            \
    if (strncmp(s, lit, strlen(lit)) == 0) {                                                       \
        snprintf(tmp, sizeof tmp, __VA_ARGS__);                                                    \
        luaL_addstring(b, tmp);                                                                    \
        return strlen(lit);                                                                        \
    }
    TOKEN("2006", "%04lld", (long long)p->year)
    TOKEN("January", "%s", MONTHS[p->month - 1])
    TOKEN("Jan", "%.3s", MONTHS[p->month - 1])
    TOKEN("Monday", "%s", DAYS[p->wday])
    TOKEN("Mon", "%.3s", DAYS[p->wday])
    TOKEN("MST", "%s", p->off == 0 && strcmp(zone, "Local") != 0 ? "UTC" : zone)
    TOKEN("01", "%02d", p->month)
    TOKEN("02", "%02d", p->day)
    TOKEN("_2", "%2d", p->day)
    TOKEN("06", "%02lld", (long long)(p->year % 100))
    TOKEN("15", "%02d", p->hour)
    TOKEN("03", "%02d", hour12)
    TOKEN("04", "%02d", p->min)
    TOKEN("05", "%02d", p->sec)
    TOKEN("PM", "%s", p->hour < 12 ? "AM" : "PM")
    TOKEN("pm", "%s", p->hour < 12 ? "am" : "pm")
    TOKEN(".000000000", ".%09d", (int)p->nsec)
    TOKEN(".000000", ".%06d", (int)(p->nsec / 1000))
    TOKEN(".000", ".%03d", (int)(p->nsec / 1000000))
    if (strncmp(s, "Z07:00", 6) == 0 || strncmp(s, "-07:00", 6) == 0) {
        if (p->off == 0 && s[0] == 'Z')
            luaL_addchar(b, 'Z');
        else {
            snprintf(tmp, sizeof tmp, "%c%02d:%02d", sign, offm / 60, offm % 60);
            luaL_addstring(b, tmp);
        }
        return 6;
    }
    if (strncmp(s, "Z0700", 5) == 0 || strncmp(s, "-0700", 5) == 0) {
        if (p->off == 0 && s[0] == 'Z')
            luaL_addchar(b, 'Z');
        else {
            snprintf(tmp, sizeof tmp, "%c%02d%02d", sign, offm / 60, offm % 60);
            luaL_addstring(b, tmp);
        }
        return 5;
    }
    size_t nines = s[0] == '.' ? strspn(s + 1, "9") : 0;
    if (nines == 3 || nines == 6 || nines == 9) { /* fraction without trailing zeros */
        snprintf(tmp, sizeof tmp, ".%09d", (int)p->nsec);
        size_t n = nines + 1;
        while (n > 1 && tmp[n - 1] == '0')
            n--;
        if (n > 1)
            luaL_addlstring(b, tmp, n);
        return nines + 1;
    }
    TOKEN("1", "%d", p->month)
    TOKEN("2", "%d", p->day)
    TOKEN("3", "%d", hour12)
    TOKEN("4", "%d", p->min)
    TOKEN("5", "%d", p->sec)
#undef TOKEN
    luaL_addchar(b, *s);
    return 1;
}

static int t_format(lua_State *L) {
    lua_time *t = check_time(L, 1);
    const char *layout = luaL_checkstring(L, 2);
    lua_getiuservalue(L, 1, 1);
    const char *zone = lua_tostring(L, -1);
    parts p = split(t);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (const char *s = layout; *s;)
        s += format_token(&b, s, &p, zone);
    luaL_pushresult(&b);
    return 1;
}

static const char RFC3339[] = "2006-01-02T15:04:05Z07:00";
static const char RFC3339NANO[] = "2006-01-02T15:04:05.999999999Z07:00";

static int t_format_rfc3339(lua_State *L) {
    lua_settop(L, 1);
    lua_pushstring(L, RFC3339);
    return t_format(L);
}

static int t_unix(lua_State *L) {
    lua_pushinteger(L, check_time(L, 1)->sec);
    return 1;
}

static int t_unix_nano(lua_State *L) {
    lua_time *t = check_time(L, 1);
    lua_pushinteger(L, t->sec * NS_PER_S + t->nsec);
    return 1;
}

static int t_add(lua_State *L) {
    lua_time *t = check_time(L, 1);
    int64_t d = wp__lua_check_duration(L, 2);
    push_like(L, t, 1, t->sec + d / NS_PER_S, t->nsec + d % NS_PER_S);
    return 1;
}

static int t_add_date(lua_State *L) {
    lua_time *t = check_time(L, 1);
    parts p = split(t);
    int64_t months = (int64_t)p.month - 1 + luaL_checkinteger(L, 3);
    int64_t year = p.year + luaL_checkinteger(L, 2) + floor_div(months, 12);
    int month = (int)(months - floor_div(months, 12) * 12) + 1;
    /* days past a month's end roll over, as Go's AddDate does */
    int64_t days = days_from_civil(year, month, 1) + p.day - 1 + luaL_checkinteger(L, 4);
    int64_t sec = days * 86400 + p.hour * 3600 + p.min * 60 + p.sec - p.off;
    push_like(L, t, 1, sec, p.nsec);
    return 1;
}

static int t_sub(lua_State *L) {
    lua_time *a = check_time(L, 1);
    lua_time *b = check_time(L, 2);
    push_duration(L, (a->sec - b->sec) * NS_PER_S + (a->nsec - b->nsec));
    return 1;
}

static int cmp_times(lua_State *L) {
    lua_time *a = check_time(L, 1);
    lua_time *b = check_time(L, 2);
    if (a->sec != b->sec)
        return a->sec < b->sec ? -1 : 1;
    return a->nsec < b->nsec ? -1 : a->nsec > b->nsec;
}

static int t_before(lua_State *L) {
    lua_pushboolean(L, cmp_times(L) < 0);
    return 1;
}
static int t_after(lua_State *L) {
    lua_pushboolean(L, cmp_times(L) > 0);
    return 1;
}
static int t_equal(lua_State *L) {
    lua_pushboolean(L, cmp_times(L) == 0);
    return 1;
}
static int t_le(lua_State *L) {
    lua_pushboolean(L, cmp_times(L) <= 0);
    return 1;
}

static int t_is_zero(lua_State *L) {
    lua_time *t = check_time(L, 1);
    /* Go's zero Time is January 1, year 1, UTC */
    lua_pushboolean(L, t->sec == days_from_civil(1, 1, 1) * 86400 && t->nsec == 0);
    return 1;
}

enum { F_YEAR, F_MONTH, F_DAY, F_HOUR, F_MIN, F_SEC, F_NSEC, F_WDAY, F_YDAY };

static int t_field(lua_State *L, int which) {
    parts p = split(check_time(L, 1));
    const int64_t v[] = {p.year, p.month, p.day, p.hour, p.min, p.sec, p.nsec, p.wday, p.yday};
    lua_pushinteger(L, v[which]);
    return 1;
}
static int t_year(lua_State *L) { return t_field(L, F_YEAR); }
static int t_month(lua_State *L) { return t_field(L, F_MONTH); }
static int t_day(lua_State *L) { return t_field(L, F_DAY); }
static int t_hour(lua_State *L) { return t_field(L, F_HOUR); }
static int t_minute(lua_State *L) { return t_field(L, F_MIN); }
static int t_second(lua_State *L) { return t_field(L, F_SEC); }
static int t_nanosecond(lua_State *L) { return t_field(L, F_NSEC); }
static int t_weekday(lua_State *L) { return t_field(L, F_WDAY); }
static int t_year_day(lua_State *L) { return t_field(L, F_YDAY); }

static int t_date(lua_State *L) {
    parts p = split(check_time(L, 1));
    lua_pushinteger(L, p.year);
    lua_pushinteger(L, p.month);
    lua_pushinteger(L, p.day);
    return 3;
}

static int t_clock(lua_State *L) {
    parts p = split(check_time(L, 1));
    lua_pushinteger(L, p.hour);
    lua_pushinteger(L, p.min);
    lua_pushinteger(L, p.sec);
    return 3;
}

static int t_utc(lua_State *L) {
    lua_time *t = check_time(L, 1);
    push_time(L, t->sec, t->nsec, false, 0, "UTC");
    return 1;
}

static int t_in_local(lua_State *L) {
    lua_time *t = check_time(L, 1);
    push_time(L, t->sec, t->nsec, true, 0, NULL);
    return 1;
}

/* A location: a table {name = , offset = seconds east of UTC, is_local = }. */
typedef struct location {
    bool local;
    int32_t off;
    const char *name; /* borrowed from the table */
} location;

static location check_location(lua_State *L, int idx) {
    location loc = {false, 0, "UTC"};
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_getfield(L, idx, "is_local");
    loc.local = lua_toboolean(L, -1);
    lua_getfield(L, idx, "offset");
    loc.off = (int32_t)luaL_optinteger(L, -1, 0);
    lua_getfield(L, idx, "name");
    loc.name = luaL_optstring(L, -1, "UTC");
    lua_pop(L, 3); /* the name stays reachable through the table */
    return loc;
}

static void push_in_location(lua_State *L, const lua_time *t, int idx) {
    location loc = check_location(L, idx);
    push_time(L, t->sec, t->nsec, loc.local, loc.off, loc.name);
}

static int t_in_location(lua_State *L) {
    push_in_location(L, check_time(L, 1), 2);
    return 1;
}

static int t_location(lua_State *L) {
    lua_time *t = check_time(L, 1);
    lua_createtable(L, 0, 3);
    lua_getiuservalue(L, 1, 1);
    lua_setfield(L, -2, "name");
    lua_pushinteger(L, t->off);
    lua_setfield(L, -2, "offset");
    lua_pushboolean(L, t->local);
    lua_setfield(L, -2, "is_local");
    return 1;
}

static int t_tostring(lua_State *L) {
    lua_settop(L, 1);
    lua_pushstring(L, RFC3339NANO);
    return t_format(L);
}

/* time.now() */
static int l_now(lua_State *L) {
    wp__lua_push_now(L);
    return 1;
}

/* time.unix(sec, nsec) */
static int l_unix(lua_State *L) {
    push_time(L, luaL_checkinteger(L, 1), luaL_optinteger(L, 2, 0), true, 0, NULL);
    return 1;
}

/* time.date(year, month, day, hour, min, sec, nsec[, location]): local time by default. */
static int l_date(lua_State *L) {
    lua_Integer month = luaL_checkinteger(L, 2);
    luaL_argcheck(L, month >= 1 && month <= 12, 2, "month out of range");
    int64_t days = days_from_civil(luaL_checkinteger(L, 1), (int)month, 1);
    days += luaL_checkinteger(L, 3) - 1; /* days past the month's end roll over */
    int64_t wall = days * 86400 + luaL_optinteger(L, 4, 0) * 3600 +
                   luaL_optinteger(L, 5, 0) * 60 + luaL_optinteger(L, 6, 0);
    int64_t nsec = luaL_optinteger(L, 7, 0);
    location loc = {true, 0, NULL};
    if (!lua_isnoneornil(L, 8))
        loc = check_location(L, 8);
    /* the wall clock is in the location: the instant is earlier by its offset there */
    int64_t sec = loc.local ? wall - local_offset(wall - local_offset(wall)) : wall - loc.off;
    push_time(L, sec, nsec, loc.local, loc.off, loc.name);
    return 1;
}

/* time.fixed_zone(name, offset_seconds) */
static int l_fixed_zone(lua_State *L) {
    const char *name = luaL_checkstring(L, 1);
    lua_Integer off = luaL_checkinteger(L, 2);
    luaL_argcheck(L, off > -86400 && off < 86400, 2, "offset out of range");
    lua_createtable(L, 0, 2);
    lua_pushstring(L, name);
    lua_setfield(L, -2, "name");
    lua_pushinteger(L, off);
    lua_setfield(L, -2, "offset");
    return 1;
}

/* ---- Sleeping and timers ---------------------------------------------------------------------- */

static int sleep_k(lua_State *L, int status, lua_KContext ctx) {
    (void)L;
    (void)status;
    (void)ctx;
    return 0;
}

/* time.sleep(d): the coroutine waits; the worker does not. */
static int l_sleep(lua_State *L) {
    int64_t d = wp__lua_check_duration(L, 1);
    wp__lua_check_yieldable(L, "time.sleep");
    wp_lua_task *t = wp__lua_task(L);
    uint64_t now = wp_wasi_now();
    wp__lua_timer_arm(L, &t->timer, d > 0 ? now + (uint64_t)d : now, 0);
    return wp__lua_block(L, t, 0, sleep_k);
}

/* A Timer or Ticker: a userdata holding a timer, user value 1 its channel. */
typedef struct lua_timer_obj {
    wp_lua_timer tm;
} lua_timer_obj;

static lua_timer_obj *new_timer(lua_State *L, int64_t d, wp_lua_timer_action action) {
    lua_timer_obj *o = lua_newuserdatauv(L, sizeof *o, 1);
    memset(o, 0, sizeof *o);
    o->tm.slot = UINT32_MAX;
    o->tm.action = (uint8_t)action;
    o->tm.period = (uint64_t)d;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &timer_meta);
    lua_setmetatable(L, -2);
    o->tm.chan = wp__lua_chan_new(L, 1);
    lua_setiuservalue(L, -2, 1);
    wp__lua_timer_arm(L, &o->tm, wp_wasi_now() + (uint64_t)d, lua_gettop(L));
    return o;
}

/* time.after(d): a channel that receives the time once, d from now. */
static int l_after(lua_State *L) {
    int64_t d = wp__lua_check_duration(L, 1);
    new_timer(L, d > 0 ? d : 0, WP_LUA_TIMER_SEND);
    lua_getiuservalue(L, -1, 1);
    return 1;
}

static int timer_new(lua_State *L, wp_lua_timer_action action) {
    int64_t d = wp__lua_check_duration(L, 1);
    if (d <= 0)
        return wp__lua_failf(L, WP_ERR_INVALID, "duration must be positive, got %lld ns",
                             (long long)d);
    new_timer(L, d, action);
    return 1;
}

static int l_timer(lua_State *L) { return timer_new(L, WP_LUA_TIMER_SEND); }
static int l_ticker(lua_State *L) { return timer_new(L, WP_LUA_TIMER_TICK); }

static lua_timer_obj *check_timer(lua_State *L) {
    lua_timer_obj *o = (lua_timer_obj *)test_udata(L, 1, &timer_meta);
    if (!o)
        luaL_typeerror(L, 1, "Timer");
    return o;
}

static int tm_response(lua_State *L) {
    check_timer(L);
    lua_getiuservalue(L, 1, 1);
    return 1;
}

/* stop(): true if it was still going to fire. */
static int tm_stop(lua_State *L) {
    lua_timer_obj *o = check_timer(L);
    lua_pushboolean(L, o->tm.slot != UINT32_MAX);
    wp__lua_timer_disarm(L, &o->tm);
    return 1;
}

/* reset(d): fires d from now instead; true if it was still going to fire. */
static int tm_reset(lua_State *L) {
    lua_timer_obj *o = check_timer(L);
    int64_t d = wp__lua_check_duration(L, 2);
    bool armed = o->tm.slot != UINT32_MAX;
    if (o->tm.action == WP_LUA_TIMER_TICK) {
        luaL_argcheck(L, d > 0, 2, "a ticker's period must be positive");
        o->tm.period = (uint64_t)d;
    }
    wp__lua_timer_arm(L, &o->tm, wp_wasi_now() + (uint64_t)(d > 0 ? d : 0), 1);
    lua_pushboolean(L, armed);
    return 1;
}

/* ---- The module ------------------------------------------------------------------------------- */

static void set_meta(lua_State *L, const char *key, const char *name, const luaL_Reg *methods,
                     const luaL_Reg *metamethods) {
    lua_newtable(L);
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
    luaL_setfuncs(L, metamethods, 0);
    lua_pushstring(L, name);
    lua_setfield(L, -2, "__name");
    lua_rawsetp(L, LUA_REGISTRYINDEX, key);
}

static void make_metas(lua_State *L) {
    static const luaL_Reg dmethods[] = {
        {"hours", d_hours},     {"minutes", d_minutes},           {"seconds", d_seconds},
        {"milliseconds", d_milliseconds}, {"microseconds", d_microseconds},
        {"nanoseconds", d_nanoseconds},   {"string", d_tostring}, {NULL, NULL}};
    static const luaL_Reg dmeta[] = {{"__tostring", d_tostring}, {"__add", d_add},
                                     {"__sub", d_sub},           {"__mul", d_mul},
                                     {"__div", d_div},           {"__unm", d_unm},
                                     {"__eq", d_eq},             {"__lt", d_lt},
                                     {"__le", d_le},             {NULL, NULL}};
    static const luaL_Reg tmethods[] = {
        {"format", t_format}, {"format_rfc3339", t_format_rfc3339}, {"unix", t_unix},
        {"unix_nano", t_unix_nano}, {"add", t_add}, {"add_date", t_add_date}, {"sub", t_sub},
        {"before", t_before}, {"after", t_after}, {"equal", t_equal}, {"is_zero", t_is_zero},
        {"year", t_year}, {"month", t_month}, {"day", t_day}, {"hour", t_hour},
        {"minute", t_minute}, {"second", t_second}, {"nanosecond", t_nanosecond},
        {"weekday", t_weekday}, {"year_day", t_year_day}, {"date", t_date}, {"clock", t_clock},
        {"utc", t_utc}, {"in_local", t_in_local}, {"in_location", t_in_location},
        {"location", t_location}, {NULL, NULL}};
    static const luaL_Reg tmeta[] = {{"__tostring", t_tostring}, {"__eq", t_equal},
                                     {"__lt", t_before},         {"__le", t_le},
                                     {NULL, NULL}};
    static const luaL_Reg tmmethods[] = {{"response", tm_response}, {"channel", tm_response},
                                         {"stop", tm_stop},         {"reset", tm_reset},
                                         {NULL, NULL}};
    static const luaL_Reg none[] = {{NULL, NULL}};
    set_meta(L, &duration_meta, "Duration", dmethods, dmeta);
    set_meta(L, &time_meta, "Time", tmethods, tmeta);
    set_meta(L, &timer_meta, "Timer", tmmethods, none);
}

static void set_int(lua_State *L, const char *name, lua_Integer v) {
    lua_pushinteger(L, v);
    lua_setfield(L, -2, name);
}

static void set_constants(lua_State *L) {
    static const struct {
        const char *name;
        const char *layout;
    } layouts[] = {{"RFC3339", RFC3339},
                   {"RFC3339NANO", RFC3339NANO},
                   {"RFC822", "02 Jan 06 15:04 MST"},
                   {"RFC822Z", "02 Jan 06 15:04 -0700"},
                   {"RFC850", "Monday, 02-Jan-06 15:04:05 MST"},
                   {"RFC1123", "Mon, 02 Jan 2006 15:04:05 MST"},
                   {"RFC1123Z", "Mon, 02 Jan 2006 15:04:05 -0700"},
                   {"DATE_TIME", "2006-01-02 15:04:05"},
                   {"DATE_ONLY", "2006-01-02"},
                   {"TIME_ONLY", "15:04:05"},
                   {"KITCHEN", "3:04PM"},
                   {"STAMP", "Jan _2 15:04:05"},
                   {"STAMP_MILLI", "Jan _2 15:04:05.000"},
                   {"STAMP_MICRO", "Jan _2 15:04:05.000000"},
                   {"STAMP_NANO", "Jan _2 15:04:05.000000000"}};
    set_int(L, "NANOSECOND", 1);
    set_int(L, "MICROSECOND", NS_PER_US);
    set_int(L, "MILLISECOND", NS_PER_MS);
    set_int(L, "SECOND", NS_PER_S);
    set_int(L, "MINUTE", NS_PER_MIN);
    set_int(L, "HOUR", NS_PER_H);
    for (int i = 0; i < 12; i++) {
        char upper[16];
        size_t n = strlen(MONTHS[i]);
        for (size_t j = 0; j <= n; j++)
            upper[j] = (char)(MONTHS[i][j] >= 'a' ? MONTHS[i][j] - 32 : MONTHS[i][j]);
        set_int(L, upper, i + 1);
    }
    for (int i = 0; i < 7; i++) {
        char upper[16];
        size_t n = strlen(DAYS[i]);
        for (size_t j = 0; j <= n; j++)
            upper[j] = (char)(DAYS[i][j] >= 'a' ? DAYS[i][j] - 32 : DAYS[i][j]);
        set_int(L, upper, i);
    }
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++) {
        lua_pushstring(L, layouts[i].layout);
        lua_setfield(L, -2, layouts[i].name);
    }
    lua_createtable(L, 0, 2);
    lua_pushliteral(L, "UTC");
    lua_setfield(L, -2, "name");
    set_int(L, "offset", 0);
    lua_setfield(L, -2, "utc");
    lua_createtable(L, 0, 2);
    lua_pushliteral(L, "Local");
    lua_setfield(L, -2, "name");
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "is_local");
    lua_setfield(L, -2, "localtz");
}

int wp__lua_open_time(lua_State *L) {
    static const luaL_Reg funcs[] = {
        {"now", l_now}, {"unix", l_unix}, {"date", l_date}, {"fixed_zone", l_fixed_zone},
        {"sleep", l_sleep}, {"after", l_after}, {"timer", l_timer}, {"ticker", l_ticker},
        {"parse_duration", l_parse_duration}, {"nanoseconds", l_nanoseconds},
        {"microseconds", l_microseconds}, {"milliseconds", l_milliseconds},
        {"seconds", l_seconds}, {"minutes", l_minutes}, {"hours", l_hours}, {NULL, NULL}};
    lua_rawgetp(L, LUA_REGISTRYINDEX, &duration_meta);
    bool have = !lua_isnil(L, -1);
    lua_pop(L, 1);
    if (!have)
        make_metas(L);
    luaL_newlib(L, funcs);
    set_constants(L);
    return 1;
}
