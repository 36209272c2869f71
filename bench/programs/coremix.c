/* coremix.c: a mixed workload in the spirit of CoreMark: list search and sort, small integer
 * matrix algebra, a state machine classifying number tokens, and a CRC-16 over the results. */
#include <stdint.h>

uint32_t bench_run(int32_t n);

/* ---- CRC-16 (CCITT polynomial 0x1021, bit at a time, as small embedded code does) ---------- */

static uint16_t crc16_byte(uint16_t crc, uint8_t byte) {
    crc ^= (uint16_t)(byte << 8);
    for (int i = 0; i < 8; i++)
        crc = (crc & 0x8000u) ? (uint16_t)((crc << 1) ^ 0x1021u) : (uint16_t)(crc << 1);
    return crc;
}

static uint16_t crc16_u32(uint16_t crc, uint32_t v) {
    for (int i = 0; i < 4; i++)
        crc = crc16_byte(crc, (uint8_t)(v >> (8 * i)));
    return crc;
}

/* A small deterministic generator, so every run sees the same data. */
static uint32_t next_rand(uint32_t *state) {
    *state = *state * 1664525u + 1013904223u;
    return *state >> 8;
}

/* ---- Linked list: nodes live in a pool; lists link them by pointer ------------------------- */

#define LIST_NODES 200

typedef struct node {
    struct node *next;
    int16_t key;
    uint16_t id;
} node;

static node pool[LIST_NODES];

static node *list_build(uint32_t *rng) {
    node *head = 0;
    for (int i = LIST_NODES - 1; i >= 0; i--) {
        pool[i].key = (int16_t)(next_rand(rng) & 0x3ff);
        pool[i].id = (uint16_t)i;
        pool[i].next = head;
        head = &pool[i];
    }
    return head;
}

static const node *list_find(const node *l, int16_t key) {
    while (l && l->key != key)
        l = l->next;
    return l;
}

static int cmp_key(const node *a, const node *b) { return a->key - b->key; }
static int cmp_id(const node *a, const node *b) { return (int)b->id - (int)a->id; }

/* Bottom-up merge sort of a singly linked list: runs of width 1, 2, 4, ... are merged. */
static node *list_sort(node *list, int (*cmp)(const node *, const node *)) {
    for (int width = 1;; width *= 2) {
        node *p = list;
        node *tail = 0;
        int merges = 0;
        list = 0;
        while (p) {
            merges++;
            node *q = p;
            int psize = 0;
            while (q && psize < width) {
                q = q->next;
                psize++;
            }
            int qsize = width;
            while (psize > 0 || (qsize > 0 && q)) {
                node *e;
                if (psize == 0 || (qsize > 0 && q && cmp(q, p) < 0)) {
                    e = q;
                    q = q->next;
                    qsize--;
                } else {
                    e = p;
                    p = p->next;
                    psize--;
                }
                if (tail)
                    tail->next = e;
                else
                    list = e;
                tail = e;
            }
            p = q;
        }
        tail->next = 0;
        if (merges <= 1)
            return list;
    }
}

static uint16_t list_work(uint16_t crc, uint32_t *rng) {
    node *l = list_build(rng);
    int found = 0;
    for (int i = 0; i < 40; i++) {
        const node *hit = list_find(l, (int16_t)(next_rand(rng) & 0x3ff));
        found += hit ? hit->id : -1;
    }
    l = list_sort(l, cmp_key);
    for (const node *p = l; p; p = p->next)
        crc = crc16_u32(crc, (uint32_t)p->key);
    l = list_sort(l, cmp_id);
    crc = crc16_u32(crc, (uint32_t)l->id);
    return crc16_u32(crc, (uint32_t)found);
}

/* ---- Matrix: 16-bit inputs, 32-bit products ------------------------------------------------ */

#define MAT_N 24

static int16_t mat_a[MAT_N][MAT_N];
static int16_t mat_b[MAT_N][MAT_N];
static int32_t mat_c[MAT_N][MAT_N];

static void mat_fill(uint32_t *rng) {
    for (int i = 0; i < MAT_N; i++) {
        for (int j = 0; j < MAT_N; j++) {
            mat_a[i][j] = (int16_t)((next_rand(rng) & 0xff) - 128);
            mat_b[i][j] = (int16_t)((next_rand(rng) & 0xff) - 128);
        }
    }
}

