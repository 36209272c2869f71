/* test_registry.c: loading projects (wippy.lock, scanning, files and lines, typed entry data),
 * problems, boot order, commands, env storages (os, static, memory, file, router) and the
 * process behaviour run through a prepared entry. */
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "wippy/registry.h"

static char root[256];

static void write_file(const char *rel, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1; *p; p++) { /* mkdir -p the parents */
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0755);
            *p = '/';
        }
    }
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static char *read_back(const char *rel) {
    char path[512];
    size_t len = 0;
    snprintf(path, sizeof path, "%s/%s", root, rel);
    unsigned char *bytes = test_read_file(path, &len);
    char *text = bytes ? realloc(bytes, len + 1) : NULL; /* as a C string */
    if (!text)
        free(bytes);
    else
        text[len] = '\0';
    return text;
}

static void fresh_project(void) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", root, root);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot make %s\n", root);
}

static wp_registry *load(void) {
    wp_registry_options o = {.project_dir = root};
    wp_registry *reg = NULL;
    wp_err err = {0};
    if (wp_registry_load(&o, &reg, &err) != WP_OK)
        fprintf(stderr, "load: %s\n", err.msg);
    return reg;
}

static void dump_problems(const wp_registry *reg) {
    for (uint32_t i = 0; i < wp_registry_problem_count(reg); i++) {
        const wp_problem *p = wp_registry_problem(reg, i);
        fprintf(stderr, "  problem %s:%u %s %s: %s\n", p->file, p->line, p->entry ? p->entry : "-",
                p->field ? p->field : "-", p->reason);
    }
}

static void test_loading(void) {
    fresh_project();
    write_file("wippy.lock", "directories:\n  src: ./defs\n  modules: .mods\n");
    write_file("defs/_index.yaml", "version: \"1.0\"\n"
                                   "namespace: app\n"
                                   "entries:\n"
                                   "  - name: cfg\n" /* line 4 */
                                   "    kind: registry.entry\n"
                                   "    count: 3\n"
                                   "    ratio: 0.5\n"
                                   "    on: true\n"
                                   "    none: ~\n"
                                   "    quoted: \"123\"\n"
                                   "    hex: 0x1f\n"
                                   "    list: [a, 2]\n"
                                   "  - name: term\n" /* line 13 */
                                   "    kind: terminal.host\n");
    write_file("defs/deep/more.yaml", "namespace: app.deep\nname: solo\nkind: process.host\n");
    write_file(".mods/vendor/x.yaml",
               "namespace: vendor\nentries:\n  - {name: v, kind: os.thing}\n");
    write_file("defs/other.yml", "title: not definitions\n");
    wp_registry *reg = load();
    if (!reg)
        return;
    dump_problems(reg);
    CHECK_EQ(wp_registry_problem_count(reg), 0);
    CHECK_EQ(wp_registry_entry_count(reg), 4);
    const wp_entry *cfg = wp_registry_find(reg, "app:cfg");
    CHECK(cfg != NULL);
    if (!cfg) {
        wp_registry_free(reg);
        return;
    }
    CHECK(strcmp(wp_entry_file(cfg), "defs/_index.yaml") == 0);
    CHECK_EQ(wp_entry_line(cfg), 4);
    CHECK_EQ(wp_entry_line(wp_registry_find(reg, "app:term")), 13);
    CHECK(strcmp(wp_entry_kind(cfg), "registry.entry") == 0);
    const wp_value *d = wp_entry_data(cfg);
    CHECK(wp_value_map_get(d, "count")->kind == WP_VINT && wp_value_map_get(d, "count")->of.i == 3);
    CHECK(wp_value_map_get(d, "ratio")->kind == WP_VFLOAT);
    CHECK(wp_value_map_get(d, "on")->kind == WP_VBOOL && wp_value_map_get(d, "on")->of.b);
    CHECK(wp_value_map_get(d, "none")->kind == WP_VNIL);
    CHECK(wp_value_map_get(d, "quoted")->kind == WP_VSTRING); /* quoted: never a number */
    CHECK_EQ(wp_value_map_get(d, "hex")->of.i, 31);
    CHECK_EQ(wp_value_len(wp_value_map_get(d, "list")), 2);
    /* A single top-level entry; the modules directory; unknown kinds are kept. */
    CHECK(wp_registry_find(reg, "app.deep:solo") != NULL);
    CHECK(wp_registry_find(reg, "vendor:v") != NULL);
    CHECK(wp_registry_find(reg, "app:none") == NULL);
    wp_registry_free(reg);
}

