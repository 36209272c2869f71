/* heartbeat.c: the example's supervised service, a WASI command (_start): once a second it
 * appends "beat N" to /state/heartbeat.log. With an argument K (its service's input) it
 * crashes after K beats, so `wippy run -v` shows the supervisor restarting it. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
    long limit = argc > 1 ? strtol(argv[1], NULL, 10) : 0;
    for (long n = 1;; n++) {
        FILE *f = fopen("/state/heartbeat.log", "a");
        if (!f) {
            perror("heartbeat: /state/heartbeat.log");
            return 1;
        }
        fprintf(f, "beat %ld\n", n);
        fclose(f);
        if (limit > 0 && n >= limit)
            __builtin_trap(); /* a crash: the supervisor restarts it after its delay */
        sleep(1);
    }
}
