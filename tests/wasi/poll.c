/* poll.c: waits on stdin with poll(): first with a short timeout while nothing has come,
 * then until data arrives; reads it; yields with sched_yield in between. */
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>

int main(void) {
    struct pollfd p = {.fd = 0, .events = POLLIN};
    int n = poll(&p, 1, 50);
    printf("first poll: %s\n", n == 0 ? "timeout" : n > 0 ? "ready" : "error");
    printf("sched_yield: %d\n", sched_yield());
    n = poll(&p, 1, 10000);
    printf("second poll: %s\n", n == 1 && (p.revents & POLLIN) ? "readable" : "WRONG");
    char buf[64];
    ssize_t got = read(0, buf, sizeof buf);
    printf("read %zd: %.*s", got, (int)(got > 0 ? got : 0), buf);
    struct pollfd out = {.fd = 1, .events = POLLOUT};
    n = poll(&out, 1, 1000);
    printf("stdout writable: %s\n", n == 1 && (out.revents & POLLOUT) ? "yes" : "no");
    return 0;
}
