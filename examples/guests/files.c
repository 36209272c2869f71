/* files.c: the files command, a WASI command (_start): with no arguments it lists the mounted
 * directory /data; with names it prints those files from it. The mount is read-only, so a
 * write fails (try `wippy run files --touch`). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static int list(void) {
    DIR *d = opendir("/data");
    if (!d) {
        fprintf(stderr, "files: /data: %s\n", strerror(errno));
        return 1;
    }
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            printf("%s\n", de->d_name);
    closedir(d);
    return 0;
}

static int show(const char *name) {
    char path[512];
    snprintf(path, sizeof path, "/data/%s", name);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "files: %s: %s\n", path, strerror(errno));
        return 1;
    }
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, n, stdout);
    fclose(f);
    return 0;
}

static int touch(void) {
    FILE *f = fopen("/data/new.txt", "w");
    if (!f) {
        printf("files: cannot write /data/new.txt: %s\n", strerror(errno));
        return 0;
    }
    fclose(f);
    printf("files: wrote /data/new.txt\n");
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 2)
        return list();
    if (strcmp(argv[1], "--touch") == 0)
        return touch();
    int status = 0;
    for (int i = 1; i < argc; i++)
        status |= show(argv[i]);
    return status;
}
