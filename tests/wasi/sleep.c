/* sleep.c: sleeps argv[1] milliseconds in several ways (nanosleep, clock_nanosleep relative
 * and absolute, poll with no descriptors) and checks each took at least that long. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long long now_ns(clockid_t c) {
    struct timespec ts;
    clock_gettime(c, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void check(const char *how, long long start, long long ms) {
    long long took = (now_ns(CLOCK_MONOTONIC) - start) / 1000000;
    printf("%-24s %s\n", how, took >= ms && took < ms + 2000 ? "ok" : "WRONG");
    if (took < ms || took >= ms + 2000)
        printf("  took %lld ms, wanted %lld\n", took, ms);
}

int main(int argc, char **argv) {
    long long ms = argc > 1 ? atoll(argv[1]) : 100;
    struct timespec d = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
    long long t = now_ns(CLOCK_MONOTONIC);
    nanosleep(&d, NULL);
    check("nanosleep", t, ms);
    t = now_ns(CLOCK_MONOTONIC);
    clock_nanosleep(CLOCK_MONOTONIC, 0, &d, NULL);
    check("clock_nanosleep", t, ms);
    t = now_ns(CLOCK_MONOTONIC);
    long long until = now_ns(CLOCK_REALTIME) + ms * 1000000;
    struct timespec abs = {(time_t)(until / 1000000000), (long)(until % 1000000000)};
    clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &abs, NULL);
    check("clock_nanosleep abstime", t, ms);
    t = now_ns(CLOCK_MONOTONIC);
    poll(NULL, 0, (int)ms);
    check("poll", t, ms);
    return 0;
}