static void mat_mul(void) {
    for (int i = 0; i < MAT_N; i++) {
        for (int j = 0; j < MAT_N; j++) {
            int32_t acc = 0;
            for (int k = 0; k < MAT_N; k++)
                acc += (int32_t)mat_a[i][k] * mat_b[k][j];
            mat_c[i][j] = acc;
        }
    }
}

/* Adds a constant to A, multiplies C by a constant, and folds the bits of C into a sum. */
static int32_t mat_mix(int16_t add, int32_t mul) {
    int32_t sum = 0;
    for (int i = 0; i < MAT_N; i++) {
        for (int j = 0; j < MAT_N; j++) {
            mat_a[i][j] = (int16_t)(mat_a[i][j] + add);
            int32_t v = (int32_t)((uint32_t)mat_c[i][j] * (uint32_t)mul);
            sum += (v >> 3) & 0x7f;
            sum ^= v > 0 ? 1 : 0;
        }
    }
    return sum;
}

static uint16_t matrix_work(uint16_t crc, uint32_t *rng) {
    mat_fill(rng);
    mat_mul();
    crc = crc16_u32(crc, (uint32_t)mat_mix(7, 3));
    mat_mul();
    crc = crc16_u32(crc, (uint32_t)mat_mix(-3, 5));
    return crc;
}

/* ---- State machine: classifies comma-separated tokens as integer, decimal, scientific ------ */

enum token_state { ST_START, ST_SIGN, ST_INT, ST_POINT, ST_FRAC, ST_EXP, ST_EXP_SIGN, ST_SCI,
                   ST_BAD, ST_COUNT };

#define TEXT_LEN 600

static char text[TEXT_LEN + 1];

static const char token_chars[] = "0123456789+-.eE,x";

static void text_fill(uint32_t *rng) {
    for (int i = 0; i < TEXT_LEN; i++)
        text[i] = token_chars[next_rand(rng) % (sizeof token_chars - 1)];
    text[TEXT_LEN] = 0;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static enum token_state step(enum token_state s, char c) {
    switch (s) {
    case ST_START:
        return is_digit(c) ? ST_INT : (c == '+' || c == '-') ? ST_SIGN : c == '.' ? ST_POINT
                                                                               : ST_BAD;
    case ST_SIGN:
        return is_digit(c) ? ST_INT : c == '.' ? ST_POINT : ST_BAD;
    case ST_INT:
        return is_digit(c) ? ST_INT : c == '.' ? ST_POINT : (c == 'e' || c == 'E') ? ST_EXP
                                                                                  : ST_BAD;
    case ST_POINT:
    case ST_FRAC:
        return is_digit(c) ? ST_FRAC : (c == 'e' || c == 'E') ? ST_EXP : ST_BAD;
    case ST_EXP:
        return is_digit(c) ? ST_SCI : (c == '+' || c == '-') ? ST_EXP_SIGN : ST_BAD;
    case ST_EXP_SIGN:
    case ST_SCI:
        return is_digit(c) ? ST_SCI : ST_BAD;
    default:
        return ST_BAD;
    }
}

static uint16_t state_work(uint16_t crc, uint32_t *rng) {
    uint32_t finals[ST_COUNT] = {0};
    uint32_t transitions = 0;
    text_fill(rng);
    enum token_state s = ST_START;
    for (const char *p = text;; p++) {
        if (*p == ',' || *p == 0) {
            finals[s]++;
            s = ST_START;
            if (*p == 0)
                break;
            continue;
        }
        enum token_state t = step(s, *p);
        transitions += t != s;
        s = t;
    }
    for (int i = 0; i < ST_COUNT; i++)
        crc = crc16_u32(crc, finals[i]);
    return crc16_u32(crc, transitions);
}

/* n rounds; each round draws fresh data from the generator, so no round repeats another. */
uint32_t bench_run(int32_t n) {
    uint32_t rng = 0x2545f491u;
    uint16_t crc = 0xffff;
    uint32_t mix = 0;
    for (int32_t i = 0; i < n; i++) {
        crc = list_work(crc, &rng);
        crc = matrix_work(crc, &rng);
        crc = state_work(crc, &rng);
        mix = (mix << 5 | mix >> 27) ^ crc;
    }
    return mix;
}
