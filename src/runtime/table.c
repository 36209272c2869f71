/* table.c: the PID table (sharded hash of live processes), PID text, and process names. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define NAME_MAX_LEN 255u

static wp_heap *heap(void) { return wp_heap_default(); }

static uint64_t mix(uint64_t x) { /* splitmix64's finaliser: serials are sequential */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9u;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

static table_shard *shard_of(const wp_runtime *rt, wp_pid pid) {
    return (table_shard *)&rt->shards[mix(pid) % WP_TABLE_SHARDS];
}

static size_t bucket_of(const table_shard *s, wp_pid pid) {
    return (size_t)(mix(pid) >> 8) & (s->nbuckets - 1);
}

/* Doubles the buckets when the load passes 1; stays as it is if memory is short. */
static void grow(table_shard *s) {
    size_t n = s->nbuckets ? s->nbuckets * 2 : 16;
    wp_proc **b = wp_heap_calloc(heap(), n, sizeof *b);
    if (!b)
        return;
    table_shard next = {.buckets = b, .nbuckets = n};
    for (size_t i = 0; i < s->nbuckets; i++) {
        for (wp_proc *p = s->buckets[i], *after; p; p = after) {
            after = p->hash_next;
            size_t k = bucket_of(&next, p->pid);
            p->hash_next = b[k];
            b[k] = p;
        }
    }
    wp_heap_free(heap(), s->buckets, s->nbuckets * sizeof *s->buckets);
    s->buckets = b;
    s->nbuckets = n;
}

bool wp__table_insert(wp_runtime *rt, wp_proc *p) {
    table_shard *s = shard_of(rt, p->pid);
    pthread_mutex_lock(&s->lock);
    if (s->count >= s->nbuckets)
        grow(s);
    bool ok = s->nbuckets > 0; /* a full table that could not grow still takes more */
    if (ok) {
        size_t k = bucket_of(s, p->pid);
        wp__proc_ref(p);
        p->hash_next = s->buckets[k];
        s->buckets[k] = p;
        s->count++;
    }
    pthread_mutex_unlock(&s->lock);
    return ok;
}

void wp__table_remove(wp_runtime *rt, wp_proc *p) {
    table_shard *s = shard_of(rt, p->pid);
    bool found = false;
    pthread_mutex_lock(&s->lock);
    if (s->nbuckets) {
        for (wp_proc **at = &s->buckets[bucket_of(s, p->pid)]; *at; at = &(*at)->hash_next) {
            if (*at == p) {
                *at = p->hash_next;
                s->count--;
                found = true;
                break;
            }
        }
    }
    pthread_mutex_unlock(&s->lock);
    if (found)
        wp__proc_unref(p);
}

wp_proc *wp__table_get(const wp_runtime *rt, wp_pid pid) {
    table_shard *s = shard_of(rt, pid);
    wp_proc *found = NULL;
    pthread_mutex_lock(&s->lock);
    if (s->nbuckets) {
        for (wp_proc *p = s->buckets[bucket_of(s, pid)]; p; p = p->hash_next) {
            if (p->pid == pid) {
                wp__proc_ref(p);
                found = p;
                break;
            }
        }
    }
    pthread_mutex_unlock(&s->lock);
    return found;
}

/* Collects one shard's processes (referenced) so fn runs without the shard's lock. */
static size_t collect(table_shard *s, wp_proc ***out) {
    pthread_mutex_lock(&s->lock);
    size_t n = 0;
    wp_proc **all = s->count ? wp_heap_calloc(heap(), s->count, sizeof *all) : NULL;
    for (size_t i = 0; all && i < s->nbuckets; i++) {
        for (wp_proc *p = s->buckets[i]; p; p = p->hash_next) {
            wp__proc_ref(p);
            all[n++] = p;
        }
    }
    pthread_mutex_unlock(&s->lock);
    *out = all;
    return n;
}

void wp__table_each(wp_runtime *rt, void (*fn)(wp_proc *p, void *ud), void *ud) {
    for (size_t i = 0; i < WP_TABLE_SHARDS; i++) {
        wp_proc **all = NULL;
        size_t n = collect(&rt->shards[i], &all);
        size_t cap = n;
        for (size_t k = 0; k < n; k++) {
            fn(all[k], ud);
            wp__proc_unref(all[k]);
        }
        wp_heap_free(heap(), all, cap * sizeof *all);
    }
}

