/* commands.c: the script commands (module, register, action, assert_*), one function each. */
#include "commands.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wippy/wat.h"

/* The verdict helpers return whether the command passed, so a command ends with
 * "return fail(v, ...)" or "return pass(v, ...)". */
static bool verdict(spec_verdict *v, bool passed, const char *fmt, va_list ap) {
    v->passed = passed;
    vsnprintf(v->why, sizeof v->why, fmt, ap);
    return passed;
}

static bool fail(spec_verdict *v, const char *fmt, ...) WP_PRINTF(2, 3);
static bool fail(spec_verdict *v, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    verdict(v, false, fmt, ap);
    va_end(ap);
    return false;
}

static bool pass(spec_verdict *v, const char *fmt, ...) WP_PRINTF(2, 3);
static bool pass(spec_verdict *v, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    verdict(v, true, fmt, ap);
    va_end(ap);
    return true;
}

static const char *str_or(const spec_json *cmd, const char *key, const char *fallback) {
    const char *s = spec_json_get_str(cmd, key);
    return s ? s : fallback;
}

static const spec_json *string_member(const spec_json *obj, const char *key) {
    const spec_json *s = spec_json_get(obj, key);
    return s && s->kind == SPEC_JSON_STRING ? s : NULL;
}

/* ---- Actions ---------------------------------------------------------------------------- */

/* Marks the run failed before it could start; returns false for "return run_failed(...)". */
static bool run_failed(spec_run *r, const char *fmt, ...) WP_PRINTF(2, 3);
static bool run_failed(spec_run *r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    r->outcome = SPEC_FAILED;
    vsnprintf(r->msg, sizeof r->msg, fmt, ap);
    va_end(ap);
    return false;
}

/* The action's module: the one named in "module", else the last one defined. */
static wp_instance *action_instance(const spec_session *ss, const spec_json *action,
                                    spec_run *r) {
    const spec_json *name = string_member(action, "module");
    wp_instance *inst = ss->current;
    if (name && !spec_names_find(&ss->named, name->str, name->len, &inst)) {
        run_failed(r, "no module named %s", name->str);
        return NULL;
    }
    if (!inst && name)
        run_failed(r, "module %s failed to load", name->str);
    else if (!inst)
        run_failed(r, "no current module (none yet, or the last one failed to load)");
    return inst;
}

/* invoke, get and run_action return false when the call could not be made (r says why), true
 * when it was made: r->outcome then says how it ended. */
static bool invoke(spec_session *ss, const spec_json *action, const wp_extern *ext,
                   spec_run *r) {
    const spec_json *args = spec_json_get(action, "args");
    wp_val vals[SPEC_MAX_VALUES];
    wp_err err;
    if (ext->kind != WP_EXTERN_FUNC)
        return run_failed(r, "the export is not a function");
    if (!args || args->kind != SPEC_JSON_ARRAY || args->count > SPEC_MAX_VALUES)
        return run_failed(r, "invoke needs an array of at most %d args", SPEC_MAX_VALUES);
    for (size_t i = 0; i < args->count; i++) {
        if (spec_value_parse_arg(&args->items[i], &vals[i], &err) != WP_OK)
            return run_failed(r, "argument %zu: %s", i, err.msg);
    }
    spec_call(ss, ext->of.func, vals, (uint32_t)args->count, r);
    return true;
}

static bool get(const wp_extern *ext, spec_run *r) {
    if (ext->kind != WP_EXTERN_GLOBAL)
        return run_failed(r, "the export is not a global");
    r->outcome = SPEC_RETURNED;
    r->count = 1;
    r->results[0] = wp_global_get(ext->of.global);
    return true;
}

