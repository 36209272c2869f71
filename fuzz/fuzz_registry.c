/* fuzz_registry.c: libFuzzer target over a definition file: the input is written as the only
 * YAML file of a project, which is loaded and validated; then every problem, entry, datum and
 * command is read back. Any input must give a registry (problems are normal) and never crash
 * or leak. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wippy/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char project[256];
static char file[300];
static FILE *sink;

static void cleanup(void) {
    char src[300];
    snprintf(src, sizeof src, "%s/src", project);
    unlink(file);
    rmdir(src);
    rmdir(project);
}

static void setup(void) {
    snprintf(project, sizeof project, "%s/wippy-fuzz-registry-%d",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
    char src[300];
    snprintf(src, sizeof src, "%s/src", project);
    mkdir(project, 0755);
    mkdir(src, 0755);
    snprintf(file, sizeof file, "%s/defs.yaml", src);
    sink = fopen("/dev/null", "w");
    atexit(cleanup);
}

static void read_back(wp_registry *reg) {
    for (uint32_t i = 0; i < wp_registry_problem_count(reg); i++) {
        const wp_problem *p = wp_registry_problem(reg, i);
        fprintf(sink, "%s:%u %s %s %s\n", p->file, p->line, p->entry ? p->entry : "",
                p->field ? p->field : "", p->reason);
    }
    for (uint32_t i = 0; i < wp_registry_entry_count(reg); i++) {
        const wp_entry *e = wp_registry_entry_at(reg, i);
        wp_value copy;
        if (wp_value_copy(&copy, wp_entry_data(e)) == WP_OK)
            wp_value_print(sink, &copy);
        wp_value_free(&copy);
        fprintf(sink, "%s %s %s:%u\n", wp_entry_id(e), wp_entry_kind(e), wp_entry_file(e),
                wp_entry_line(e));
    }
    for (uint32_t i = 0; i < wp_registry_command_count(reg); i++)
        fprintf(sink, "%s\n", wp_registry_command_at(reg, i)->name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!sink)
        setup();
    FILE *f = fopen(file, "wb");
    if (!f)
        abort();
    fwrite(data, 1, size, f);
    fclose(f);
    wp_registry_options o = {.project_dir = project};
    wp_registry *reg = NULL;
    wp_err err = {0};
    if (wp_registry_load(&o, &reg, &err) != WP_OK) {
        fprintf(stderr, "fuzz: a project with a src directory did not load: %s\n", err.msg);
        abort();
    }
    read_back(reg);
    wp_registry_free(reg);
    return 0;
}
