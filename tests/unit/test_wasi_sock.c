/* test_wasi_sock.c: a C guest (tests/wasi/sock.c) serving one connection on a listening
 * socket lent to it, driven step by step through the public pending/complete protocol: each
 * blocking call (accept, recv) goes pending on the right host descriptor and completes once
 * the test, playing the client, makes it ready. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "test.h"
#include "wippy/wasi.h"

typedef struct env {
    char dir[64];
    int listener;
    int out; /* the guest's stdout: a file */
    wp_wasi *w;
    wp_store *s;
    wp_module *m;
    wp_exec *x;
} env;

static bool listen_unix(env *e, struct sockaddr_un *addr) {
    snprintf(e->dir, sizeof e->dir, "/tmp/wippy-sock.XXXXXX");
    if (!mkdtemp(e->dir))
        return false;
    *addr = (struct sockaddr_un){.sun_family = AF_UNIX};
    snprintf(addr->sun_path, sizeof addr->sun_path, "%s/s", e->dir);
    e->listener = socket(AF_UNIX, SOCK_STREAM, 0);
    return e->listener >= 0 && bind(e->listener, (struct sockaddr *)addr, sizeof *addr) == 0 &&
           listen(e->listener, 1) == 0;
}

static bool start_guest(env *e) {
    char path[512];
    snprintf(path, sizeof path, "%s/sock.wasm", WP_TEST_WASI_GUESTS);
    size_t len = 0;
    unsigned char *bytes = test_read_file(path, &len);
    if (!bytes) {
        fprintf(stderr, "missing guest %s\n", path);
        return false;
    }
    snprintf(path, sizeof path, "%s/out", e->dir);
    e->out = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
    const char *args[] = {"sock"};
    wp_wasi_config cfg;
    wp_wasi_config_init(&cfg);
    cfg.args = args;
    cfg.nargs = 1;
    cfg.stdout_fd = e->out;
    cfg.sockets = &e->listener;
    cfg.nsockets = 1;
    wp_err err;
    wp_extern imports[64];
    wp_instance *inst = NULL;
    wp_extern start;
    bool ok = wp_module_decode(bytes, len, &e->m, &err) == WP_OK &&
              wp_module_import_count(e->m) <= 64 && wp_wasi_new(&cfg, &e->w, &err) == WP_OK &&
              wp_store_new(NULL, &e->s, &err) == WP_OK &&
              wp_wasi_link(e->w, e->s, e->m, imports, &err) == WP_OK &&
              wp_instance_new(e->s, e->m, imports, wp_module_import_count(e->m), &inst, &err) ==
                  WP_OK &&
              wp_exec_new(e->s, &e->x, &err) == WP_OK &&
              wp_instance_export(inst, "_start", 6, &start) &&
              wp_exec_begin(e->x, start.of.func, NULL, 0, &err) == WP_OK;
    free(bytes);
    if (!ok)
        fprintf(stderr, "guest: %s\n", err.msg);
    return ok;
}

/* The guest is waiting to read 'fd' (or not, when fd is -1: another descriptor). */
static bool waits_on(env *e, int fd) {
    wp_wasi_wait wt;
    if (!wp_wasi_pending(e->w, &wt) || wt.nfds != 1 || wt.fds[0].events != WP_WASI_READABLE)
        return false;
    return fd < 0 ? wt.fds[0].fd != e->listener : wt.fds[0].fd == fd;
}

static bool complete(env *e) {
    bool done = false;
    wp_err err;
    return wp_wasi_complete(e->w, e->x, &done, &err) == WP_OK && done;
}

static void test_serve_one(void) {
    env e = {.listener = -1, .out = -1};
    struct sockaddr_un addr;
    if (!listen_unix(&e, &addr) || !start_guest(&e)) {
        CHECK(false);
        return;
    }
    /* accept: nothing yet, so it waits on the listener. */
    CHECK_EQ(wp_exec_run(e.x, WP_BUDGET_UNLIMITED), WP_RUN_PENDING);
    CHECK(waits_on(&e, e.listener));
    bool done = true;
    wp_err err;
    CHECK_EQ(wp_wasi_complete(e.w, e.x, &done, &err), WP_OK);
    CHECK(!done);
    int client = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_EQ(connect(client, (struct sockaddr *)&addr, sizeof addr), 0);
    CHECK(complete(&e));
    /* recv: waits on the accepted connection until the client sends. */
    CHECK_EQ(wp_exec_run(e.x, WP_BUDGET_UNLIMITED), WP_RUN_PENDING);
    CHECK(waits_on(&e, -1));
    CHECK_EQ(send(client, "hello", 5, 0), 5);
    CHECK(complete(&e));
    /* It answers, shuts its side, and waits for the client to close. */
    CHECK_EQ(wp_exec_run(e.x, WP_BUDGET_UNLIMITED), WP_RUN_PENDING);
    char got[16] = {0};
    CHECK_EQ(recv(client, got, sizeof got, 0), 5);
    CHECK(memcmp(got, "HELLO", 5) == 0);
    CHECK_EQ(recv(client, got, sizeof got, 0), 0); /* the guest's shutdown */
    close(client);
    CHECK(complete(&e));
    CHECK_EQ(wp_exec_run(e.x, WP_BUDGET_UNLIMITED), WP_RUN_DONE);
    char out[512] = {0};
    CHECK(pread(e.out, out, sizeof out - 1, 0) > 0);
    CHECK(strcmp(out, "accept: 0\n"
                      "recv: 5 [hello]\n"
                      "send: 5\n"
                      "shutdown: 0\n"
                      "recv after peer closed: 0\n"
                      "recv on fd 1: 1\n"
                      "close: 0\n") == 0);
    if (strstr(out, "close: 0") == NULL)
        fprintf(stderr, "guest said:\n%s", out);
    wp_store_free(e.s);
    wp_wasi_free(e.w);
    wp_module_free(e.m);
    close(e.out);
    close(e.listener);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", e.dir);
    CHECK_EQ(system(cmd), 0);
}

int main(void) {
    RUN_TEST(test_serve_one);
    return TEST_EXIT();
}