static bool run_action(spec_session *ss, const spec_json *action, spec_run *r) {
    const char *type = spec_json_get_str(action, "type");
    const spec_json *field = string_member(action, "field");
    wp_extern ext;
    r->count = 0;
    if (!type || !field)
        return run_failed(r, "malformed action (no type or field)");
    wp_instance *inst = action_instance(ss, action, r);
    if (!inst)
        return false;
    if (!wp_instance_export(inst, field->str, field->len, &ext))
        return run_failed(r, "no export \"%s\"", field->str);
    if (strcmp(type, "invoke") == 0)
        return invoke(ss, action, &ext, r);
    if (strcmp(type, "get") == 0)
        return get(&ext, r);
    return run_failed(r, "unknown action type \"%s\"", type);
}

static void append(char *buf, size_t size, size_t *n, const char *s) {
    int k = snprintf(buf + *n, size - *n, "%s", s);
    if (k > 0)
        *n = *n + (size_t)k < size ? *n + (size_t)k : size - 1;
}

static void format_results(const spec_run *r, char *buf, size_t size) {
    size_t n = 0;
    char one[128];
    append(buf, size, &n, "(");
    for (uint32_t i = 0; i < r->count; i++) {
        spec_value_format(&r->results[i], one, sizeof one);
        append(buf, size, &n, i ? ", " : "");
        append(buf, size, &n, one);
    }
    append(buf, size, &n, ")");
}

/* Fails v with what happened when a call was expected to return. */
static bool not_returned(const spec_run *r, spec_verdict *v) {
    if (r->outcome == SPEC_TRAPPED)
        return fail(v, "trapped: %s", r->msg);
    return fail(v, "%s", r->msg);
}

/* ---- Command kinds ------------------------------------------------------------------------ */

static bool mismatch(const spec_value *e, size_t ne, const spec_run *r, spec_verdict *v) {
    char want[512];
    char got[512];
    char one[160];
    size_t n = 0;
    append(want, sizeof want, &n, "(");
    for (size_t i = 0; i < ne; i++) {
        spec_expected_format(&e[i], one, sizeof one);
        append(want, sizeof want, &n, i ? ", " : "");
        append(want, sizeof want, &n, one);
    }
    append(want, sizeof want, &n, ")");
    format_results(r, got, sizeof got);
    return fail(v, "expected %s, got %s", want, got);
}

static bool check_results(const spec_json *expected, const spec_run *r, spec_verdict *v) {
    spec_value e[SPEC_MAX_VALUES];
    wp_err err;
    if (!expected || expected->kind != SPEC_JSON_ARRAY || expected->count > SPEC_MAX_VALUES)
        return fail(v, "malformed expected results");
    for (size_t i = 0; i < expected->count; i++) {
        if (spec_value_parse_expected(&expected->items[i], &e[i], &err) != WP_OK)
            return fail(v, "expected value %zu: %s", i, err.msg);
    }
    bool ok = expected->count == r->count;
    for (size_t i = 0; ok && i < expected->count; i++)
        ok = spec_value_matches(&e[i], &r->results[i]);
    return ok ? pass(v, "%s", "") : mismatch(e, expected->count, r, v);
}

static bool cmd_assert_return(spec_session *ss, const spec_json *cmd, spec_verdict *v) {
    spec_run r;
    if (!run_action(ss, spec_json_get(cmd, "action"), &r) || r.outcome != SPEC_RETURNED)
        return not_returned(&r, v);
    return check_results(spec_json_get(cmd, "expected"), &r, v);
}

static bool cmd_action(spec_session *ss, const spec_json *cmd, spec_verdict *v) {
    spec_run r;
    if (!run_action(ss, spec_json_get(cmd, "action"), &r) || r.outcome != SPEC_RETURNED)
        return not_returned(&r, v);
    return pass(v, "%s", "");
}

static wp_status load_module(spec_session *ss, const char *file, wp_module **out, wp_err *err) {
    char *bytes = NULL;
    size_t len = 0;
    if (!file)
        return wp_err_set(err, WP_ERR_INVALID, "the command names no module file");
    wp_status st = spec_read_file(ss, file, &bytes, &len, err);
    if (st == WP_OK)
        st = wp_module_decode((const uint8_t *)bytes, len, out, err);
    free(bytes);
    return st;
}