static void test_problems_and_order(void) {
    fresh_project();
    write_file("src/b.yaml", "namespace: b\nentries:\n  - name: x\n    kind: env.variable\n"
                             "    storage: a:store\n  - name: y\n    kind: env.variable\n");
    write_file("src/a.yaml", "namespace: a\nentries:\n  - {name: store, kind: env.storage.memory}\n"
                             "  - {name: bad, kind: fs.directory}\n");
    wp_registry *reg = load();
    if (!reg)
        return;
    CHECK_EQ(wp_registry_problem_count(reg), 2);
    const wp_problem *p0 = wp_registry_problem(reg, 0);
    const wp_problem *p1 = wp_registry_problem(reg, 1);
    if (p0 && p1) { /* sorted by file, then line */
        CHECK(strcmp(p0->file, "src/a.yaml") == 0);
        CHECK_EQ(p0->line, 4);
        CHECK(strcmp(p0->entry, "a:bad") == 0);
        CHECK(strcmp(p0->field, "directory") == 0);
        CHECK(strcmp(p0->reason, "directory is required") == 0);
        CHECK(strcmp(p1->file, "src/b.yaml") == 0);
        CHECK(strcmp(p1->reason, "storage is required") == 0);
    }
    /* Boot order: the storage before the variable that uses it. */
    uint32_t store_at = 99;
    uint32_t var_at = 0;
    for (uint32_t i = 0; i < wp_registry_entry_count(reg); i++) {
        const char *id = wp_entry_id(wp_registry_entry_at(reg, i));
        if (strcmp(id, "a:store") == 0)
            store_at = i;
        if (strcmp(id, "b:x") == 0)
            var_at = i;
    }
    CHECK(store_at < var_at);
    wp_registry_free(reg);

    /* No project, no source directory: no registry at all. */
    wp_registry_options o = {.project_dir = "/nonexistent/project"};
    wp_err err = {0};
    CHECK_EQ(wp_registry_load(&o, &reg, &err), WP_ERR_NOT_FOUND);
    CHECK(reg == NULL);
    fresh_project();
    o.project_dir = root;
    CHECK_EQ(wp_registry_load(&o, &reg, &err), WP_ERR_NOT_FOUND);
    CHECK_STR_CONTAINS(err.msg, "no source directory");
}

