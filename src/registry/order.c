/* order.c: boot order from the dependencies between entries (references, a service's host and
 * process, lifecycle.requires): every entry after its dependencies, a level for each (entries
 * of one level are independent), cycles reported with every entry on them. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

static wp_heap *heap(void) { return wp_heap_default(); }

/* The depth-first walk: its current path and the entries placed so far. */
typedef struct walk {
    wp_registry *reg;
    wp_entry **path;
    uint32_t depth;
    wp_entry **placed;
    uint32_t nplaced;
} walk;

/* "through a: a -> b -> a" (path[from..] and back), reported on the cycle's first entry. */
static void report_cycle(walk *w, uint32_t from) {
    char text[WP_ERR_MSG_MAX - 64];
    size_t used = 0;
    for (uint32_t i = from; i <= w->depth && used < sizeof text; i++) {
        const wp_entry *e = i < w->depth ? w->path[i] : w->path[from];
        used += (size_t)snprintf(text + used, sizeof text - used, "%s%s", i > from ? " -> " : "",
                                 e->id);
    }
    reg__problem(w->reg, NULL, 0, w->path[from], NULL, "dependency cycle through %s: %s",
                 w->path[from]->id, text);
    for (uint32_t i = from; i < w->depth; i++)
        w->path[i]->bad = true; /* none of them can start */
}

/* Places e after everything it depends on; its level is one more than its deepest one's. */
static void visit(walk *w, wp_entry *e) {
    e->mark = 1;
    e->level = 0;
    w->path[w->depth++] = e;
    for (uint32_t i = 0; i < e->ndeps; i++) {
        wp_entry *d = e->deps[i];
        if (d->mark == 1) {
            uint32_t from = 0;
            while (w->path[from] != d)
                from++;
            report_cycle(w, from);
            continue;
        }
        if (d->mark == 0)
            visit(w, d);
        if (d->level + 1 > e->level)
            e->level = d->level + 1;
    }
    w->depth--;
    e->mark = 2;
    w->placed[w->nplaced++] = e;
}

bool reg__boot_order(wp_registry *reg) {
    uint32_t n = reg->nentries;
    walk w = {reg, wp_heap_calloc(heap(), n + 1, sizeof *w.path), 0,
              wp_heap_calloc(heap(), n + 1, sizeof *w.placed), 0};
    bool ok = w.path && w.placed;
    for (uint32_t i = 0; ok && i < n; i++)
        if (reg->entries[i]->mark == 0)
            visit(&w, reg->entries[i]);
    if (ok && n)
        memcpy(reg->entries, w.placed, n * sizeof *w.placed);
    wp_heap_free(heap(), w.path, (n + 1) * sizeof *w.path);
    wp_heap_free(heap(), w.placed, (n + 1) * sizeof *w.placed);
    for (uint32_t i = 0; ok && i < n; i++)
        reg__log(reg, "boot %u: %s (%s) level %u", i + 1, reg->entries[i]->id,
                 reg->entries[i]->kind, reg->entries[i]->level);
    return ok;
}