/* assert_unlinkable (want WP_ERR_LINK, the message contains text) and assert_uninstantiable
 * (want WP_ERR_TRAP, a message of the error chain starts with text). */
static bool expect_instantiation_error(spec_session *ss, const spec_json *cmd, wp_status want,
                                       spec_verdict *v) {
    const char *text = str_or(cmd, "text", "");
    const char *what = want == WP_ERR_LINK ? "link error" : "trap";
    wp_module *m = NULL;
    wp_instance *inst = NULL;
    wp_err err;
    if (load_module(ss, spec_json_get_str(cmd, "filename"), &m, &err) != WP_OK)
        return fail(v, "decode: %s", err.msg);
    wp_status st = spec_instantiate(ss, m, &inst, &err);
    wp_module_free(m);
    if (st == WP_OK)
        return fail(v, "the module was instantiated (expected %s \"%s\")", what, text);
    if (st != want)
        return fail(v, "expected %s \"%s\", got %s: %s", what, text, wp_status_name(st), err.msg);
    bool text_ok = want == WP_ERR_LINK ? strstr(err.msg, text) != NULL
                                       : spec_text_in_chain(err.msg, text);
    if (!text_ok)
        return fail(v, "expected %s \"%s\", got \"%s\"", what, text, err.msg);
    return pass(v, "%s", "");
}

static bool cmd_assert_unlinkable(spec_session *ss, const spec_json *cmd, spec_verdict *v) {
    return expect_instantiation_error(ss, cmd, WP_ERR_LINK, v);
}

static bool cmd_assert_uninstantiable(spec_session *ss, const spec_json *cmd, spec_verdict *v) {
    return expect_instantiation_error(ss, cmd, WP_ERR_TRAP, v);
}

/* assert_trap and assert_exhaustion: the call traps and the message starts with text. */
static bool cmd_assert_trap(spec_session *ss, const spec_json *cmd, spec_verdict *v) {
    const char *text = str_or(cmd, "text", "");
    spec_run r;
    char got[512];
    if (spec_json_get(cmd, "filename")) /* a module whose instantiation traps */
        return expect_instantiation_error(ss, cmd, WP_ERR_TRAP, v);
    if (!run_action(ss, spec_json_get(cmd, "action"), &r) || r.outcome == SPEC_FAILED)
        return fail(v, "%s", r.msg);
    if (r.outcome == SPEC_RETURNED) {
        format_results(&r, got, sizeof got);
        return fail(v, "expected trap \"%s\", returned %s", text, got);
    }
    if (!spec_text_prefix(r.msg, text))
        return fail(v, "expected trap \"%s\", got trap \"%s\"", text, r.msg);
    return pass(v, "%s", "");
}

static bool cmd_module(spec_session *ss, const spec_json *cmd, spec_verdict *v) {
    const char *file = spec_json_get_str(cmd, "filename");
    const spec_json *name = string_member(cmd, "name");
    wp_module *m = NULL;
    wp_instance *inst = NULL;
    wp_err err;
    wp_status st = load_module(ss, file, &m, &err);
    if (st != WP_OK)
        fail(v, "decode %s: %s", file ? file : "?", err.msg);
    else if ((st = spec_instantiate(ss, m, &inst, &err)) != WP_OK)
        fail(v, "instantiate %s: %s", file, err.msg);
    else
        pass(v, "%s", "");
    wp_module_free(m); /* the instance holds its own reference */
    ss->current = st == WP_OK ? inst : NULL;
    if (name && spec_names_bind(&ss->named, name->str, name->len, ss->current, &err) != WP_OK)
        return fail(v, "%s", err.msg);
    return v->passed;
}

