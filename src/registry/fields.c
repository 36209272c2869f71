/* fields.c: reading an entry's fields with problems for wrong ones; references to entries. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

yaml_node_t *reg__field(const wp_entry *e, const yaml_node_t *map, const char *key) {
    return reg__yaml_get(&e->file->doc, map ? map : e->node, key);
}

bool reg__get_text(wp_registry *reg, wp_entry *e, const yaml_node_t *map, const char *key,
                   const char *path, bool required, const char **out) {
    *out = NULL;
    yaml_node_t *n = reg__field(e, map, key);
    if (!n || reg__yaml_is_null(n)) {
        if (required)
            reg__field_problem(reg, e, n ? n : map, path, "%s is required", path);
        return false;
    }
    const char *s = reg__yaml_scalar(n);
    if (!s) {
        reg__field_problem(reg, e, n, path, "%s must be a string", path);
        return false;
    }
    if (required && !s[0]) {
        reg__field_problem(reg, e, n, path, "%s is required", path);
        return false;
    }
    *out = s;
    return true;
}

bool reg__get_bool(wp_registry *reg, wp_entry *e, const yaml_node_t *map, const char *key,
                   const char *path, bool dflt, bool *out) {
    *out = dflt;
    yaml_node_t *n = reg__field(e, map, key);
    if (!n || reg__yaml_is_null(n))
        return true;
    const char *s = reg__yaml_scalar(n);
    if (s && (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)) {
        *out = s[0] == 't';
        return true;
    }
    reg__field_problem(reg, e, n, path, "%s must be true or false", path);
    return false;
}

bool reg__get_uint(wp_registry *reg, wp_entry *e, const yaml_node_t *map, const char *key,
                   const char *path, uint64_t *out) {
    yaml_node_t *n = reg__field(e, map, key);
    if (!n || reg__yaml_is_null(n))
        return true;
    const char *s = reg__yaml_scalar(n);
    char *end = NULL;
    errno = 0;
    unsigned long long v = s && s[0] >= '0' && s[0] <= '9' ? strtoull(s, &end, 10) : 0;
    if (!end || *end || errno) {
        reg__field_problem(reg, e, n, path, "%s must be a non-negative integer", path);
        return false;
    }
    *out = v;
    return true;
}

static bool kind_matches(const char *kind, const char *prefix) {
    size_t n = strlen(prefix);
    if (prefix[n - 1] == '.')
        return strncmp(kind, prefix, n) == 0;
    return strcmp(kind, prefix) == 0;
}

wp_entry *reg__ref(wp_registry *reg, wp_entry *e, const yaml_node_t *at, const char *path,
                   const char *text, const char *kind_prefix) {
    char *id = strchr(text, ':') ? reg__strdup(text) : reg__printf("%s:%s", e->ns, text);
    if (!id)
        return NULL;
    wp_entry *target = reg__find(reg, id);
    if (!target)
        reg__field_problem(reg, e, at, path, "entry %s not found", id);
    else if (!kind_matches(target->kind, kind_prefix))
        reg__field_problem(reg, e, at, path, "%s is a %s, not a %s%s", id, target->kind,
                           kind_prefix, kind_prefix[strlen(kind_prefix) - 1] == '.' ? "*" : "");
    reg__strfree(id);
    if (!target || !kind_matches(target->kind, kind_prefix))
        return NULL;
    reg__add_dep(e, target);
    return target;
}

void reg__collect_command(wp_registry *reg, wp_entry *e) {
    yaml_node_t *meta = reg__field(e, NULL, "meta");
    yaml_node_t *cmd = reg__yaml_get(&e->file->doc, meta, "command");
    if (!cmd || reg__yaml_is_null(cmd))
        return;
    if (strncmp(e->kind, "process.", 8) != 0) {
        reg__field_problem(reg, e, cmd, "meta.command",
                           "meta.command is only for process entries, not %s", e->kind);
        return;
    }
    if (!reg__yaml_is_map(cmd)) {
        reg__field_problem(reg, e, cmd, "meta.command", "meta.command must be a mapping");
        return;
    }
    const char *name = NULL;
    const char *short_text = NULL;
    reg__get_text(reg, e, cmd, "short", "meta.command.short", false, &short_text);
    if (!reg__get_text(reg, e, cmd, "name", "meta.command.name", true, &name))
        return;
    if (strpbrk(name, " \t\n") || name[0] == '-') {
        reg__field_problem(reg, e, reg__field(e, cmd, "name"), "meta.command.name",
                           "invalid command name \"%s\"", name);
        return;
    }
    reg__add_command(reg, e, name, short_text, reg__field(e, cmd, "name"));
}