/* Aliases cannot make a small file into a huge value. */
static void test_alias_bomb(void) {
    fresh_project();
    char text[4096] = "namespace: x\nentries:\n  - name: e\n    kind: registry.entry\n"
                      "    a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n";
    for (int i = 1; i < 10; i++) {
        char line[160];
        snprintf(line, sizeof line,
                 "    a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i,
                 i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
        strcat(text, line);
    }
    write_file("src/x.yaml", text);
    wp_registry *reg = load();
    if (!reg)
        return;
    CHECK_EQ(wp_registry_problem_count(reg), 1);
    if (wp_registry_problem_count(reg))
        CHECK_STR_CONTAINS(wp_registry_problem(reg, 0)->reason, "through aliases");
    wp_registry_free(reg);
}

static void test_env(void) {
    fresh_project();
    write_file("conf/app.env", "# settings\nexport FILE_A=from file\nQUOTED=\"a\\nb\"\n"
                               "BARE=x # comment\n");
    write_file("src/_index.yaml",
               "namespace: env\nentries:\n"
               "  - {name: os, kind: env.storage.os}\n"
               "  - name: fixed\n    kind: env.storage.static\n    values: {STATIC_A: one}\n"
               "  - {name: mem, kind: env.storage.memory}\n"
               "  - {name: file, kind: env.storage.file, file_path: conf/app.env}\n"
               "  - {name: new_file, kind: env.storage.file, file_path: out/new.env,"
               " auto_create: true, file_mode: '0600'}\n"
               "  - {name: chain, kind: env.storage.router, storages: [mem, fixed, os]}\n"
               "  - {name: a, kind: env.variable, variable: STATIC_A, storage: chain}\n"
               "  - {name: b, kind: env.variable, variable: WIPPY_TEST_OS, storage: chain}\n"
               "  - {name: c, kind: env.variable, variable: FILE_A, storage: file}\n"
               "  - {name: q, kind: env.variable, variable: QUOTED, storage: file}\n"
               "  - {name: bare, kind: env.variable, variable: BARE, storage: file}\n"
               "  - {name: d, kind: env.variable, storage: mem, default: dflt}\n"
               "  - {name: ro, kind: env.variable, storage: mem, readonly: true}\n"
               "  - {name: n, kind: env.variable, variable: NEW, storage: new_file}\n"
               "  - {name: s, kind: env.variable, variable: STATIC_A, storage: fixed}\n");
    setenv("WIPPY_TEST_OS", "from os", 1);
    wp_registry *reg = load();
    if (!reg)
        return;
    dump_problems(reg);
    CHECK_EQ(wp_registry_problem_count(reg), 1); /* s's public name is a's */
    wp_value v;
    wp_err err = {0};
    static const struct {
        const char *var;
        const char *want;
    } gets[] = {{"env:a", "one"},        {"STATIC_A", "one"}, {"env:b", "from os"},
                {"FILE_A", "from file"}, {"env:q", "a\nb"},   {"env:bare", "x"},
                {"env:d", "dflt"}};
    for (size_t i = 0; i < sizeof gets / sizeof gets[0]; i++) {
        CHECK_EQ(wp_registry_env_get(reg, gets[i].var, &v, &err), WP_OK);
        const char *s = wp_value_str(&v, NULL);
        if (!s || strcmp(s, gets[i].want) != 0)
            fprintf(stderr, "%s = %s, want %s\n", gets[i].var, s ? s : "(none)", gets[i].want);
        CHECK(s && strcmp(s, gets[i].want) == 0);
        wp_value_free(&v);
    }
    /* The router reads in order: memory first once it has the value. */
    CHECK_EQ(wp_registry_env_set(reg, "env:a", "override", &err), WP_OK);
    CHECK_EQ(wp_registry_env_get(reg, "STATIC_A", &v, &err), WP_OK);
    CHECK(strcmp(wp_value_str(&v, NULL), "override") == 0);
    wp_value_free(&v);
    /* Read-only places. */
    CHECK_EQ(wp_registry_env_set(reg, "env:ro", "x", &err), WP_ERR_PERMISSION_DENIED);
    CHECK_STR_CONTAINS(err.msg, "variable env:ro is read-only");
    CHECK_EQ(wp_registry_env_set(reg, "env:s", "x", &err), WP_ERR_PERMISSION_DENIED);
    CHECK_STR_CONTAINS(err.msg, "storage env:fixed is read-only");
    CHECK_EQ(wp_registry_env_get(reg, "env:ro", &v, &err), WP_ERR_NOT_FOUND); /* no value yet */
    CHECK_EQ(wp_registry_env_get(reg, "NOPE", &v, &err), WP_ERR_NOT_FOUND);
    CHECK_STR_CONTAINS(err.msg, "env variable NOPE not found");
    /* A file storage writes its file, creating it, and reads it back. */
    CHECK_EQ(wp_registry_env_set(reg, "NEW", "two words", &err), WP_OK);
    char *text = read_back("out/new.env");
    CHECK(text && strcmp(text, "NEW=\"two words\"\n") == 0);
    free(text);
    char path[512];
    struct stat sb;
    snprintf(path, sizeof path, "%s/out/new.env", root);
    CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
    CHECK_EQ(wp_registry_env_get(reg, "NEW", &v, &err), WP_OK);
    CHECK(strcmp(wp_value_str(&v, NULL), "two words") == 0);
    wp_value_free(&v);
    CHECK_EQ(wp_registry_env_set(reg, "FILE_A", "changed", &err), WP_OK);
    text = read_back("conf/app.env");
    CHECK_STR_CONTAINS(text, "FILE_A=changed\n");
    CHECK_STR_CONTAINS(text, "QUOTED=\"a\\nb\"\n"); /* the others are kept */
    free(text);
    wp_registry_free(reg);
    unsetenv("WIPPY_TEST_OS");
}

/* A prepared entry runs through the process behaviour: small budgets give BUDGET steps, the
 * result comes at the end; commands and hosts are found. */
static void test_run_entry(void) {
    fresh_project();
    write_file("src/_index.yaml",
               "namespace: t\nentries:\n"
               "  - {name: term, kind: terminal.host}\n"
               "  - name: count\n    kind: function.wat\n"
               "    source: |\n"
               "      (module (func (export \"count\") (param i32) (result i32) (local i32)\n"
               "        (loop (local.set 1 (i32.add (local.get 1) (i32.const 1)))\n"
               "              (br_if 0 (i32.lt_u (local.get 1) (local.get 0))))\n"
               "        (local.get 1)))\n"
               "    method: count\n"
               "    wit: 'count: func(n: u32) -> u32;'\n"
               "  - name: z\n    kind: process.wasm\n    meta: {command: {name: zzz}}\n"
               "  - name: a\n    kind: process.wasm\n    meta: {command: {name: aaa, short: A}}\n");
    wp_registry *reg = load();
    if (!reg)
        return;
    CHECK_EQ(wp_registry_command_count(reg), 2);
    CHECK(strcmp(wp_registry_command_at(reg, 0)->name, "aaa") == 0); /* sorted */
    CHECK(strcmp(wp_registry_command_at(reg, 0)->short_text, "A") == 0);
    CHECK(strcmp(wp_registry_command_at(reg, 1)->short_text, "") == 0);
    CHECK(wp_registry_find_command(reg, "zzz")->entry == wp_registry_find(reg, "t:z"));
    const wp_entry *host = NULL;
    wp_err err = {0};
    CHECK_EQ(wp_registry_terminal_host(reg, NULL, &host, &err), WP_OK);
    CHECK(host == wp_registry_find(reg, "t:term"));

    wp_process_spec *spec = NULL;
    CHECK_EQ(wp_registry_prepare(reg, wp_registry_find(reg, "t:z"), &spec, &err), WP_ERR_INVALID);
    CHECK_EQ(wp_registry_prepare(reg, host, &spec, &err), WP_ERR_INVALID);
    CHECK_EQ(wp_registry_prepare(reg, wp_registry_find(reg, "t:count"), &spec, &err), WP_OK);
    wp_value arg = wp_value_int(100000);
    wp_proc *p = NULL;
    CHECK_EQ(wp_proc_new(wp_process_spec_behavior(spec), wp_process_spec_config(spec), &arg, 1, &p,
                         &err),
             WP_OK);
    int budget_steps = 0;
    wp_step s;
    while (p && (s = wp_proc_step(p, 1000)) == WP_STEP_BUDGET)
        budget_steps++;
    CHECK(budget_steps > 50); /* 100,000 back-edges in slices of 1,000 */
    CHECK(p && wp_proc_done(p));
    CHECK(p && wp_proc_result(p)->kind == WP_VINT && wp_proc_result(p)->of.i == 100000);
    CHECK(p && wp_proc_step(p, 1000) == WP_STEP_DONE); /* done stays done */
    wp_proc_free(p);

    /* Cancel makes it done with an error result. */
    CHECK_EQ(wp_proc_new(wp_process_spec_behavior(spec), wp_process_spec_config(spec), &arg, 1, &p,
                         &err),
             WP_OK);
    CHECK(wp_proc_step(p, 10) == WP_STEP_BUDGET);
    bool ready = true;
    CHECK_EQ(wp_proc_wake(p, &ready, &err), WP_ERR_INVALID); /* nothing waits */
    wp_proc_cancel(p, WP_ERR_CANCELED, "stop");
    CHECK(wp_proc_done(p));
    CHECK_EQ(wp_value_error_kind(wp_proc_result(p)), WP_ERR_CANCELED);
    wp_value taken;
    wp_proc_take_result(p, &taken);
    CHECK_EQ(wp_value_error_kind(&taken), WP_ERR_CANCELED);
    CHECK_EQ(wp_proc_result(p)->kind, WP_VNIL);
    wp_value_free(&taken);
    wp_proc_free(p);

    /* The terminal runner: a timeout cancels a long run. */
    wp_value big = wp_value_int(2000000000);
    CHECK_EQ(wp_proc_new(wp_process_spec_behavior(spec), wp_process_spec_config(spec), &big, 1, &p,
                         &err),
             WP_OK);
    CHECK_EQ(wp_terminal_run(p, 50, &err), WP_OK);
    CHECK_EQ(wp_value_error_kind(wp_proc_result(p)), WP_ERR_TIMEOUT);
    wp_proc_free(p);
    wp_process_spec_free(spec);
    wp_registry_free(reg);
}

int main(void) {
    snprintf(root, sizeof root, "%s/wippy-test-registry-%d",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
    RUN_TEST(test_loading);
    RUN_TEST(test_problems_and_order);
    RUN_TEST(test_alias_bomb);
    RUN_TEST(test_env);
    RUN_TEST(test_run_entry);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", root);
    return TEST_EXIT();
}