static bool cmd_register(spec_session *ss, const spec_json *cmd, spec_verdict *v) {
    const spec_json *as = string_member(cmd, "as");
    const spec_json *name = string_member(cmd, "name");
    wp_instance *inst = ss->current;
    wp_err err;
    v->counted = false;
    if (!as)
        return fail(v, "register needs \"as\"");
    if (name && !spec_names_find(&ss->named, name->str, name->len, &inst))
        return fail(v, "no module named %s", name->str);
    if (!inst)
        return fail(v, "no module to register (none yet, or it failed to load)");
    if (spec_names_bind(&ss->registered, as->str, as->len, inst, &err) != WP_OK)
        return fail(v, "%s", err.msg);
    return pass(v, "%s", "");
}

/* The module must be rejected as invalid; 'who' names the stage that had the last word. */
static bool reject_binary(const uint8_t *bytes, size_t len, const char *text, const char *who,
                          spec_verdict *v) {
    wp_module *m = NULL;
    wp_err err;
    wp_status st = wp_module_decode(bytes, len, &m, &err);
    if (st == WP_OK) {
        wp_module_free(m);
        return fail(v, "%s accepted the module (expected \"%s\")", who, text);
    }
    if (st != WP_ERR_INVALID)
        return fail(v, "%s failed with %s, not invalid: %s", who, wp_status_name(st), err.msg);
    return pass(v, "expected \"%s\", %s said \"%s\"", text, who, err.msg);
}

static bool reject_text(const char *src, size_t len, const char *text, spec_verdict *v) {
    uint8_t *bin = NULL;
    size_t bin_len = 0;
    wp_err err;
    wp_status st = wp_wat_to_wasm(src, len, &bin, &bin_len, &err);
    bool passed;
    if (st == WP_ERR_INVALID)
        passed = pass(v, "expected \"%s\", the text reader said \"%s\"", text, err.msg);
    else if (st == WP_OK)
        passed = reject_binary(bin, bin_len, text, "the decoder (after the text reader)", v);
    else
        passed = fail(v, "the text reader failed with %s, not invalid: %s", wp_status_name(st),
                      err.msg);
    wp_wat_free(bin);
    return passed;
}

/* assert_invalid and assert_malformed: the module must be rejected; texts are not compared. */
static bool cmd_assert_rejected(spec_session *ss, const spec_json *cmd, spec_verdict *v) {
    const char *file = spec_json_get_str(cmd, "filename");
    const char *text = str_or(cmd, "text", "");
    char *buf = NULL;
    size_t len = 0;
    wp_err err;
    if (!file)
        return fail(v, "the command names no module file");
    if (spec_read_file(ss, file, &buf, &len, &err) != WP_OK)
        return fail(v, "%s", err.msg);
    bool passed = strcmp(str_or(cmd, "module_type", "binary"), "text") == 0
                      ? reject_text(buf, len, text, v)
                      : reject_binary((const uint8_t *)buf, len, text, "the decoder", v);
    free(buf);
    return passed;
}

typedef bool (*command_fn)(spec_session *ss, const spec_json *cmd, spec_verdict *v);

static const struct {
    const char *type;
    command_fn run;
} commands[] = {
    {"module", cmd_module},
    {"register", cmd_register},
    {"action", cmd_action},
    {"assert_return", cmd_assert_return},
    {"assert_trap", cmd_assert_trap},
    {"assert_exhaustion", cmd_assert_trap}, /* the same check: a trap with that text */
    {"assert_invalid", cmd_assert_rejected},
    {"assert_malformed", cmd_assert_rejected},
    {"assert_unlinkable", cmd_assert_unlinkable},
    {"assert_uninstantiable", cmd_assert_uninstantiable},
};

bool spec_command_counted(const spec_json *cmd) {
    const char *type = spec_json_get_str(cmd, "type");
    return !type || strcmp(type, "register") != 0;
}

void spec_command_run(spec_session *ss, const spec_json *cmd, spec_verdict *v) {
    const char *type = spec_json_get_str(cmd, "type");
    v->counted = spec_command_counted(cmd);
    v->passed = false;
    v->why[0] = '\0';
    for (size_t i = 0; type && i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(type, commands[i].type) == 0) {
            commands[i].run(ss, cmd, v);
            return;
        }
    }
    fail(v, "unknown command type \"%s\"", type ? type : "(none)");
}
