/* clocks.c: the four clocks: realtime near the host's time (argv[1], seconds since the
 * epoch), monotonic never going back, CPU time advancing with work, resolutions non-zero. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long long ns(clockid_t c) {
    struct timespec ts;
    if (clock_gettime(c, &ts) != 0)
        return -1;
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void res(const char *name, clockid_t c) {
    struct timespec ts;
    int rc = clock_getres(c, &ts);
    long long r = ts.tv_sec * 1000000000LL + ts.tv_nsec;
    printf("resolution %-10s %s\n", name, rc == 0 && r > 0 && r <= 10000000 ? "ok" : "WRONG");
}

int main(int argc, char **argv) {
    long long host = argc > 1 ? atoll(argv[1]) : 0;
    long long real = ns(CLOCK_REALTIME) / 1000000000;
    printf("realtime near host  %s\n", real >= host - 5 && real <= host + 5 ? "ok" : "WRONG");
    time_t now = time(NULL);
    printf("time()              %s\n", now >= host - 5 && now <= host + 5 ? "ok" : "WRONG");
    long long last = ns(CLOCK_MONOTONIC);
    int back = 0;
    for (int i = 0; i < 10000; i++) {
        long long t = ns(CLOCK_MONOTONIC);
        back += t < last;
        last = t;
    }
    printf("monotonic           %s\n", back == 0 && last > 0 ? "ok" : "WRONG");
    long long cpu0 = ns(CLOCK_PROCESS_CPUTIME_ID);
    long long th0 = ns(CLOCK_THREAD_CPUTIME_ID);
    volatile unsigned long x = 0;
    for (unsigned long i = 0; i < 2000000; i++)
        x += i ^ (x >> 3);
    long long cpu1 = ns(CLOCK_PROCESS_CPUTIME_ID);
    long long th1 = ns(CLOCK_THREAD_CPUTIME_ID);
    printf("process cpu time    %s\n", cpu0 >= 0 && cpu1 > cpu0 ? "ok" : "WRONG");
    printf("thread cpu time     %s\n", th0 >= 0 && th1 > th0 ? "ok" : "WRONG");
    res("realtime", CLOCK_REALTIME);
    res("monotonic", CLOCK_MONOTONIC);
    res("process", CLOCK_PROCESS_CPUTIME_ID);
    res("thread", CLOCK_THREAD_CPUTIME_ID);
    return 0;
}