void wp__table_free(wp_runtime *rt) {
    for (size_t i = 0; i < WP_TABLE_SHARDS; i++) {
        table_shard *s = &rt->shards[i];
        wp_heap_free(heap(), s->buckets, s->nbuckets * sizeof *s->buckets);
        pthread_mutex_destroy(&s->lock);
    }
    for (size_t i = 0; i < rt->nnames_buckets; i++) {
        for (name_entry *e = rt->names[i], *next; e; e = next) {
            next = e->next;
            wp_heap_free(heap(), e, sizeof *e + strlen(e->name) + 1);
        }
    }
    wp_heap_free(heap(), rt->names, rt->nnames_buckets * sizeof *rt->names);
}

bool wp_pid_alive(const wp_runtime *rt, wp_pid pid) {
    wp_proc *p = wp__table_get(rt, pid);
    if (!p)
        return false;
    wp__proc_unref(p);
    return true;
}

uint32_t wp_runtime_count(const wp_runtime *rt) {
    wp_runtime *r = (wp_runtime *)rt; /* the lock is not part of its value */
    pthread_mutex_lock(&r->alive_lock);
    uint32_t n = r->alive;
    pthread_mutex_unlock(&r->alive_lock);
    return n;
}

/* ---- PID text ------------------------------------------------------------------------------- */

#define PID_SERIAL_MASK ((UINT64_C(1) << 48) - 1)

static const wp_host *host_of(const wp_runtime *rt, wp_pid pid) {
    uint32_t idx = (uint32_t)(pid >> 48);
    uint32_t n = atomic_load(&((wp_runtime *)rt)->nhosts);
    return idx >= 1 && idx <= n ? rt->hosts[idx - 1] : NULL;
}

size_t wp_pid_format(const wp_runtime *rt, wp_pid pid, char *buf, size_t cap) {
    const wp_host *h = host_of(rt, pid);
    int n = snprintf(buf, cap, "{%s|0x%05" PRIx64 "}", h ? h->id : "?", pid & PID_SERIAL_MASK);
    return n < 0 ? 0 : (size_t)n;
}

wp_status wp_pid_parse(const wp_runtime *rt, const char *text, wp_pid *out, wp_err *err) {
    *out = WP_PID_NONE;
    size_t len = strlen(text);
    const char *bar = strrchr(text, '|');
    if (len < 5 || text[0] != '{' || text[len - 1] != '}' || !bar || strncmp(bar, "|0x", 3) != 0)
        return wp_err_set(err, WP_ERR_INVALID, "'%.100s' is not a PID", text);
    char *end = NULL;
    uint64_t serial = strtoull(bar + 3, &end, 16);
    if (end != text + len - 1 || serial == 0 || serial > PID_SERIAL_MASK)
        return wp_err_set(err, WP_ERR_INVALID, "'%.100s' is not a PID", text);
    uint32_t n = atomic_load(&((wp_runtime *)rt)->nhosts);
    size_t idlen = (size_t)(bar - text - 1);
    for (uint32_t i = 0; i < n; i++) {
        const char *id = rt->hosts[i]->id;
        if (strlen(id) == idlen && memcmp(id, text + 1, idlen) == 0) {
            *out = ((wp_pid)(i + 1) << 48) | serial;
            return WP_OK;
        }
    }
    return wp_err_set(err, WP_ERR_INVALID, "'%.100s': no host %.*s", text, (int)idlen, text + 1);
}

wp_status wp_resolve_dest(const wp_runtime *rt, const char *dest, wp_pid *out, wp_err *err) {
    if (dest[0] == '{')
        return wp_pid_parse(rt, dest, out, err);
    return wp_name_lookup(rt, dest, out, err);
}

/* ---- Names ---------------------------------------------------------------------------------- */

static uint64_t name_hash(const char *s) {
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211u;
    return h;
}

static name_entry **name_slot(const wp_runtime *rt, const char *name) {
    if (!rt->nnames_buckets)
        return NULL;
    name_entry **at = &rt->names[name_hash(name) & (rt->nnames_buckets - 1)];
    while (*at && strcmp((*at)->name, name) != 0)
        at = &(*at)->next;
    return at;
}

static void names_grow(wp_runtime *rt) {
    size_t n = rt->nnames_buckets ? rt->nnames_buckets * 2 : 64;
    name_entry **b = wp_heap_calloc(heap(), n, sizeof *b);
    if (!b)
        return;
    for (size_t i = 0; i < rt->nnames_buckets; i++) {
        for (name_entry *e = rt->names[i], *next; e; e = next) {
            next = e->next;
            size_t k = name_hash(e->name) & (n - 1);
            e->next = b[k];
            b[k] = e;
        }
    }
    wp_heap_free(heap(), rt->names, rt->nnames_buckets * sizeof *rt->names);
    rt->names = b;
    rt->nnames_buckets = n;
}

/* Counts a name for p so its exit knows to release names; false if p is exiting. */
static bool count_name(wp_runtime *rt, wp_pid pid, int delta) {
    wp_proc *p = wp__table_get(rt, pid);
    if (!p)
        return false;
    pthread_mutex_lock(&p->lock);
    bool alive = p->st != PS_EXITING;
    if (alive)
        p->nnames = (uint32_t)((int)p->nnames + delta);
    pthread_mutex_unlock(&p->lock);
    wp__proc_unref(p);
    return alive;
}

static wp_status insert_name(wp_runtime *rt, const char *name, wp_pid pid, wp_err *err) {
    if (rt->nnames >= rt->nnames_buckets)
        names_grow(rt);
    name_entry **at = name_slot(rt, name);
    if (!at)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    if (*at)
        return (*at)->pid == pid ? WP_OK
                                 : wp_err_set(err, WP_ERR_ALREADY_EXISTS,
                                              "name '%s' is already registered", name);
    size_t len = strlen(name);
    name_entry *e = wp_heap_alloc(heap(), sizeof *e + len + 1);
    if (!e)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    memcpy(e->name, name, len + 1);
    e->pid = pid;
    e->next = NULL;
    *at = e;
    rt->nnames++;
    if (!count_name(rt, pid, 1)) {
        *at = NULL;
        rt->nnames--;
        wp_heap_free(heap(), e, sizeof *e + len + 1);
        return wp_err_set(err, WP_ERR_NOT_FOUND, "process is not alive");
    }
    return WP_OK;
}

wp_status wp_name_register(wp_runtime *rt, const char *name, wp_pid pid, wp_err *err) {
    size_t len = strlen(name);
    if (len == 0 || len > NAME_MAX_LEN)
        return wp_err_set(err, WP_ERR_INVALID, "a name has 1 to %u bytes", NAME_MAX_LEN);
    pthread_mutex_lock(&rt->names_lock);
    wp_status st = insert_name(rt, name, pid, err);
    pthread_mutex_unlock(&rt->names_lock);
    return st;
}

wp_status wp_name_lookup(const wp_runtime *rt, const char *name, wp_pid *out, wp_err *err) {
    wp_runtime *r = (wp_runtime *)rt; /* the lock is not part of its value */
    pthread_mutex_lock(&r->names_lock);
    name_entry **at = name_slot(rt, name);
    *out = at && *at ? (*at)->pid : WP_PID_NONE;
    pthread_mutex_unlock(&r->names_lock);
    if (*out == WP_PID_NONE)
        return wp_err_set(err, WP_ERR_NOT_FOUND, "name '%.200s' is not registered", name);
    return WP_OK;
}

wp_status wp_name_unregister(wp_runtime *rt, const char *name, wp_err *err) {
    pthread_mutex_lock(&rt->names_lock);
    name_entry **at = name_slot(rt, name);
    name_entry *e = at ? *at : NULL;
    if (e) {
        *at = e->next;
        rt->nnames--;
    }
    pthread_mutex_unlock(&rt->names_lock);
    if (!e)
        return wp_err_set(err, WP_ERR_NOT_FOUND, "name '%.200s' is not registered", name);
    count_name(rt, e->pid, -1);
    wp_heap_free(heap(), e, sizeof *e + strlen(e->name) + 1);
    return WP_OK;
}

void wp__names_release(wp_runtime *rt, wp_pid pid) {
    pthread_mutex_lock(&rt->names_lock);
    for (size_t i = 0; i < rt->nnames_buckets; i++) {
        for (name_entry **at = &rt->names[i]; *at;) {
            name_entry *e = *at;
            if (e->pid != pid) {
                at = &e->next;
                continue;
            }
            *at = e->next;
            rt->nnames--;
            wp_heap_free(heap(), e, sizeof *e + strlen(e->name) + 1);
        }
    }
    pthread_mutex_unlock(&rt->names_lock);
}
